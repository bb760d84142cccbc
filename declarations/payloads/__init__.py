"""eHealth payloads of the declarations app: the patient (`person`) and the declaration request."""

from .declaration_request import (
    FAMILY_DOCTOR_SCOPE,
    DeclarationRequestSerializer,
    declaration_request_payload_validate,
)
from .person import (
    OFFLINE,
    OTP,
    DeclarationPersonSerializer,
    PersonSerializer,
    document_number_validate,
    person_age,
    person_payload_validate,
)

__all__ = [
    "FAMILY_DOCTOR_SCOPE",
    "OFFLINE",
    "OTP",
    "DeclarationPersonSerializer",
    "DeclarationRequestSerializer",
    "PersonSerializer",
    "declaration_request_payload_validate",
    "document_number_validate",
    "person_age",
    "person_payload_validate",
]
