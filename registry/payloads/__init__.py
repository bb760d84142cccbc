"""eHealth payloads, one module per document: their rules in one place, shared by pages and the API.

- `common`: fields, strict serializers, addresses, phones, documents, validation and canonical JSON;
- `legal_entity`: the facility registration (`PUT /api/legal_entities`, the registration wizard);
- `divisions`: places of service;
- `employee_requests`: invitations to work at a facility (party, doctor).
"""

from .common import (
    MAX_AGE,
    AddressSerializer,
    DictionaryKeyField,
    DocumentSerializer,
    LocationSerializer,
    LowerEmailField,
    PartySerializer,
    PastDateField,
    PersonNameField,
    PhoneSerializer,
    StrictSerializer,
    TypedListSerializer,
    payload_canonical,
    payload_errors_flatten,
    payload_full_name,
    payload_validate,
    validate_organisation_name,
)
from .divisions import (
    MSP_DIVISION_TYPES,
    WEEKDAYS,
    DivisionPayloadSerializer,
    DivisionSerializer,
    division_payload_validate,
)
from .employee_requests import (
    PRIMARY_CARE_SPECIALITIES,
    STAFF_EMPLOYEE_TYPES,
    EmployeeRequestSerializer,
    employee_request_payload_validate,
)
from .legal_entity import (
    MSP,
    SOLE_PROPRIETOR_LEGAL_FORM,
    AccreditationSerializer,
    ArchiveSerializer,
    LegalEntityPayloadSerializer,
    LicenseSerializer,
    MedicalServiceProviderSerializer,
    OwnerSerializer,
    PublicOfferSerializer,
    SecuritySerializer,
    legal_entity_payload_canonical,
    legal_entity_payload_validate,
)

__all__ = [
    "MAX_AGE",
    "MSP",
    "MSP_DIVISION_TYPES",
    "PRIMARY_CARE_SPECIALITIES",
    "STAFF_EMPLOYEE_TYPES",
    "SOLE_PROPRIETOR_LEGAL_FORM",
    "AccreditationSerializer",
    "AddressSerializer",
    "ArchiveSerializer",
    "DictionaryKeyField",
    "DivisionSerializer",
    "DivisionPayloadSerializer",
    "WEEKDAYS",
    "division_payload_validate",
    "DocumentSerializer",
    "EmployeeRequestSerializer",
    "LegalEntityPayloadSerializer",
    "LicenseSerializer",
    "LocationSerializer",
    "LowerEmailField",
    "MedicalServiceProviderSerializer",
    "OwnerSerializer",
    "PartySerializer",
    "PastDateField",
    "PersonNameField",
    "PhoneSerializer",
    "PublicOfferSerializer",
    "SecuritySerializer",
    "StrictSerializer",
    "TypedListSerializer",
    "employee_request_payload_validate",
    "legal_entity_payload_canonical",
    "legal_entity_payload_validate",
    "payload_canonical",
    "payload_errors_flatten",
    "payload_full_name",
    "payload_validate",
    "validate_organisation_name",
]
