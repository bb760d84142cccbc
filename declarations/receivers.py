"""What the declarations app does on registry events (`registry.signals`)."""
