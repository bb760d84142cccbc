"""Tasks of SMS."""

__all__ = []
