"""The monitoring admin ("Моніторинг ЦНАП"), one module per flow: the registers, connecting systems and
pulling from them, and what the pulls brought (runs, quarantine, appeals)."""

from . import pulls, registers, systems  # noqa: F401  (each registers its models)
