"""Self-signup is closed: accounts come from invitations."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import translation

from .helpers import main_html


def test_signup_page_says_registration_is_by_invitation(client, db):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    with translation.override("uk"):
        heading = translation.gettext("Registration by invitation only")
    assert heading != "Registration by invitation only"
    assert heading in main_html(response)
    assert 'href="/accounts/login/"' in main_html(response)


def test_posting_the_signup_form_creates_no_user(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "intruder@example.com",
            "password1": "a-long-password-17",
            "password2": "a-long-password-17",
        },
    )
    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert not get_user_model().objects.exists()
    assert not EmailAddress.objects.exists()
    assert "_auth_user_id" not in client.session


def test_login_page_offers_no_signup_link(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "/accounts/signup/" not in html
