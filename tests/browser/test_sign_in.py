"""An operator signs in through the Ukrainian sign-in page, reaches the admin and switches to English."""

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.helpers import PASSWORD, create_account

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
