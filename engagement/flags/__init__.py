"""Account flags: temporary signals from usage, champions and renewals that raise an account's priority."""
