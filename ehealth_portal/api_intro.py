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
