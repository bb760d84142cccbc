"""The CNAP monitoring loop in chromium: a CNAP official signs the joining application in the browser,
the operator connects the simulated information system in the admin, tests it, pulls the appeals, and
reads the dashboard; the public regional summary shows the region."""

import re

import pytest
from playwright.sync_api import expect

from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki
from monitoring.models import Appeal, CnapSystem, JoiningApplication, PullRun
from tests.accounts.helpers import PASSWORD, create_account, totp_code
from tests.monitoring.simulator_fixtures import SIM_LOGIN, SIM_PASSWORD, cnap_simulator  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY_EDRPOU = "04012514"  # the body that runs the simulated CNAP


@pytest.fixture
def official_key(tmp_path, settings):
    """A development CA trusted by the portal and the key file of an official of the CNAP's body."""
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init()
    pki.issue(
        "official", surname="Мельник", given_names="Ірина Василівна", drfo="2954107135", edrpou=BODY_EDRPOU
    )
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls
    # The simulator speaks plain http on loopback, which only development accepts as an endpoint.
    settings.DEBUG = True
    return pki.paths("official")["p12"]


def admin_action(page, action_label: str, row_label: str) -> None:
    page.get_by_role("row").filter(has_text=row_label).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label=action_label)
    page.get_by_role("button", name="Вперед").click()


def test_a_cnap_joins_is_pulled_and_its_quality_is_shown(page, screenshot, official_key, cnap_simulator):  # noqa: F811
    cnap = sorted(cnap_simulator.cnap_codes)[0]
    endpoint = cnap_simulator.url_for(cnap)

    # The CNAP's official applies and signs in the browser.
    page.goto("/")
    page.get_by_role("link", name="Підключити інформаційну систему ЦНАП").click()
    page.locator("#id_cnap").select_option(cnap)
    page.get_by_label("Код ЄДРПОУ органу, що утворив ЦНАП").fill(BODY_EDRPOU)
    page.get_by_label("Електронна пошта для зв'язку").fill("cnap@example.gov.ua")
    page.get_by_label("Адреса точки доступу до даних про звернення").fill(endpoint)
    page.get_by_role("button", name="Продовжити").click()
    expect(page.locator("#signed-document")).to_contain_text(BODY_EDRPOU)
    page.locator("#key-file").set_input_files(str(official_key))
    page.locator("#key-password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Підписати заяву").click()
    expect(page.locator("[data-sign-status]")).to_contain_text("Заяву підписано")
    page.get_by_role("button", name="Подати заяву").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Заяву подано")
    application = JoiningApplication.objects.get()
    assert (application.signer_edrpou, application.status) == (BODY_EDRPOU, "SUBMITTED")

    # The operator connects the system from the application.
    create_account("operator@example.com", is_staff=True, is_superuser=True)
    page.goto(f"/admin/monitoring/joiningapplication/{application.pk}/change/")
    page.get_by_label("Електронна пошта").fill("operator@example.com")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Увійти").click()
    page.get_by_label("Код").fill(totp_code())  # the authenticator app's code (the factory's secret)
    page.get_by_role("button", name="Увійти").click()
    page.get_by_role("link", name=re.compile("Підключити систему")).click()
    page.get_by_label("Базова адреса (URL)", exact=False).fill(endpoint)
    page.get_by_label("Логін Basic Auth").fill(SIM_LOGIN)
    page.get_by_label("Пароль Basic Auth").fill(SIM_PASSWORD)
    page.get_by_role("button", name="Зберегти", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    system = CnapSystem.objects.get()
    assert SIM_PASSWORD not in system.password_encrypted
    assert page.locator(f"input[value='{SIM_PASSWORD}']").count() == 0

    admin_action(page, "Перевірити з'єднання (один день)", cnap)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Appeal.objects.count() == 0  # a connection test stores nothing

    admin_action(page, "Завантажити зараз звернення за останні 7 днів", cnap)
    expect(page.locator(".messagelist .success")).to_be_visible()
    run = PullRun.objects.filter(trigger="MANUAL").get()
    assert run.status == "SUCCEEDED" and run.records_created > 0
    stored = Appeal.objects.count()
    assert stored == run.records_created

    # The dashboard shows the CNAP's figures.
    page.goto("/monitoring/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Якість послуг ЦНАП")
    expect(page.locator("table").first).to_contain_text(cnap)
    expect(page.locator("canvas").first).to_be_visible()
    screenshot("monitoring-dashboard")

    # A second pull of the same days adds no duplicates.
    page.goto("/admin/monitoring/cnapsystem/")
    admin_action(page, "Завантажити зараз звернення за останні 7 днів", cnap)
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Appeal.objects.count() == stored

    # Anyone can read the regional summary.
    page.context.clear_cookies()
    page.goto("/monitoring/regions/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Якість послуг ЦНАП за областями")
    expect(page.locator("table").first).to_contain_text(system.cnap.region)
    screenshot("monitoring-regions")
