"""Helpers for the account tests (and the browser tests): users as invitations leave them, TOTP codes."""

import re
import time

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model

PASSWORD = "correct-horse-battery-17"


def create_account(email: str, password: str = PASSWORD, **extra):
    """A password and a verified primary email: ACCOUNT_EMAIL_VERIFICATION is mandatory."""
    user = get_user_model().objects.create_user(email=email, password=password, **extra)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for this secret (RFC 6238 with allauth's parameters)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def main_html(response) -> str:
    """The page's <main>: assertions about a page's text should not match the header or footer."""
    html = response.content.decode()
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "the page has no <main>"
    return match.group(0)
