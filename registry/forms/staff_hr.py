"""The head grants HR access: the HR officer's data (step 1) and the head's signature of the request (step 2).

`hr_request_payload` makes eHealth's employee request (employee_type HR) from step 1; its canonical JSON
is the document the head signs, and `services.employee_request_create` checks the signature over exactly
that document.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signature_forms import SignedDocumentForm

from .. import payloads
from .fields import compact, date_field, dictionary_field_choices, iso_date
from .people import PersonForm

HR = "HR"
HR_POSITION = "P14"  # "Спеціаліст відділу кадрів", the usual position; the head may choose another
STEP_PERSON = "person"
STEP_REVIEW = "review"
JOB_FIELDS = ("position", "start_date")  # members of the request beyond the person


class HrPersonForm(PersonForm):
    """The HR officer: identity, documents, contacts (eHealth's `party`), position and start date."""

    payload_keys = ("party", "position", "start_date")

    position = forms.ChoiceField(
        label=_("Position"), choices=dictionary_field_choices("POSITION"), initial=HR_POSITION
    )
    start_date = date_field(
        _("Start date"),
        initial=timezone.localdate,
        help_text=_("The day the person starts working with the facility's records in eHealth."),
    )

    groups = [*PersonForm.groups, (_("Job"), ["position", "start_date"])]

    def payload_part(self) -> dict:
        data = self.cleaned_data
        job = compact({"position": data.get("position"), "start_date": iso_date(data.get("start_date"))})
        return {**super().payload_part(), **job}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        return {
            **super().values_from_payload(payload),
            "position": payload.get("position", ""),
            "start_date": payload.get("start_date", ""),
        }

    @classmethod
    def builds_path(cls, path: str) -> bool:
        """Whether an employee-request path ("party.email", "position") is entered on this step."""
        return path in JOB_FIELDS or path == "party" or path.startswith(("party.", "party["))

    def add_request_error(self, path: str, error) -> None:
        """A service's error at an employee-request path, put on its field (or on the whole form)."""
        if path in JOB_FIELDS:
            self.add_error(path, error)
        else:
            self.add_payload_error(path, error)


class HrAccessSignForm(SignedDocumentForm):
    """The head's qualified signature of the request shown on the review."""

    signature = forms.FileField(
        label=_("Signature file (.p7s)"),
        required=False,
        help_text=_(
            "The request above signed with your qualified signature as the head, by any tool: an "
            "attached or a detached signature, in DER, PEM or base64."
        ),
    )
    signature_missing_message = _(
        "Sign the request: upload a signature file, or sign with your key file below."
    )
    # The SHA-256 of the document shown: a submission refers to exactly that document.
    document_sha256 = forms.CharField(required=False, widget=forms.HiddenInput)


HR_ACCESS_STEPS = [(STEP_PERSON, HrPersonForm), (STEP_REVIEW, HrAccessSignForm)]


def hr_request_payload(*, legal_entity_id, person_cleaned_data: dict) -> dict:
    """eHealth's employee request for the HR officer, validated (ValidationError keyed by its paths)."""
    form = HrPersonForm()
    form.cleaned_data = person_cleaned_data
    return payloads.employee_request_payload_validate(
        {
            **form.payload_part(),
            "employee_type": HR,
            "status": "NEW",
            "legal_entity_id": str(legal_entity_id),
        }
    )
