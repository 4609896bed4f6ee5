"""Services of the playbooks app: every write and every rule, one module per sub-domain."""
