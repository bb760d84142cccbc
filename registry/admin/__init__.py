"""The registry's admin, one module per flow: reference data, registration applications, facilities and
the state register, people and their jobs."""

from . import facilities, people, reference, registration  # noqa: F401  (each registers its models)
