"""Browser fixtures live in tests/browser_fixtures.py, shared with the CSP browser test."""
