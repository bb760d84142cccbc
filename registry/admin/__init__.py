"""The registry's admin, one module per flow: reference data, registration applications, facilities and
their places of service with the state register, people and their jobs; `history` gives facilities,
places, people, employees and invitations their read-only pages of versions (who, when, what changed)."""

from . import facilities, people, reference, registration  # noqa: F401  (each registers its models)
