"""Helpers for the account tests (and the browser tests): users as invitations leave them, TOTP codes."""

import re
import time

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext

from tests.factories import TOTP_SECRET, second_factor_enrol

PASSWORD = "correct-horse-battery-17"


def create_account(email: str, password: str = PASSWORD, *, second_factor: bool | None = None, **extra):
    """A password and a verified primary email: ACCOUNT_EMAIL_VERIFICATION is mandatory.

    A staff account also gets an authenticator app with TOTP_SECRET, as operators must have one;
    `second_factor=False` leaves it without (a new operator who has not enrolled yet).
    """
    user = get_user_model().objects.create_user(email=email, password=password, **extra)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if second_factor or (second_factor is None and (user.is_staff or user.is_superuser)):
        second_factor_enrol(user)
    return user


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows now for this secret (RFC 6238 with allauth's parameters)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def main_html(response) -> str:
    """The page's <main>: assertions about a page's text should not match the header or footer."""
    html = response.content.decode()
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "the page has no <main>"
    return match.group(0)


def sign_in_with_code(client, email: str, password: str = PASSWORD, *, secret: str = TOTP_SECRET, **extra):
    """Password, then the authenticator code: an operator's whole sign-in. Returns the code step's response."""
    response = sign_in(client, email, password, **extra)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/", response
    return client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})


def enrolment_message() -> str:
    """What an operator without a second factor is told (ehealth_portal.mfa), in Ukrainian."""
    with translation.override("uk"):
        return gettext(
            "Operators must protect their account with a second factor before using the portal: "
            "activate an authenticator app or add a security key, then keep the recovery codes."
        )
