"""Base modules: orchestrator models, SQLite persistence and workflow logging."""
