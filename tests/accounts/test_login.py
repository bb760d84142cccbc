"""Signing in with an email and password, failures, the failed-login rate limit, signing out."""

import re

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import translation

from .helpers import PASSWORD, main_html, sign_in, signed_in_user_id


def uk_error(code: str) -> str:
    with translation.override("uk"):
        return str(DefaultAccountAdapter.error_messages[code])


def en_error(code: str) -> str:
    with translation.override("en"):
        return str(DefaultAccountAdapter.error_messages[code])


def authenticated_sessions() -> list:
    return [s for s in Session.objects.all() if "_auth_user_id" in s.get_decoded()]


def test_sign_in_with_email_and_password(client, user):
    response = sign_in(client, "Doctor@Clinic.example")  # the address is case-insensitive
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_sign_in_starts_a_new_session(client, user):
    """No session fixation: the anonymous session's key is not the signed-in one (ASVS 7.2.4)."""
    session = client.session
    session["probe"] = "anonymous"
    session.save()
    anonymous_key = session.session_key
    sign_in(client, user.email)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != anonymous_key
    assert not Session.objects.filter(session_key=anonymous_key).exists()


def test_wrong_password_shows_the_error_in_the_form_and_signs_nobody_in(client, user):
    response = sign_in(client, user.email, "not-the-password")
    assert response.status_code == 200
    html = main_html(response)
    message = uk_error("email_password_mismatch")
    assert message != en_error("email_password_mismatch")  # translated
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S)
    assert summary and message in summary.group(0)
    assert 'value="doctor@clinic.example"' in html  # the email is kept, the password is not
    assert PASSWORD not in html and "not-the-password" not in html
    assert signed_in_user_id(client) is None
    assert authenticated_sessions() == []


def test_unknown_email_gets_the_same_error_as_a_wrong_password(client, user):
    """The login form does not tell which accounts exist."""
    response = sign_in(client, "nobody@clinic.example", PASSWORD)
    assert uk_error("email_password_mismatch") in main_html(response)


def test_too_many_failures_lock_the_account_even_with_the_right_password(client, user):
    # The per-account part of ACCOUNT_RATE_LIMITS["login_failed"], e.g. "10/m/ip,5/5m/key" -> 5.
    allowed = int(re.search(r"(\d+)/[^,/]+/key", settings.ACCOUNT_RATE_LIMITS["login_failed"]).group(1))
    for _ in range(allowed):
        response = sign_in(client, user.email, "guessing-again")
        assert uk_error("email_password_mismatch") in main_html(response)

    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code in (200, 429)
    assert uk_error("too_many_login_attempts") in response.content.decode()
    assert signed_in_user_id(client) is None
    assert authenticated_sessions() == []

    # From another address too: the limit is per account, not per client.
    other = Client(REMOTE_ADDR="192.0.2.77")
    assert uk_error("too_many_login_attempts") in sign_in(other, user.email, PASSWORD).content.decode()
    assert signed_in_user_id(other) is None


def test_sign_out_asks_for_confirmation_on_get(client, user):
    sign_in(client, user.email)
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert signed_in_user_id(client) == str(user.pk)  # a link or image cannot sign anyone out


def test_sign_out_ends_the_session_on_the_server(client, user):
    sign_in(client, user.email)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/accounts/password/change/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old_cookie).exists()

    # Replaying the old cookie (e.g. stolen before sign-out) gets the sign-in page, not the account.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    response = replay.get("/accounts/password/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
