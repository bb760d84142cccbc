"""New staff other than doctors (an administrator at the reception, an accountant, an assistant): one page
with the person, the job and, if they have one, the place of service.

Also what the doctor wizard shares with it: the job (`JobForm`: place of service, position, start date),
`part_serializer` (a payload serializer's rules for some of its members, so a step checks its part
with the very rules the whole request is checked with) and `staff_request_payload` (eHealth's employee
request from the parts).

A change of a working employee's data is eHealth's update mode (ehealth-api.md §3.3 item 10): the same
forms, filled in from `employee_request_of(employee)`; what a change cannot alter is shown read-only
(`fields_locked`) and set from the employee in the request (`employee_change_payload`).
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import payloads
from .fields import compact, date_field, dictionary_field_choices, iso_date
from .people import PersonForm
from .steps import StepForm

# The roles invited with this form (eHealth's EMPLOYEE_TYPE), by their URL slug. A doctor has the wizard;
# HR access is granted by the head with a signature (registry.views.hr_access), never here.
OTHER_EMPLOYEE_TYPES = {"admin": "ADMIN", "accountant": "ACCOUNTANT", "assistant": "ASSISTANT"}
JOB_MEMBERS = ("division_id", "position", "start_date")
# Read-only in a change: eHealth refuses a change of the RNOKPP, birth date and start date; the email is
# the address the person signs in with, where the update invitation goes (they accept it signed in).
LOCKED_HELP = {
    "email": _("The update invitation goes to the address the person signs in with."),
}
LOCKED_HELP_DEFAULT = _("It stays as the employee's: a change request cannot change it.")


def part_serializer(serializer_class, *names: str):
    """`serializer_class` checking only the members `names` (the others of the payload are ignored): a
    step's part checked by the payload's own rules. Rules across members (a doctor needs a place of
    service) need the whole payload: the review and the service check them."""
    ignored = tuple(name for name in serializer_class._declared_fields if name not in names)

    def get_fields(self):
        return {name: field for name, field in serializer_class.get_fields(self).items() if name in names}

    def validate(self, attrs):
        return attrs

    return type(
        f"{serializer_class.__name__}Part",
        (serializer_class,),
        {"get_fields": get_fields, "validate": validate, "ignored_fields": ignored},
    )


JobSerializer = part_serializer(payloads.EmployeeRequestSerializer, *JOB_MEMBERS)


class JobForm(StepForm):
    """Where and as whom the person works: eHealth's `division_id`, `position` and `start_date`.

    `divisions`: the facility's ACTIVE places of service to choose from; one is required for a doctor
    (`division_required`), optional for the others."""

    payload_keys = JOB_MEMBERS
    division_required = False

    division_id = forms.ChoiceField(
        label=_("Place of service"),
        choices=(),
        help_text=_("Only the facility's active places of service are listed."),
    )
    position = forms.ChoiceField(label=_("Position"), choices=dictionary_field_choices("POSITION"))
    start_date = date_field(_("Start date"), initial=timezone.localdate)

    groups = [(_("Place of service and position"), list(JOB_MEMBERS))]

    def __init__(self, *args, divisions=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["division_id"]
        field.choices = [("", _("Choose…")), *((str(division.pk), division.name) for division in divisions)]
        field.required = self.division_required

    def payload_checks(self):
        return [(None, JobSerializer, {name: name for name in JOB_MEMBERS})]

    def payload_part(self) -> dict:
        data = self.cleaned_data
        return compact(
            {
                "division_id": data.get("division_id"),
                "position": data.get("position"),
                "start_date": iso_date(data.get("start_date")),
            }
        )

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        return {name: payload.get(name, "") for name in JOB_MEMBERS}


class StaffMemberForm(PersonForm, JobForm):
    """Another role's employee: the person (eHealth's `party`) and the job, on one page."""

    field_order = [*PersonForm.base_fields, *JobForm.base_fields]
    payload_keys = ("party", *JOB_MEMBERS)
    groups = [*PersonForm.groups, *JobForm.groups]

    def payload_checks(self):
        return [*PersonForm.payload_checks(self), *JobForm.payload_checks(self)]

    def payload_part(self) -> dict:
        return {**PersonForm.payload_part(self), **JobForm.payload_part(self)}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        return {**PersonForm.values_from_payload(payload), **JobForm.values_from_payload(payload)}


def staff_request_payload(employee_type: str, parts: list[dict]) -> dict:
    """eHealth's employee request (not yet validated) from the forms' parts; the doctor's block is
    joined from the parts of several steps."""
    payload = {"employee_type": employee_type, "status": "NEW"}
    doctor = {}
    for part in parts:
        doctor.update(part.get("doctor", {}))
        payload.update({key: value for key, value in part.items() if key != "doctor"})
    if doctor:
        payload["doctor"] = doctor
    return payload


# --- A change of a working employee's data (eHealth's update mode) -------------------------------------


def employee_request_of(employee, *, email: str) -> dict:
    """A working employee's data as eHealth's employee request (not validated): where a change starts.
    `employee` comes with its person (`party`); `email` is where the update invitation goes."""
    party = employee.party
    payload = {
        "employee_type": employee.employee_type,
        "status": "NEW",
        "position": employee.position,
        "start_date": employee.start_date.isoformat(),
        "party": {
            "last_name": party.last_name,
            "first_name": party.first_name,
            "second_name": party.second_name,
            "tax_id": party.tax_id,
            "no_tax_id": party.no_tax_id,
            "birth_date": party.birth_date.isoformat(),
            "gender": party.gender,
            "email": email,
            "documents": party.documents or [],
            "phones": party.phones or [],
        },
    }
    if employee.division_id:
        payload["division_id"] = str(employee.division_id)
    if employee.additional_info:  # a doctor's educations, qualifications, specialities, science degree
        payload["doctor"] = employee.additional_info
    return payload


def locked_values(employee, *, email: str) -> dict:
    """What a change shows read-only, as the forms' fields hold it (an unknown email stays editable)."""
    party = employee.party
    values = {
        "no_tax_id": party.no_tax_id,
        "tax_id": party.tax_id,
        "birth_date": party.birth_date,
        "start_date": employee.start_date,
    }
    return {**values, "email": email} if email else values


def fields_locked(form: forms.Form, values: dict) -> None:
    """Show `values` in the form's fields of those names read-only: a disabled field is cleaned from its
    initial value, so whatever is posted for it is ignored."""
    for name, value in values.items():
        if name in form.fields:
            field = form.fields[name]
            field.disabled = True
            field.help_text = LOCKED_HELP.get(name, LOCKED_HELP_DEFAULT)
            form.initial[name] = value


def employee_change_payload(payload: dict, employee, *, email: str) -> dict:
    """The request made from the forms in update mode: it names the employee, and what a change cannot
    alter is the employee's, whatever was posted."""
    party = employee.party
    person = {
        **payload.get("party", {}),
        "tax_id": party.tax_id,
        "no_tax_id": party.no_tax_id,
        "birth_date": party.birth_date.isoformat(),
        **({"email": email} if email else {}),
    }
    return {
        **payload,
        "employee_id": str(employee.pk),
        "employee_type": employee.employee_type,
        "start_date": employee.start_date.isoformat(),
        "party": person,
    }
