"""The head changes the facility's registration data (`/cabinet/facility/edit/<step>/`): the registration
wizard opened with the facility's current data, signed by the head and submitted as an application
(`services.registration_application_submit`), which the same checks approve or reject.

Only the facility's head (an OWNER employee, `permissions.roles_of`) may open it: no eHealth scope of a
role says "change the facility" (`legal_entity:write` is a MIS client's), and the head alone signs the
registration data. The code and the type are the facility's and stay as they are; the places of service
are not part of a change (they have their own pages); a different person on the step "Head" hands the
facility over to them (they are invited; the current head signs and stays until they accept).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy

from .. import permissions
from ..forms import (
    STEP_ADDRESSES,
    STEP_FACILITY,
    WIZARD_STEPS,
    AddressesForm,
    FacilityForm,
    StepForm,
    wizard_step_data,
)
from ..models import LegalEntity, RegistrationApplication
from ..selectors import OWNER, legal_entity_owner
from ..services.registration_facility import FacilityChange, change_signatory, legal_entity_payload
from ..wizard import RegistrationWizard
from .access import cabinet_facility

FACILITY_KEY = "legal_entity_id"  # the facility whose data this wizard run changes (session storage)


def head_facility(request) -> LegalEntity:
    """The cabinet's facility if the signed-in person is its head; 403 otherwise."""
    legal_entity = cabinet_facility(request, "legal_entity:read")
    if OWNER not in permissions.roles_of(request.user, legal_entity):
        raise PermissionDenied
    return legal_entity


class FacilityEditForm(FacilityForm):
    """Step 1 of a change: the code is the facility's own, shown and not editable (and, being registered,
    not refused as "already registered")."""

    def __init__(self, *args, legal_entity: LegalEntity, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["edrpou"]
        field.disabled = True
        field.initial = legal_entity.edrpou
        field.help_text = gettext_lazy("The code of a registered facility does not change.")

    def add_error(self, field, error):
        if field == "edrpou" and getattr(error, "code", None) == "legal_entity_exists":
            return  # it is this facility's code
        super().add_error(field, error)


class FacilityAddressesForm(AddressesForm):
    """Step 2 of a change: the registration and the actual address; no place of service (they have their
    own pages)."""

    groups = AddressesForm.groups[:2]
    payload_keys = ("addresses",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in [name for name in self.fields if name.startswith("division_")]:
            del self.fields[name]

    def full_clean(self):
        # AddressesForm's own toggles include the division's, which this form does not have.
        if self.is_bound and not self["same_as_registration"].value():
            self._require_address("residence")
        StepForm.full_clean(self)

    def payload_checks(self):
        return [check for check in super().payload_checks() if check[0] != "division"]

    def payload_part(self) -> dict:
        return {"addresses": super().payload_part()["addresses"]}


class FacilityEditWizard(RegistrationWizard):
    form_list = [
        (step, {STEP_FACILITY: FacilityEditForm, STEP_ADDRESSES: FacilityAddressesForm}.get(step, form))
        for step, form in WIZARD_STEPS
    ]
    title = gettext_lazy("Change the facility's data")
    template_name = "registry/facility_edit_step.html"

    def dispatch(self, request, *args, **kwargs):
        self.legal_entity = head_facility(request)
        self.head = legal_entity_owner(legal_entity=self.legal_entity)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        correcting = kwargs.get("step") is None and request.GET.get("correct")
        if not correcting and (kwargs.get("step") is None or not self._same_facility()):
            return self._start_from_facility()
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        if not self._same_facility():  # the cabinet switched to another facility meanwhile
            return self._start_from_facility()
        return super().post(*args, **kwargs)

    def _same_facility(self) -> bool:
        return self.storage.extra_data.get(FACILITY_KEY) == str(self.legal_entity.pk)

    def _start_from_facility(self):
        """A new run: the facility's current data in every step, from the first step."""
        self.storage.reset()
        payload = legal_entity_payload(self.legal_entity, self.head)
        for step, data in wizard_step_data(payload).items():
            self.storage.set_step_data(step, data)
        self.storage.extra_data = {FACILITY_KEY: str(self.legal_entity.pk)}
        self.storage.current_step = self.steps.first
        return redirect(self.get_step_url(self.steps.first))

    def _start_from_application(self, token: str):
        response = super()._start_from_application(token)
        self.storage.extra_data = {**self.storage.extra_data, FACILITY_KEY: str(self.legal_entity.pk)}
        return response

    def correctable(self, application: RegistrationApplication) -> bool:
        """A rejected change of this facility."""
        return (
            application.status == RegistrationApplication.Status.REJECTED
            and application.legal_entity_id == self.legal_entity.pk
        )

    def get_form_kwargs(self, step=None):
        kwargs = super().get_form_kwargs(step)
        if step == STEP_FACILITY:
            kwargs["legal_entity"] = self.legal_entity
        return kwargs

    def steps_payload(self, cleaned_by_step: dict[str, dict]) -> dict:
        payload = super().steps_payload(cleaned_by_step)
        payload.pop("division", None)  # wizard_payload builds step 2 with the registration's form
        return payload

    def expected_signer(self, payload: dict) -> dict:
        """The head named in the document — the current head when it names another one (a handover)."""
        owner = change_signatory(payload, FacilityChange(self.legal_entity, self.head))
        return super().expected_signer({**payload, "owner": {**payload["owner"], **owner}})

    def is_signature_error(self, path: str, item: ValidationError) -> bool:
        # Only the head may change the facility: another person's key is a problem of the signature.
        return item.code == "legal_entity_exists" or super().is_signature_error(path, item)


edit = login_required(FacilityEditWizard.as_view(url_name="registry:facility-edit-step"))

urlpatterns = [
    path("cabinet/facility/edit/", edit, name="facility-edit"),
    path("cabinet/facility/edit/<str:step>/", edit, name="facility-edit-step"),
]
