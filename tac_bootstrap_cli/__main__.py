"""Allow ``python -m tac_bootstrap_cli``."""

from tac_bootstrap_cli.cli import main

main()
