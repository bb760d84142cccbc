"""The API's introduction page, in the reader's language: what the API offers, how to get a key, the
response envelope, errors and limits. The method reference (Swagger UI, /api/docs/) stays English."""

from django.conf import settings
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe
from rest_framework.throttling import SimpleRateThrottle

# What the API offers, by who may call it (tests check that each path resolves).
METHODS = [
    ("GET", "/api/dictionaries", _("Reference dictionaries with their active values."), _("everyone")),
    ("GET", "/api/global_parameters", _("Global parameters, e.g. the adult age."), _("everyone")),
    ("GET", "/api/legal_entities", _("Registered facilities, with filters and pages."), _("operators")),
    ("GET", "/api/legal_entities/{id}", _("One facility."), _("operators")),
    (
        "PUT",
        "/api/legal_entities",
        _(
            "Registers a facility from a document its head signed with a qualified electronic signature, "
            "or changes a registered one when its head signed: the same checks as on the portal."
        ),
        _("operators"),
    ),
    (
        "POST",
        "/api/employee_requests",
        _(
            "Invites a person to work at the caller's facility (a doctor with education and specialities, "
            "or another role); the person gets an email with a single-use link."
        ),
        _("the facility's head, HR and administrators"),
    ),
    (
        "GET",
        "/api/employee_requests",
        _("The facility's invitations, with filters and pages."),
        _("the facility's head, HR and administrators"),
    ),
    (
        "GET",
        "/api/employee_requests/{id}",
        _("One invitation."),
        _("the facility's head, HR and administrators"),
    ),
    ("POST", "/api/employee_requests/{id}/approve", _("Accepts an invitation."), _("the invited person")),
    ("POST", "/api/employee_requests/{id}/reject", _("Declines an invitation."), _("the invited person")),
    (
        "GET",
        "/api/employees",
        _("The facility's employees, with filters and pages."),
        _("the facility's staff"),
    ),
    (
        "GET",
        "/api/employees/{id}",
        _("One employee, with a doctor's education and specialities."),
        _("the facility's staff"),
    ),
    (
        "PATCH",
        "/api/employees/{id}/actions/deactivate",
        _("Dismisses an employee (not the head)."),
        _("the facility's head, HR and administrators"),
    ),
    ("GET", "/api/divisions", _("The facility's places of service."), _("the facility's staff")),
    (
        "POST",
        "/api/divisions",
        _("Adds a place of service."),
        _("the facility's head, HR and administrators"),
    ),
    ("GET", "/api/divisions/{id}", _("One place of service."), _("the facility's staff")),
    (
        "PATCH",
        "/api/divisions/{id}",
        _("Changes a place of service."),
        _("the facility's head, HR and administrators"),
    ),
    (
        "PATCH",
        "/api/divisions/{id}/actions/activate",
        _("Opens a place of service again (it returns to the map)."),
        _("the facility's head, HR and administrators"),
    ),
    (
        "PATCH",
        "/api/divisions/{id}/actions/deactivate",
        _("Closes a place of service (it leaves the map)."),
        _("the facility's head, HR and administrators"),
    ),
    (
        "POST",
        "/api/digital_signatures",
        _("Verifies a qualified electronic signature and tells whose it is."),
        _("any key or signed-in user"),
    ),
    (
        "POST",
        "/api/verifications",
        _("Sends a 4-digit SMS code to a patient's phone, valid 15 minutes."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "PATCH",
        "/api/verifications/{id}/actions/complete",
        _("Checks the patient's code: the phone is then verified (3 tries)."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "GET",
        "/api/verifications/{id}",
        _("Whether a phone is verified."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "GET",
        "/api/persons",
        _(
            "Finds a patient by surname, first name and birth date with an RNOKPP, a phone or a document: exact matches only."
        ),
        _("the facility's doctors, head, administrators and assistants"),
    ),
    (
        "POST",
        "/api/declaration_requests",
        _(
            "Creates a declaration request for a patient with a doctor of the caller's facility; the patient "
            "then confirms by an SMS code or with documents."
        ),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "GET",
        "/api/declaration_requests",
        _("The facility's declaration requests, with filters and pages."),
        _("the facility's doctors, head, administrators and assistants"),
    ),
    (
        "GET",
        "/api/declaration_requests/{id}",
        _("One declaration request: exactly the document the doctor signs."),
        _("the facility's doctors, head, administrators and assistants"),
    ),
    (
        "PATCH",
        "/api/declaration_requests/{id}/actions/approve",
        _("The patient's confirmation: the SMS code, or the uploaded scans."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "PATCH",
        "/api/declaration_requests/{id}/actions/reject",
        _("Rejects a declaration request."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "POST",
        "/api/declaration_requests/{id}/actions/resend_otp",
        _("Sends the patient's SMS code again."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "PATCH",
        "/api/declaration_requests/{id}/actions/sign",
        _("The doctor signs the request with a qualified electronic signature: the declaration is created."),
        _("the request's doctor"),
    ),
    (
        "PUT",
        "/api/declaration_requests/{id}/documents/{id}",
        _("Uploads a scan of a patient's document (JPEG, PNG or PDF)."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "GET",
        "/api/declarations",
        _("The facility's declarations, with filters and pages."),
        _("the facility's doctors, head, administrators and assistants"),
    ),
    (
        "GET",
        "/api/declarations/{id}",
        _("One declaration."),
        _("the facility's doctors, head, administrators and assistants"),
    ),
    (
        "PATCH",
        "/api/declarations/{id}/actions/terminate",
        _("Terminates a declaration at the doctor's or the patient's request."),
        _("the facility's doctors, head and administrators"),
    ),
    (
        "GET",
        "/api/persons/{id}/declaration",
        _("A patient's current declaration, if it is with the caller's facility."),
        _("the facility's doctors, head, administrators and assistants"),
    ),
]


def _rate(rate: str) -> str:
    """A DRF throttle rate ("60/min") in words."""
    count, seconds = SimpleRateThrottle.parse_rate(None, rate)
    if seconds == 1:
        return ngettext("%(count)d request a second", "%(count)d requests a second", count) % {"count": count}
    if seconds == 60:
        return ngettext("%(count)d request a minute", "%(count)d requests a minute", count) % {"count": count}
    if seconds == 3600:
        return ngettext("%(count)d request an hour", "%(count)d requests an hour", count) % {"count": count}
    return ngettext("%(count)d request a day", "%(count)d requests a day", count) % {"count": count}


@require_safe
def api_intro(request):
    # Imported here: .api needs DRF's views loaded first, which import .api (the renderer setting).
    from .api import PagingSerializer

    return render(
        request,
        "api/intro.html",
        {
            "methods": [
                {"verb": verb, "path": path, "what": what, "who": who} for verb, path, what, who in METHODS
            ],
            "example_url": request.build_absolute_uri("/api/legal_entities?page_size=10"),
            "signature_rate": _rate(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["signature_check"]),
            "body_limit": filesizeformat(settings.REQUEST_BODY_MAX_BYTES),
            "max_page_size": PagingSerializer().fields["page_size"].max_value,
        },
    )
