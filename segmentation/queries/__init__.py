"""The segmentation app's hand-written SQL, and only there (PostgreSQL only).

One module per concern: ``economics`` (cost to serve and quadrants of many accounts),
``evaluation`` (what an evaluation batch reads), ``bulk_writes`` (what it writes), ``reviews``
(the review's pre-filter), ``summaries`` (the review's summary tables). Each function is named for
what it returns, takes keyword-only arguments and sends named parameters; identifiers are composed
with ``psycopg.sql``. A function that mirrors a Python rule says so, and
tests/segmentation/test_queries_agree.py proves they agree.
"""
