"""Two-factor authentication with an authenticator app (TOTP)."""

import re

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client

from .helpers import PASSWORD, main_html, sign_in, signed_in_user_id, totp_code


def activate_totp(client) -> str:
    """Go through the activation page as the operator would; return the secret the app was given."""
    # Changing MFA needs a fresh password confirmation, even just after signing in (ASVS 7.5.1).
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    html = main_html(page)
    assert f'value="{secret}"' in html  # shown for manual entry, next to the QR code
    assert re.search(r'<label for="id_code">', html)

    wrong_code = "000000" if totp_code(secret) != "000000" else "111111"
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": wrong_code})
    assert wrong.status_code == 200
    assert 'aria-invalid="true"' in main_html(wrong)
    assert not Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()

    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    return secret


def test_operator_activates_totp_and_then_sign_in_needs_the_code(client, new_operator):
    operator = new_operator
    sign_in(client, operator.email)
    secret = activate_totp(client)
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()
    # Recovery codes are generated with it, for a lost phone.
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.RECOVERY_CODES).exists()

    browser = Client()
    response = sign_in(browser, operator.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(browser) is None  # the password alone is not enough
    assert browser.get("/admin/").status_code == 302

    response = browser.post("/accounts/2fa/authenticate/", {"code": "12345"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in main_html(response)
    assert signed_in_user_id(browser) is None

    code = totp_code(secret)
    response = browser.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert signed_in_user_id(browser) == str(operator.pk)

    # The same code cannot be replayed for another sign-in.
    another = Client()
    sign_in(another, operator.email)
    another.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(another) is None


def test_mfa_pages_render_in_the_portal_layout(client, new_operator):
    operator = new_operator
    sign_in(client, operator.email)
    index = client.get("/accounts/2fa/")
    assert index.status_code == 200
    assert 'href="/accounts/2fa/totp/activate/"' in main_html(index)
    assert 'class="panel"' in main_html(index)
    secret = activate_totp(client)
    assert secret
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert '<label for="recovery_codes">' in main_html(codes)
    deactivate = client.get("/accounts/2fa/totp/deactivate/")
    assert deactivate.status_code == 200
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()
