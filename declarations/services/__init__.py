"""Writes of the declarations app, one module per flow.

- `requests`: declaration requests — create, the patient's confirmation (approve), reject, send the code
  again, what the doctor signs, expiry; `request_content`: the snapshots and the printed form;
- `signing`: the doctor signs, the declaration is created;
- `documents`: an OFFLINE patient's scans;
- `limits`: the doctor's limit and whether they accept new patients; `numbers`: declaration numbers;
- `otp`: SMS codes and the SMS outbox; `patients`: the patient register; `declarations`: termination and
  the operator's verification.
"""

from .documents import declaration_request_document_upload, declaration_request_documents_delete
from .limits import doctor_availability_refresh, doctor_limit_status
from .request_content import phone_masked, printout_render
from .requests import (
    CONFLICT_CODES,
    FORBIDDEN_CODES,
    declaration_request_approve,
    declaration_request_create,
    declaration_request_create_for_person,
    declaration_request_reject,
    declaration_request_resend_otp,
    declaration_request_signable,
    declaration_request_signable_bytes,
    declaration_requests_expire,
    person_key,
    person_registered,
)
from .signing import AUTO_NEW_DECLARATION, SIGNED_FIELD, declaration_request_sign

__all__ = [
    "AUTO_NEW_DECLARATION",
    "CONFLICT_CODES",
    "FORBIDDEN_CODES",
    "SIGNED_FIELD",
    "declaration_request_approve",
    "declaration_request_create",
    "declaration_request_create_for_person",
    "declaration_request_document_upload",
    "declaration_request_documents_delete",
    "declaration_request_reject",
    "declaration_request_resend_otp",
    "declaration_request_sign",
    "declaration_request_signable",
    "declaration_request_signable_bytes",
    "declaration_requests_expire",
    "doctor_availability_refresh",
    "doctor_limit_status",
    "person_key",
    "person_registered",
    "phone_masked",
    "printout_render",
]
