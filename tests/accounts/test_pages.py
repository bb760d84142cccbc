"""allauth's pages in the portal's layout, accessible: labels tied to inputs, errors tied to fields."""

import re

import pytest
from django.utils import translation

from .helpers import PASSWORD, main_html, sign_in


def uk(msgid: str) -> str:
    with translation.override("uk"):
        return translation.gettext(msgid)


def labelled_inputs(html: str) -> list[str]:
    """ids of visible inputs that have no <label for=...>."""
    ids = re.findall(
        r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', html
    )
    return [i for i in ids if f'for="{i}"' not in html]


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/done/",
        "/accounts/password/reset/key/1-not-a-key/",
        "/accounts/confirm-email/not-a-key/",
        "/accounts/signup/",
    ],
)
def test_entrance_pages_use_the_portal_layout(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="uk">' in html
    assert 'class="layout-entrance"' in html
    assert 'href="/static/css/portal.css"' in html
    assert labelled_inputs(main_html(response)) == []


def test_login_page_is_ukrainian_with_labels_tied_to_inputs(client, db):
    html = main_html(client.get("/accounts/login/"))
    assert f"<h1>{uk('Sign in')}</h1>" in html
    assert re.search(rf'<label for="id_login">\s*{re.escape(uk("Email"))}', html)
    assert re.search(rf'<label for="id_password">\s*{re.escape(uk("Password"))}', html)
    assert uk("Email") == "Електронна пошта"
    # The "forgot your password?" link is the password field's help text, announced with it.
    assert re.search(r'id="id_password_helptext"><a href="/accounts/password/reset/">', html)
    assert re.search(r'<input[^>]*name="password"[^>]*aria-describedby="id_password_helptext"', html)
    assert "novalidate" in html  # the server's translated, tied errors rather than the browser's bubbles


def test_missing_fields_are_reported_next_to_each_field_and_in_the_summary(client, db):
    html = main_html(client.post("/accounts/login/", {"login": "", "password": ""}))
    assert 'class="error-summary" role="alert"' in html
    for name in ("login", "password"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*aria-invalid="true"', html)
        assert re.search(rf'<input[^>]*name="{name}"[^>]*aria-describedby="[^"]*id_{name}_error', html)
        assert f'<ul class="errorlist" id="id_{name}_error">' in html
        assert f'href="#id_{name}"' in html


def test_signed_in_user_sees_password_and_two_factor_links(client, user):
    sign_in(client, user.email)
    html = client.get("/").content.decode()
    nav = re.search(r'<nav class="account-nav".*?</nav>', html, re.S).group(0)
    assert f'href="/accounts/password/change/">{uk("Change password")}</a>' in nav
    assert f'href="/accounts/2fa/">{uk("Two-factor authentication")}</a>' in nav
    assert user.email in nav
    assert 'action="/accounts/logout/"' in nav


def test_password_change_page(client, user):
    sign_in(client, user.email)
    response = client.get("/accounts/password/change/")
    html = main_html(response)
    assert 'class="layout-manage"' in response.content.decode()
    assert labelled_inputs(html) == []
    assert 'id="id_password1_helptext"' in html  # the password rules, tied to the new password
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "changed-password-2025", "password2": "changed-password-2025"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("changed-password-2025")


def test_rate_limited_page_is_the_portals(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "1/m/ip"}
    client.post("/accounts/password/reset/", {"email": "a@example.com"})
    response = client.post("/accounts/password/reset/", {"email": "b@example.com"})
    assert response.status_code == 429
    assert "429.html" in [t.name for t in response.templates]
    assert uk("Too many attempts") in main_html(response)
