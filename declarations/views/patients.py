"""The patient register in the facility cabinet (`/cabinet/patients/`): the exact search, registering a
patient, their page and changing their data.

Rights (registry.permissions, asked through `cabinet_facility`): the search and the page need
`person:read`, registering and changing `person:write`; "choose" (start a declaration request for the
patient) shows to those with `declaration_request:write`. The register is shared by every facility, as
eHealth's MPI: a patient is reached only through the exact search (or a request's link), never listed.
The secret word shows on the patient's page only to a facility the patient has chosen or is choosing
(`selectors.patients.person_secret_visible`); the forms never show it.

The search is a POST (with CSRF) answered on the same page: what identifies a patient — the RNOKPP, a
document or phone number, and the names with the birth date carried over to the registration form (kept
in the session) — never stands in a URL, where access logs and the header's language form would keep it.

Writes → `services.patients.person_create` / `person_update`; their refusals show at the fields
(`PatientForm.add_payload_error`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from registry import permissions
from registry.views.access import cabinet_facility

from ..forms.errors import add_service_errors
from ..forms.patients import PatientForm, PatientSearchForm
from ..selectors.patients import person_changeable, person_get, person_search, person_secret_visible
from ..services.patients import person_confidant_secrets, person_create, person_payload, person_update

# What the search carries over to the registration form (never an identifier: they stay typed), kept in
# the session and read by the registration page opened from the search's results (`?from=search`).
_CARRIED_OVER = ("last_name", "first_name", "birth_date")
SESSION_CARRIED = "declarations:patient-search"
FROM_SEARCH = "search"


@never_cache
@login_required
def patient_search(request):
    """GET: the empty search; POST: the search and its results."""
    legal_entity = cabinet_facility(request, "person:read")
    scopes = permissions.scopes_of(request.user, legal_entity)
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    people = None
    if form.is_valid():
        try:
            people = person_search(**form.criteria())
        except ValidationError as error:
            add_service_errors(form, error, {NON_FIELD_ERRORS: None})
        request.session[SESSION_CARRIED] = {
            name: str(form.cleaned_data[name]) for name in _CARRIED_OVER if form.cleaned_data.get(name)
        }
    return render(
        request,
        "declarations/patients/search.html",
        {
            "legal_entity": legal_entity,
            "form": form,
            "people": people,
            "can_register": "person:write" in scopes,
            "from_search": FROM_SEARCH,
            "request_new_url": reverse("declarations:request-new")
            if "declaration_request:write" in scopes
            else None,
        },
    )


@never_cache
@login_required
def patient_new(request):
    legal_entity = cabinet_facility(request, "person:write")
    carried = request.session.get(SESSION_CARRIED) if request.GET.get("from") == FROM_SEARCH else None
    form = PatientForm(request.POST if request.method == "POST" else None, initial=carried or {})
    if request.method == "POST" and form.is_valid():
        try:
            person = person_create(actor=request.user, data=form.person_data())
        except ValidationError as error:
            _service_errors(form, error)
        else:
            request.session.pop(SESSION_CARRIED, None)
            messages.success(request, _("The patient is registered."))
            return redirect("declarations:patient-detail", person_id=person.pk)
    return render(
        request,
        "declarations/patients/form.html",
        {"legal_entity": legal_entity, "form": form, "person": None},
    )


@never_cache
@login_required
def patient_detail(request, person_id):
    legal_entity = cabinet_facility(request, "person:read")
    person = person_get(person_id)
    scopes = permissions.scopes_of(request.user, legal_entity)
    secret_visible = person_secret_visible(person=person, legal_entity=legal_entity)
    return render(
        request,
        "declarations/patients/detail.html",
        {
            "legal_entity": legal_entity,
            "person": person,
            "secret": person.secret if secret_visible else None,
            "confidant_secrets": person_confidant_secrets(person) if secret_visible else {},
            "can_edit": "person:write" in scopes
            and person_changeable(person=person, legal_entity=legal_entity),
            "request_new_url": reverse("declarations:request-new")
            if "declaration_request:write" in scopes
            else None,
        },
    )


@never_cache
@login_required
def patient_edit(request, person_id):
    legal_entity = cabinet_facility(request, "person:write")
    person = person_get(person_id)
    if not person_changeable(person=person, legal_entity=legal_entity):
        raise PermissionDenied
    form = PatientForm(
        request.POST if request.method == "POST" else None,
        initial=PatientForm.values_from_payload({"person": _payload_without_secrets(person)}),
        keep_secrets=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            person_update(
                person=person, actor=request.user, data=form.person_data(), legal_entity=legal_entity
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("declarations:patient-detail", person_id=person.pk)
    return render(
        request,
        "declarations/patients/form.html",
        {"legal_entity": legal_entity, "form": form, "person": person},
    )


def _payload_without_secrets(person) -> dict:
    payload = person_payload(person)
    payload.pop("secret", None)
    for item in payload.get("confidant_person", []):
        item.pop("secret", None)
    return payload


def _service_errors(form: PatientForm, error: ValidationError) -> None:
    """The service's refusals (paths of the person block) at the fields they concern."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for payload_path, errors in error.error_dict.items():
        for item in errors:
            if payload_path == NON_FIELD_ERRORS:
                form.add_error(None, item)
            else:
                form.add_payload_error(f"person.{payload_path}", item)


# Included by declarations/urls.py (the patients' flow).
urlpatterns = [
    path("cabinet/patients/", patient_search, name="patient-search"),
    path("cabinet/patients/new/", patient_new, name="patient-new"),
    path("cabinet/patients/<uuid:person_id>/", patient_detail, name="patient-detail"),
    path("cabinet/patients/<uuid:person_id>/edit/", patient_edit, name="patient-edit"),
]
