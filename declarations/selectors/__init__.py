"""Reads of the declarations app, one module per flow: `requests` (declaration requests), `declarations`
(signed declarations), `patients` (the exact search of the patient register)."""

from .declarations import declaration_get, declaration_list, declarations_pending_verification_count
from .patients import person_get, person_search, person_secret_visible
from .requests import declaration_request_get, declaration_request_list

__all__ = [
    "declaration_get",
    "declaration_list",
    "declaration_request_get",
    "declaration_request_list",
    "declarations_pending_verification_count",
    "person_get",
    "person_search",
    "person_secret_visible",
]
