"""Touchpoints (what CS did with a customer) and the account timeline."""
