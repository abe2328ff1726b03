"""``tac-bootstrap observe``: finds the database to serve (``server``); the app itself lives in
``tac_bootstrap_cli._adws.adw_modules.observatory``, shared with generated projects. Only ``observe`` imports it."""
