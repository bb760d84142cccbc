"""Forms of the declaration request pages in the cabinet (declarations.views.requests).

Each form only parses what the page sends; the rules are the services' (declarations.services), whose
ValidationErrors, keyed by JSON paths, `forms.errors.add_service_errors` puts at the form's fields.
"""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signature_forms import SignedDocumentForm, signature_file_field
from registry.models import Division, Employee, LegalEntity
from registry.selectors import dictionary_value_label
from registry.selectors.divisions import division_list
from registry.selectors.staff import employee_list

from ..models import DeclarationRequest

DOCTOR = "DOCTOR"


# --- Creating a request ----------------------------------------------------------------------------


class DoctorChoiceField(forms.ModelChoiceField):
    """A doctor of the facility: "Surname Name Patronymic — main speciality"."""

    def label_from_instance(self, employee: Employee) -> str:
        speciality = (employee.speciality or {}).get("speciality", "")
        label = dictionary_value_label(name="SPECIALITY_TYPE", key=speciality) if speciality else ""
        return f"{employee.party} — {label or speciality}" if speciality else str(employee.party)


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, division: Division) -> str:
        return division.name


def facility_doctors(legal_entity: LegalEntity) -> QuerySet[Employee]:
    """The facility's working doctors, by name: those a request may name."""
    return (
        employee_list(legal_entity=legal_entity, employee_type=DOCTOR, status=Employee.Status.APPROVED)
        .filter(is_active=True)
        .order_by("party__last_name", "party__first_name", "party__second_name", "pk")
    )


class DeclarationRequestCreateForm(forms.Form):
    """The doctor and the place of service of a new request; a doctor using the page is preselected."""

    employee = DoctorChoiceField(
        label=_("Doctor"),
        queryset=Employee.objects.none(),
        empty_label=_("Choose…"),
        help_text=_("A doctor of this facility; their main speciality must suit the patient's age."),
    )
    division = DivisionChoiceField(
        label=_("Place of service"),
        queryset=Division.objects.none(),
        empty_label=_("Choose…"),
        help_text=_("Where the patient will be served: an active place of this facility."),
    )

    # Where the service's refusals go; the rest ("person.…") are the patient's data, changed on the
    # patient's page. A doctor whose speciality does not suit the patient's age: choose another doctor.
    SERVICE_FIELDS = {"employee_id": "employee", "division_id": "division", NON_FIELD_ERRORS: None}
    SERVICE_CODES = {"invalid_age": "employee"}

    def __init__(self, *args, legal_entity: LegalEntity, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        doctors = facility_doctors(legal_entity)
        self.fields["employee"].queryset = doctors
        self.fields["division"].queryset = division_list(
            legal_entity=legal_entity, status=Division.Status.ACTIVE
        )
        if not self.is_bound and user is not None:
            own = doctors.filter(party__user=user).first()
            if own is not None:
                self.initial.setdefault("employee", own.pk)
                if own.division_id and own.division.status == Division.Status.ACTIVE:
                    self.initial.setdefault("division", own.division_id)


# --- The patient's confirmation --------------------------------------------------------------------


class VerificationCodeForm(forms.Form):
    """The 4-digit code the patient received by SMS."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        min_length=4,
        max_length=4,
        help_text=_("The patient tells you the 4 digits they received."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{4}", "size": 6}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise ValidationError(_("The code is 4 digits."), code="code_format")
        return code


class DocumentUploadForm(forms.Form):
    """One scan of a document the request lists (JPEG, PNG or PDF; the service checks the content).

    The page has a form per listed document: its type is posted as `document_type` and names the form's
    prefix, so each file field has its own id."""

    file = forms.FileField(
        label=_("Scan"),
        help_text=_("A JPEG, PNG or PDF file."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"}
        ),
    )

    def __init__(self, *args, document_type: str, **kwargs):
        self.document_type = document_type
        super().__init__(*args, prefix=document_prefix(document_type), **kwargs)


def document_prefix(document_type: str) -> str:
    return "doc-" + "".join(char if char.isalnum() else "-" for char in document_type)


# --- The doctor's signature ------------------------------------------------------------------------


class DeclarationSignForm(SignedDocumentForm):
    """The doctor's signature of the request's data, exactly as the page shows it."""

    signature = signature_file_field(
        _(
            "The document above signed with your qualified signature as the patient's doctor, by any "
            "tool: an attached or a detached signature, in DER, PEM or base64."
        )
    )
    signature_missing_message = _(
        "Sign the declaration: upload a signature file, or sign with your key file below."
    )
    # The SHA-256 of the document shown: a submission refers to exactly that document.
    document_sha256 = forms.CharField(required=False, widget=forms.HiddenInput)


# --- The list ----------------------------------------------------------------------------------------


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *DeclarationRequest.Status.choices],
    )
