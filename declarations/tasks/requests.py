"""Tasks of declaration requests."""

__all__ = []
