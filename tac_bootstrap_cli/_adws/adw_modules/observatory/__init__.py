"""The observatory: a live, read-only local web page over a run-log database.

``store`` reads the database (standard library only), ``svg`` draws the charts, ``app`` is the
Starlette app (pages, JSON API, server-sent events) and ``server`` runs it with uvicorn. Used by
``tac-bootstrap observe`` and by a generated project's ``adws/adw_observe.py``; nothing else
imports it, so the web stack is loaded only there (see specs/observatory.md).
"""
