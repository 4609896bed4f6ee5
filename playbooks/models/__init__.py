"""Models of the playbooks app, one module per sub-domain; each is imported here."""
