"""tac-bootstrap: add an agentic layer to any software project."""

__version__ = "0.1.0"
