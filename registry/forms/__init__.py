"""Forms of the registry, by flow.

- `fields`: form fields shared by every flow (dictionary choices, phones, codes, dates, checkbox lists).
- `steps`: `StepForm`, the base of every wizard step (registration now; staff and declarations next),
  and the review's summary of the steps.
- `registration_steps`, `registration_head`, `registration`: facility registration — steps 1–3, step 4,
  and the review and signature with the payload the steps make.
- `public`: the public search and accepting an invitation.
"""

from ..addresses import AREAS
from .fields import (
    CheckboxList,
    CodeField,
    CoordinateField,
    DateInput,
    NameField,
    PhoneField,
    compact,
    date_field,
    dictionary_field_choices,
    iso_date,
)
from .people import DOCUMENT_PARTS, PersonForm
from .public import FacilitySearchForm, InvitationAcceptForm
from .registration import (
    DATA_STEPS,
    PAYLOAD_PATH_LABELS,
    PUBLIC_OFFER_TEXT,
    WIZARD_STEPS,
    ReviewForm,
    public_offer,
    step_for_payload_path,
    wizard_payload,
    wizard_step_data,
)
from .registration_head import HeadForm
from .registration_steps import (
    ACCREDITATION_FIELDS,
    ADDRESS_GROUPS,
    ADDRESS_OPTIONAL_PARTS,
    ADDRESS_PARTS,
    ALREADY_REGISTERED,
    LATITUDE_RANGE,
    LICENCE_FIELDS,
    LONGITUDE_RANGE,
    NO_ACCREDITATION,
    STEP_ADDRESSES,
    STEP_FACILITY,
    STEP_HEAD,
    STEP_LICENCE,
    STEP_REVIEW,
    AddressesForm,
    FacilityForm,
    LicenceForm,
    address_fields,
)
from .steps import StepForm, raw_step_data, review_sections

__all__ = [
    "ACCREDITATION_FIELDS",
    "ADDRESS_GROUPS",
    "ADDRESS_OPTIONAL_PARTS",
    "ADDRESS_PARTS",
    "ALREADY_REGISTERED",
    "AREAS",
    "DATA_STEPS",
    "DOCUMENT_PARTS",
    "PersonForm",
    "LATITUDE_RANGE",
    "LICENCE_FIELDS",
    "LONGITUDE_RANGE",
    "NO_ACCREDITATION",
    "PAYLOAD_PATH_LABELS",
    "PUBLIC_OFFER_TEXT",
    "STEP_ADDRESSES",
    "STEP_FACILITY",
    "STEP_HEAD",
    "STEP_LICENCE",
    "STEP_REVIEW",
    "WIZARD_STEPS",
    "AddressesForm",
    "CheckboxList",
    "CodeField",
    "CoordinateField",
    "DateInput",
    "FacilityForm",
    "FacilitySearchForm",
    "HeadForm",
    "InvitationAcceptForm",
    "LicenceForm",
    "NameField",
    "PhoneField",
    "ReviewForm",
    "StepForm",
    "address_fields",
    "compact",
    "date_field",
    "dictionary_field_choices",
    "iso_date",
    "public_offer",
    "raw_step_data",
    "review_sections",
    "step_for_payload_path",
    "wizard_payload",
    "wizard_step_data",
]
