"""The application package."""


def greeting(name: str = "world") -> str:
    """The text the application prints."""
    return f"Hello, {name}!"
