"""Signing in with an email and password, failures, the failed-login rate limit, signing out."""

import re

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import translation

from .helpers import PASSWORD, create_account, main_html, sign_in, signed_in_user_id


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


def rate_amount(action: str, per: str) -> int:
    """The amount of ACCOUNT_RATE_LIMITS[action]'s rate per `per`, e.g. "10/m/ip,5/5m/key" -> key: 5."""
    return int(re.search(rf"(\d+)/[^,/]+/{per}", settings.ACCOUNT_RATE_LIMITS[action]).group(1))


def refused_as_too_many(response) -> bool:
    return (
        response.status_code in (200, 429)
        and uk_error("too_many_login_attempts") in response.content.decode()
    )


ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def test_guessing_from_one_address_stops_that_address_but_not_the_owner(user):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(rate_amount("login_failed", "key")):
        response = sign_in(attacker, user.email, "guessing-again")
        assert uk_error("email_password_mismatch") in main_html(response)

    # The attacker is stopped, even with the right password...
    assert refused_as_too_many(sign_in(attacker, user.email, PASSWORD))
    assert signed_in_user_id(attacker) is None
    assert authenticated_sessions() == []

    # ...while the owner, from their own address, signs in.
    owner = Client(REMOTE_ADDR=OWNER)
    response = sign_in(owner, user.email, PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(owner) == str(user.pk)
    assert refused_as_too_many(sign_in(attacker, user.email, PASSWORD))


def test_one_address_guessing_across_many_accounts_is_stopped(user):
    accounts = [create_account(f"doctor{n}@clinic.example") for n in range(rate_amount("login_failed", "ip"))]
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for account in accounts:  # one guess per account: no account's own limit is reached
        assert uk_error("email_password_mismatch") in main_html(
            sign_in(attacker, account.email, "Password123!")
        )

    assert refused_as_too_many(sign_in(attacker, user.email, PASSWORD))
    assert signed_in_user_id(attacker) is None
    owner = Client(REMOTE_ADDR=OWNER)
    assert sign_in(owner, user.email, PASSWORD).status_code == 302
    assert signed_in_user_id(owner) == str(user.pk)


def test_guessing_spread_over_many_addresses_locks_the_account(user):
    per_address = rate_amount("login_failed", "key")
    account_wide = rate_amount("login_failed_account", "key")
    assert account_wide > per_address * 12  # one address (5 per 5 minutes) never reaches it in an hour
    for n in range(account_wide):
        attacker = Client(REMOTE_ADDR=f"203.0.113.{n // per_address + 1}")  # each address: its limit
        assert uk_error("email_password_mismatch") in main_html(sign_in(attacker, user.email, "guess-again"))

    owner = Client(REMOTE_ADDR=OWNER)
    assert refused_as_too_many(sign_in(owner, user.email, PASSWORD))
    assert signed_in_user_id(owner) is None
    assert authenticated_sessions() == []


def test_a_successful_sign_in_does_not_count_as_a_failure(user):
    owner = Client(REMOTE_ADDR=OWNER)
    for _ in range(rate_amount("login_failed", "key") + 1):
        assert sign_in(owner, user.email, PASSWORD).status_code == 302
        owner.post("/accounts/logout/")
    assert signed_in_user_id(owner) is None


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
