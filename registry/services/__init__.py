"""Writes of the registry, one module per flow; import them from here.

- `reference_data`: dictionaries, the KVED classifier and global parameters (idempotent loaders);
- `registration`: facility registration applications, their checks, approval and operators' decisions;
- `staff`: a facility's staff (inviting people, sending an invitation again, withdrawing it, dismissing);
- `invitations`: the invitee's side (accepting or declining an invitation), expiring old ones;
- `signing`: checking a signed document against the one shown, and its signer;
- `divisions`: a facility's places of service (create, change, activate, deactivate);
- `facilities`: registered facilities (NHS verification, closing);
- `people`: parties (persons), shared by the flows above.
"""

from .divisions import (
    division_activate,
    division_create,
    division_deactivate,
    division_payload,
    division_update,
)
from .facilities import legal_entity_deactivate, legal_entity_nhs_verify
from .invitations import (
    INVITATION_PROBLEMS,
    employee_request_accept,
    employee_request_approve,
    employee_request_decline,
    employee_request_expire,
    employee_request_reject,
)
from .people import party_get_or_create, party_upsert
from .reference_data import (
    KVEDS,
    KVEDS_ALLOWED_MSP,
    LoadCounts,
    LoadReport,
    ValueSpec,
    dictionary_upsert,
    global_parameter_set,
    kveds_load_classifier,
    reference_data_load,
)
from .registration import (
    ENVELOPE_FIELD,
    REASON_MESSAGES,
    reasons_validation_error,
    registration_application_check,
    registration_application_decide,
    registration_application_recheck,
    registration_application_submit,
    registration_applications_resume,
    registration_status_token,
)
from .staff import (
    employee_dismiss,
    employee_request_create,
    employee_request_expiry,
    employee_request_resend,
    employee_request_withdraw,
    invitation_url,
)

__all__ = [
    "ENVELOPE_FIELD",
    "INVITATION_PROBLEMS",
    "KVEDS",
    "KVEDS_ALLOWED_MSP",
    "REASON_MESSAGES",
    "LoadCounts",
    "LoadReport",
    "ValueSpec",
    "dictionary_upsert",
    "division_activate",
    "division_create",
    "division_deactivate",
    "division_payload",
    "division_update",
    "employee_dismiss",
    "employee_request_accept",
    "employee_request_approve",
    "employee_request_create",
    "employee_request_decline",
    "employee_request_expire",
    "employee_request_expiry",
    "employee_request_reject",
    "employee_request_resend",
    "employee_request_withdraw",
    "invitation_url",
    "global_parameter_set",
    "kveds_load_classifier",
    "legal_entity_deactivate",
    "legal_entity_nhs_verify",
    "party_get_or_create",
    "party_upsert",
    "reasons_validation_error",
    "reference_data_load",
    "registration_application_check",
    "registration_application_decide",
    "registration_application_recheck",
    "registration_application_submit",
    "registration_applications_resume",
    "registration_status_token",
]
