"""The observatory: a live, read-only local web page over a run-log database.

``store`` reads the database (standard library only), ``svg`` draws the charts, ``app`` is the
Starlette app (pages, JSON API, server-sent events) and ``server`` finds the database and runs
uvicorn. Only the ``observe`` command imports this package (see specs/observatory.md).
"""
