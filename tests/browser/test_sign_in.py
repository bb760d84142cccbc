"""An operator signs in through the Ukrainian sign-in page (password, then the authenticator code),
reaches the admin and switches to English; a new operator must enrol an authenticator app first."""

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.helpers import PASSWORD, create_account, enrolment_message, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_signs_in_to_the_admin_and_switches_to_english(page, live_server, screenshot):
    operator = create_account("operator@ehealth.example", is_staff=True, is_superuser=True)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Увійти")
    email = page.get_by_label("Електронна пошта")
    password = page.get_by_label("Пароль", exact=True)
    expect(email).to_be_visible()
    expect(password).to_have_attribute("aria-describedby", "id_password_helptext")
    screenshot("login-uk")

    email.fill(operator.email)
    password.fill("not-the-password")
    page.get_by_role("button", name="Увійти").click()
    summary = page.locator("form.form-login").get_by_role("alert")
    expect(summary).to_contain_text("Вказана адреса електронної пошти та/або пароль неправильні.")
    expect(page.get_by_label("Електронна пошта")).to_have_value(operator.email)
    expect(page.get_by_label("Пароль", exact=True)).to_have_value("")
    screenshot("login-error-uk")

    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    # Operators have a second factor: the code of their authenticator app (the factory's secret).
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Двофакторна автентифікація")
    page.get_by_label("Код").fill(totp_code())
    screenshot("login-code-uk")
    page.get_by_role("button", name="Увійти").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Адміністрування сайта")).to_be_visible()

    # The portal's pages carry the language switcher; the choice applies to the admin as well.
    page.goto("/")
    expect(page.get_by_role("link", name="Двофакторна автентифікація")).to_be_visible()
    page.get_by_label("Мова").select_option("en")
    page.get_by_role("button", name="Змінити").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("eHealth registration portal")
    expect(page.get_by_role("link", name="Two-factor authentication")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot("home-en")

    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_a_new_operator_enrols_an_authenticator_app_before_the_admin_opens(page, live_server, screenshot):
    operator = create_account(
        "new-operator@ehealth.example", is_staff=True, is_superuser=True, second_factor=False
    )
    page.goto("/admin/")
    page.get_by_label("Електронна пошта").fill(operator.email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()

    # Not the admin: the enrolment page, with the reason.
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    expect(page.locator(".messages")).to_contain_text(enrolment_message())
    screenshot("mfa-required-uk")

    page.get_by_role("link", name="Увімкнути").click()
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)  # changing MFA asks for the password again
    page.get_by_role("button", name="Підтвердити").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/totp/activate/")
    secret = page.get_by_label("Секретний ключ автентифікатора").input_value()
    page.get_by_label("Код із застосунку-автентифікатора").fill(totp_code(secret))
    page.get_by_role("button", name="Увімкнути").click()

    # Activation shows the recovery codes; then the admin opens.
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/recovery-codes/")
    expect(page.get_by_label("Невикористані коди")).to_be_visible()
    page.get_by_role("link", name="Адміністрування").click()
    expect(page.get_by_role("heading", name="Адміністрування сайта")).to_be_visible()


def test_a_new_operator_enrols_a_security_key_and_signs_in_with_it(page, live_server, settings):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # http://localhost, as in development (DEBUG)
    cdp = page.context.new_cdp_session(page)  # chromium's virtual security key
    cdp.send("WebAuthn.enable")
    options = {"protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True}
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {**options, "isUserVerified": True}})
    operator = create_account("key-operator@ehealth.example", is_staff=True, second_factor=False)

    page.goto("/admin/")
    page.get_by_label("Електронна пошта").fill(operator.email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/")
    page.get_by_role("link", name="Додати").click()
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Підтвердити").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/webauthn/add/")
    page.get_by_role("button", name="Додати").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/recovery-codes/")
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Адміністрування сайта")).to_be_visible()

    # The next sign-in asks for the key.
    page.get_by_role("button", name="Вийти").click()
    page.goto("/admin/")
    page.get_by_label("Електронна пошта").fill(operator.email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    page.locator("#mfa_webauthn_authenticate").click()  # "Use a security key"
    expect(page.get_by_role("heading", name="Адміністрування сайта")).to_be_visible()
