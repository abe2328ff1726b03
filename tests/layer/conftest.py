"""Fixtures of the agentic-layer tests (the helpers live in layer_support.py)."""

from layer_support import uv

__all__ = ["uv"]
