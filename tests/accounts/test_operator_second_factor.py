"""Operators must enrol a second factor before the admin (or any other page) opens to them."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.test import Client

from .helpers import (
    PASSWORD,
    enrolment_message,
    main_html,
    sign_in,
    sign_in_with_code,
    signed_in_user_id,
    totp_code,
)
from .test_mfa import activate_totp


def test_operator_without_a_second_factor_is_sent_to_enrolment_not_to_the_admin(client, new_operator):
    sign_in(client, new_operator.email)
    assert signed_in_user_id(client) == str(new_operator.pk)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200
    assert enrolment_message() in main_html(page)
    assert 'href="/accounts/2fa/totp/activate/"' in main_html(page)
    assert 'href="/accounts/2fa/webauthn/add/"' in main_html(page)

    response = client.get("/admin/portal/user/", follow=True)
    assert "admin/index.html" not in [t.name for t in response.templates]
    assert "admin/change_list.html" not in [t.name for t in response.templates]
    assert response.redirect_chain[-1][0] == "/accounts/2fa/"


def test_an_operator_without_a_second_factor_changes_nothing(client, new_operator, user):
    sign_in(client, new_operator.email)
    users = list(get_user_model().objects.order_by("pk").values())

    response = client.post(
        "/admin/portal/user/add/",
        {
            "email": "intruder@example.com",
            "password1": "Very-long-pass-2026",
            "password2": "Very-long-pass-2026",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    response = client.post(f"/admin/portal/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    response = client.post(
        "/admin/portal/user/", {"action": "delete_selected", "_selected_action": [user.pk], "post": "yes"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"

    assert list(get_user_model().objects.order_by("pk").values()) == users


@pytest.mark.parametrize(
    "path", ["/", "/monitoring/", "/api/docs/", "/accounts/password/change/", "/admin/login/"]
)
def test_an_operator_without_a_second_factor_reaches_no_other_page(client, new_operator, path):
    sign_in(client, new_operator.email)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"


@pytest.mark.parametrize(
    "path", ["/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/", "/jsi18n/"]
)
def test_an_operator_without_a_second_factor_reaches_enrolment_and_sign_out(client, new_operator, path):
    sign_in(client, new_operator.email)
    assert client.get(path).status_code == 200


def test_the_security_key_page_opens_for_enrolment(client, new_operator):
    sign_in(client, new_operator.email)
    response = client.get("/accounts/2fa/webauthn/add/")
    assert response["Location"].startswith("/accounts/reauthenticate/")  # password first, as for TOTP
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get("/accounts/2fa/webauthn/add/")
    assert page.status_code == 200
    assert 'id="mfa_webauthn_add"' in main_html(page)


def test_after_enrolling_totp_and_its_recovery_codes_the_admin_opens(client, new_operator):
    sign_in(client, new_operator.email)
    assert client.get("/admin/")["Location"] == "/accounts/2fa/"

    secret = activate_totp(client)
    codes = client.get("/accounts/2fa/recovery-codes/")  # where activation leads
    assert codes.status_code == 200
    assert Authenticator.objects.filter(user=new_operator, type=Authenticator.Type.RECOVERY_CODES).exists()

    response = client.get("/admin/")
    assert response.status_code == 200
    assert "admin/index.html" in [t.name for t in response.templates]

    # The next sign-in asks for the code before the admin opens.
    browser = Client()
    response = sign_in(browser, new_operator.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert browser.get("/admin/").status_code == 302
    browser.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert browser.get("/admin/").status_code == 200


def test_an_operator_who_removes_the_second_factor_is_sent_back_to_enrolment(client, operator):
    sign_in_with_code(client, operator.email)
    assert client.get("/admin/").status_code == 200
    Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).delete()
    assert client.get("/admin/")["Location"] == "/accounts/2fa/"


def test_users_who_are_not_operators_need_no_second_factor(client, user):
    sign_in(client, user.email)
    assert client.get("/").status_code == 200
    assert client.get("/accounts/password/change/").status_code == 200
