"""Operators reach the admin through the portal's sign-in (its rate limits and MFA); others don't."""

from urllib.parse import parse_qs, urlsplit

from .helpers import PASSWORD, sign_in, signed_in_user_id, totp_code


def test_operator_is_sent_to_the_portal_login_and_lands_in_the_admin(client, operator):
    response = client.get("/admin/", follow=True)
    login_url, _ = response.redirect_chain[-1]
    assert login_url.startswith("/accounts/login/?next=")
    assert "account/login.html" in [t.name for t in response.templates]

    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    assert next_url.startswith("/admin/")
    response = client.post(
        "/accounts/login/", {"login": operator.email, "password": PASSWORD, "next": next_url}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"  # then the authenticator code
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert response.status_code == 200
    assert "admin/index.html" in [t.name for t in response.templates]


def test_admin_login_form_itself_is_never_shown_to_visitors(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = client.post("/admin/login/", {"username": "x@example.com", "password": "guess"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signed_in_user_who_is_not_an_operator_cannot_use_the_admin(client, user):
    sign_in(client, user.email)
    response = client.get("/admin/", follow=True)
    assert "admin/index.html" not in [t.name for t in response.templates]
    response = client.get("/admin/portal/user/")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/portal/user/" not in response["Location"].split("?")[0]


def test_admin_login_form_cannot_bypass_the_portal_login(client, user, operator):
    sign_in(client, user.email)
    response = client.get("/admin/login/")
    assert response.status_code == 403
    client.post("/admin/login/?next=/admin/", {"username": operator.email, "password": PASSWORD})
    assert signed_in_user_id(client) == str(user.pk)
