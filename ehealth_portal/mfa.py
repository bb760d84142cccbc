"""Operators must use a second factor: a staff account opens the national registry.

A staff (or superuser) account signed in without an active authenticator app (TOTP) or security key
(WebAuthn) reaches only the pages that enrol one, and signing out; anything else, the admin first of
all, sends it to /accounts/2fa/ with a message. Once enrolled, allauth asks for the second factor at
every sign-in (the admin's login is allauth's, see urls.py).
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext

SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]

# URL names an operator without a second factor may open: enrolment, the password confirmation it
# asks for, recovery codes, signing out, and the language switch.
ENROLMENT_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "account_reauthenticate",
        "account_logout",
        "set_language",
        "javascript-catalog",
    }
)


def second_factor_required(user) -> bool:
    """True for a privileged account that has no authenticator app or security key yet."""
    return (
        user.is_authenticated
        and (user.is_staff or user.is_superuser)
        and not is_mfa_enabled(user, SECOND_FACTORS)
    )


class StaffSecondFactorMiddleware:
    """Sends operators without a second factor to its enrolment (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.resolver_match.view_name in ENROLMENT_URL_NAMES or not second_factor_required(
            request.user
        ):
            return None
        messages.warning(
            request,
            gettext(
                "Operators must protect their account with a second factor before using the portal: "
                "activate an authenticator app or add a security key, then keep the recovery codes."
            ),
        )
        return redirect("mfa_index")
