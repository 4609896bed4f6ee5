"""Services of the engagement app: every write and every rule, one module per sub-domain."""
