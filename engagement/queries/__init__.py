"""The engagement app's hand-written SQL, and only here: one module per capability.

Each function is named for what it reads or writes, takes keyword-only arguments and sends named
parameters (``%(name)s``); identifiers go through ``psycopg.sql``. Its docstring says which Python
rule it mirrors and why it is SQL; a test checks that both agree (tests/engagement/
test_queries_agree.py). Services and selectors call these functions; they hold no SQL themselves.
"""
