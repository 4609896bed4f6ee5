"""Models of the engagement app, one module per sub-domain; each is imported here."""
