"""The invitation page (`/invite/<token>/`): the invitee reads the consent and accepts or declines.

eHealth's AUTHWEB flow (ehealth-api.md §3.1, §3.5): a person without an account sets a password and
accepts; a person with an account signs in first (nobody takes over an account with a link); a signed-in
person accepts with their own account only. Accepting signs in and opens the cabinet of the inviting
facility; declining says so. `urlpatterns` are this flow's pages, included by registry/urls.py.
"""

from allauth.core.ratelimit import consume_or_429
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .. import selectors, services
from ..addresses import address_text
from ..forms import InvitationAcceptForm
from ..payloads import payload_full_name
from . import hr_access

ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"

# Who opens the link, and so what the page offers.
NEW_ACCOUNT = "new_account"  # no account with the invitation's email: set a password, accept or decline
SIGN_IN = "sign_in"  # an account with a password exists: sign in to accept, or decline
SIGNED_IN = "signed_in"  # signed in as the invitee: accept or decline
OTHER_ACCOUNT = "other_account"  # signed in as someone else: sign out first; nothing to do here

ACCEPT, DECLINE = "accept", "decline"


@never_cache
def invitation(request, token):
    employee_request, problem = selectors.employee_request_by_token(token=token)
    if problem:
        return _problem(request, problem)
    situation = _situation(request, employee_request)
    person = employee_request.data.get("party") or {}
    action = request.POST.get("action", ACCEPT) if request.method == "POST" else None
    form = InvitationAcceptForm(
        request.POST if action == ACCEPT and situation == NEW_ACCOUNT else None,
        email=employee_request.email,
        first_name=person.get("first_name", ""),
        last_name=person.get("last_name", ""),
    )
    status = 200
    if action is not None:
        if limited := consume_or_429(request, action="invitation_accept"):
            return limited
        if situation == OTHER_ACCOUNT:
            status = 403  # another person's invitation: neither accepted nor declined from this account
        elif action == DECLINE:
            return _decline(request, token, employee_request)
        elif situation == SIGN_IN:
            return redirect(_login_url(request))
        elif situation == SIGNED_IN or form.is_valid():
            return _accept(request, token, employee_request, form, situation)
    return _page(request, employee_request, form, situation, status=status)


def _accept(request, token, employee_request, form, situation):
    try:
        if situation == SIGNED_IN:
            user = services.employee_request_accept(token=token, user=request.user)
        else:
            user = services.employee_request_accept(token=token, password=form.cleaned_data["password1"])
    except PermissionDenied:
        return _page(request, employee_request, form, OTHER_ACCOUNT, status=403)
    except ValidationError as error:
        _request, problem = selectors.employee_request_by_token(token=token)
        if problem:  # used, superseded or expired meanwhile
            return _problem(request, problem)
        # The password rules of the service go to the password field, the rest above the form.
        errors = []
        for name, items in error.update_error_dict({}).items():
            if name == "password" and form.is_bound:
                form.add_error("password1", items)
            else:
                errors += [message for item in items for message in item.messages]
        return _page(request, employee_request, form, _situation(request, employee_request), errors=errors)
    if not request.user.is_authenticated:
        login(request, user, backend=ALLAUTH_BACKEND)
    legal_entity = employee_request.legal_entity
    messages.success(
        request, _("You have accepted the invitation: welcome to %(facility)s.") % {"facility": legal_entity}
    )
    # The cabinet of the facility that invited them, whichever they opened last.
    return redirect(f"{reverse('registry:cabinet')}?{urlencode({'facility': legal_entity.pk})}")


def _decline(request, token, employee_request):
    try:
        services.employee_request_decline(token=token)
    except ValidationError:
        _request, problem = selectors.employee_request_by_token(token=token)
        return _problem(request, problem or "used")
    return render(request, "registry/invitation_declined.html", {"employee_request": employee_request})


def _situation(request, employee_request) -> str:
    user = request.user
    if user.is_authenticated:
        return SIGNED_IN if (user.email or "").lower() == employee_request.email.lower() else OTHER_ACCOUNT
    # As the service decides: an account without a password (never set up) is set up with this link.
    account = get_user_model().objects.filter(email__iexact=employee_request.email).first()
    return SIGN_IN if account is not None and account.has_usable_password() else NEW_ACCOUNT


def _login_url(request) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': request.path})}"


def _page(request, employee_request, form, situation: str, *, errors=(), status: int = 200):
    person = employee_request.data.get("party") or {}
    legal_entity = employee_request.legal_entity
    return render(
        request,
        "registry/invitation.html",
        {
            "employee_request": employee_request,
            "legal_entity": legal_entity,
            "facility_address": address_text(legal_entity.addresses, address_type="REGISTRATION")
            or address_text(legal_entity.addresses),
            "person_name": payload_full_name(person),
            "role": selectors.dictionary_value_label(name="EMPLOYEE_TYPE", key=employee_request.employee_type)
            or employee_request.employee_type,
            "position": selectors.dictionary_value_label(name="POSITION", key=employee_request.position)
            or employee_request.position,
            "situation": situation,
            "form": form,
            "errors": errors,
            "sign_in_url": _login_url(request),
        },
        status=status,
    )


def _problem(request, problem: str):
    return render(
        request,
        "registry/invitation_problem.html",
        {"problem": problem},
        status=404 if problem == "invalid" else 410,
    )


# Included by registry/urls.py in the section of this flow (invitations; HR access granted by the head).
urlpatterns = [
    path("invite/<str:token>/", invitation, name="invitation"),
    path("cabinet/staff/hr-access/", hr_access.hr_access_wizard, name="hr-access"),
    path("cabinet/staff/hr-access/sent/", hr_access.hr_access_sent, name="hr-access-sent"),
    path("cabinet/staff/hr-access/<str:step>/", hr_access.hr_access_wizard, name="hr-access-step"),
]
