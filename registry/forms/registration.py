"""Facility registration: the steps' order, the review and signature form, and the payload the steps make.

`wizard_payload` joins the steps' parts into the eHealth legal-entity payload; `wizard_step_data` does
the reverse, to reopen a rejected application for correction (or to show a document on the review);
`step_for_payload_path` names the step where a member of the payload is corrected.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signature_forms import SignedDocumentForm

from .registration_head import HeadForm
from .registration_steps import (
    STEP_ADDRESSES,
    STEP_FACILITY,
    STEP_HEAD,
    STEP_LICENCE,
    STEP_REVIEW,
    AddressesForm,
    FacilityForm,
    LicenceForm,
)
from .steps import raw_step_data

# The offer the head accepts; its text goes into the signed document, so it stays in Ukrainian.
PUBLIC_OFFER_TEXT = (
    "Я, керівник закладу охорони здоров'я, приєднуюся до договору публічної оферти про підключення "
    "закладу до електронної системи охорони здоров'я: підтверджую, що дані заяви достовірні, що я є "
    "офіційним підписантом закладу згідно з Єдиним державним реєстром, і погоджуюся на обробку "
    "персональних даних, потрібну для реєстрації закладу та його працівників."
)


class ReviewForm(SignedDocumentForm):
    """Consent and the signature: an uploaded .p7s, or one made in the browser (base64 DER)."""

    field_order = ["public_offer_consent"]  # then the signature's fields (the error summary's order)

    public_offer_consent = forms.BooleanField(
        label=_("I have read the public offer and accept it"),
        error_messages={"required": _("Accept the public offer to register the facility.")},
    )
    # The SHA-256 of the document shown: a submission refers to exactly that document.
    document_sha256 = forms.CharField(required=False, widget=forms.HiddenInput)


WIZARD_STEPS = [
    (STEP_FACILITY, FacilityForm),
    (STEP_ADDRESSES, AddressesForm),
    (STEP_LICENCE, LicenceForm),
    (STEP_HEAD, HeadForm),
    (STEP_REVIEW, ReviewForm),
]
DATA_STEPS = [(step, form_class) for step, form_class in WIZARD_STEPS if step != STEP_REVIEW]


def public_offer() -> dict:
    return {"consent": True, "consent_text": PUBLIC_OFFER_TEXT}


def wizard_payload(cleaned_data_by_step: dict[str, dict]) -> dict:
    """The eHealth legal-entity payload from the steps' cleaned data (before `payloads` normalises it)."""
    payload = {}
    for step, form_class in DATA_STEPS:
        form = form_class()
        form.cleaned_data = cleaned_data_by_step[step]
        payload.update(form.payload_part())
    payload["public_offer"] = public_offer()
    return payload


def wizard_step_data(payload: dict) -> dict[str, dict[str, list[str]]]:
    """The wizard's stored step data (as if typed in) that reproduces `payload`."""
    return {
        step: raw_step_data(form_class, step, form_class.values_from_payload(payload))
        for step, form_class in DATA_STEPS
    }


def step_for_payload_path(path: str) -> str:
    """The step where the payload member at `path` ("owner.tax_id", "kveds[1]") is entered; the review
    for the signature and for paths no step builds (the head sees everything there)."""
    key = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    for step, form_class in DATA_STEPS:
        if key and key in form_class.payload_keys:
            return step
    return STEP_REVIEW


# Payload paths in words, for errors the payload rules report on the review step (longest first).
PAYLOAD_PATH_LABELS = [
    ("owner.tax_id", _("Head: RNOKPP")),
    ("owner.birth_date", _("Head: date of birth")),
    ("owner.position", _("Head: position")),
    ("owner.documents", _("Head: identity document")),
    ("owner", _("Head")),
    ("medical_service_provider.accreditation", _("Accreditation")),
    ("medical_service_provider", _("Licence")),
    ("division", _("Place of service")),
    ("addresses", _("Addresses")),
    ("edrpou", _("EDRPOU")),
    ("kveds", _("KVED")),
    ("public_offer", _("Public offer")),
    ("signed_legal_entity_request", _("Signature")),
]
