"""A head registers the demo clinic in chromium: the wizard, a signature made in the browser from a
PKCS#12 key file, the checks, the emailed invitation, the cabinet, and the clinic on the map."""

import json
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from ehealth_portal.models import Email
from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki
from registry.edr import DEMO_REGISTER_FILES, edr_import
from registry.models import RegistrationApplication
from registry.services import reference_data_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
CLINIC = 'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР ПЕРВИННОЇ МЕДИКО-САНІТАРНОЇ ДОПОМОГИ"'
EDRPOU = "38782323"  # the demo register's clinic, headed by the demo head
HEAD_EMAIL = "kovalenko@demo-clinic.example"
PASSWORD = "Kashtany-Tsvitut-2026"


@pytest.fixture
def head_key(tmp_path, settings):
    """Reference data, the demo register, a development CA in tmp (trusted by the portal) and the demo
    head's PKCS#12 key file."""
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init()
    pki.issue("head", surname="Коваленко", given_names="Олена Петрівна", drfo="3185409128", edrpou=EDRPOU)
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls
    settings.MAP_TILE_URL = ""  # no tile server in tests: the map still shows its markers
    edr_import(list(DEMO_REGISTER_FILES), workers=0)
    return pki.paths("head")["p12"]


def fill(page, step: str, values: dict) -> None:
    for name, value in values.items():
        field = page.locator(f"#id_{step}-{name}")
        tag = field.evaluate("element => element.tagName")
        if tag == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def continue_to(page, heading: str) -> None:
    page.get_by_role("button", name="Продовжити").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_a_head_registers_the_clinic_and_finds_it_on_the_map(page, live_server, screenshot, head_key):
    mail.outbox = []
    page.goto("/facilities/")
    page.get_by_role("link", name="Зареєструвати заклад").click()

    # 1. Facility
    expect(page.get_by_role("heading", level=1)).to_have_text("Заклад")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Заклад")
    expect(page.get_by_text("Крок 1 з 5")).to_be_visible()
    page.get_by_label("Повна назва").fill(CLINIC)
    page.get_by_label("Публічна назва").fill("Демо центр ПМСД")
    page.get_by_label("Організаційно-правова форма").select_option("150")
    page.get_by_label("бюджетна").check()
    page.get_by_label("ЄДРПОУ").fill(EDRPOU)
    page.get_by_label("Знайти код: введіть цифри або слова").fill("загальна")
    expect(page.locator("#id_facility-kveds .checkbox-list-item:not([hidden])")).to_have_count(1)
    page.get_by_label("86.21 Загальна медична практика").check()
    expect(page.get_by_text("Вибрано: 86.21")).to_be_visible()
    fill(page, "facility", {"email": "info@demo-clinic.example", "phone_mobile": "050 123 45 67"})
    screenshot("registration-1-facility")
    continue_to(page, "Адреси")

    # 2. Addresses: an error first, then the map click fills the coordinates.
    expect(page.get_by_text("Крок 2 з 5")).to_be_visible()
    fill(
        page,
        "addresses",
        {
            "registration_area": "М.КИЇВ",
            "registration_region": "Голосіївський",
            "registration_settlement_type": "CITY",
            "registration_settlement": "Київ",
            "registration_street_type": "STREET",
            "registration_street": "Демонстраційна",
            "registration_building": "1",
            "registration_zip": "0315",
            "division_name": "Амбулаторія № 1",
            "division_type": "AMBULANT_CLINIC",
            "division_phone_type": "LAND_LINE",
            "division_phone": "+380441234567",
            "division_email": "ambulatory@demo-clinic.example",
        },
    )
    page.locator(".location-map").click(position={"x": 300, "y": 150})
    expect(page.get_by_label("Широта")).not_to_have_value("")
    latitude = float(page.get_by_label("Широта").input_value())
    longitude = float(page.get_by_label("Довгота").input_value())
    assert 44 <= latitude <= 53 and 22 <= longitude <= 41
    expect(page.locator(".location-map .leaflet-marker-icon")).to_have_count(1)
    page.get_by_role("button", name="Продовжити").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Поштовий індекс")
    expect(page.locator("#id_addresses-registration_zip")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Широта")).to_have_value(f"{latitude:.6f}")  # kept
    screenshot("registration-2-addresses-error")
    page.locator("#id_addresses-registration_zip").fill("03150")
    screenshot("registration-2-addresses")
    continue_to(page, "Ліцензія")

    # 3. Licence
    fill(
        page,
        "licence",
        {
            "license_number": "АЕ 123456",
            "license_issued_by": "Міністерство охорони здоров'я України",
            "license_issued_date": "2020-01-15",
            "license_active_from_date": "2020-01-20",
            "license_order_no": "15-Л",
            "accreditation_category": "FIRST",
            "accreditation_order_no": "77",
            "accreditation_order_date": "2021-03-01",
        },
    )
    screenshot("registration-3-licence")
    continue_to(page, "Керівник")

    # 4. Head; "Back" keeps what was typed.
    fill(page, "head", {"last_name": "Коваленко", "first_name": "Олена", "second_name": "Петрівна"})
    page.get_by_role("button", name="Назад").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ліцензія")
    expect(page.locator("#id_licence-license_order_no")).to_have_value("15-Л")
    continue_to(page, "Керівник")
    expect(page.locator("#id_head-last_name")).to_have_value("Коваленко")
    fill(
        page,
        "head",
        {
            "tax_id": "3185409128",
            "birth_date": "1980-05-17",
            "document_type": "NATIONAL_ID",
            "document_number": "001234567",
            "document_issued_by": "8033",
            "document_issued_at": "2018-01-10",
            "phone_mobile": "+380671234567",
            "email": HEAD_EMAIL,
            "position": "P3",
        },
    )
    page.get_by_label("Жіноча").check()
    screenshot("registration-4-head")
    continue_to(page, "Перевірка та підпис")

    # 5. Review and sign in the browser: a wrong password first.
    expect(page.get_by_text("Крок 5 з 5")).to_be_visible()
    document = page.locator("#signed-document")
    expect(document).to_contain_text(f'"edrpou":"{EDRPOU}"')
    expect(page.get_by_role("link", name="Завантажити документ (JSON)")).to_be_visible()
    page.get_by_label("Я ознайомився(-лася) з публічною офертою та приймаю її").check()
    page.get_by_label("Файл ключа (.p12, .pfx)").set_input_files(str(head_key))
    page.get_by_label("Пароль до файлу ключа").fill("not-the-password")
    page.get_by_role("button", name="Підписати документ").click()
    status = page.locator("[data-sign-status]")
    expect(status).to_have_text(
        "Пароль не підходить до цього файлу ключа. Перевірте його та спробуйте ще раз."
    )
    expect(page.locator("#id_review-signature_base64")).to_have_value("")
    page.get_by_label("Пароль до файлу ключа").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Підписати документ").click()
    expect(status).to_have_text("Документ підписано. Тепер подайте заяву.", timeout=20_000)
    # The key file and its password are never part of the form.
    assert page.locator("#key-file").get_attribute("name") is None
    assert page.locator("#key-password").get_attribute("name") is None
    screenshot("registration-5-review")

    with page.expect_request(lambda request: request.method == "POST") as submitted:
        page.get_by_role("button", name="Подати заяву").click()
    body = submitted.value.post_data_buffer or b""
    assert b"not-the-password" not in body and DEFAULT_PASSWORD.encode() not in body
    assert b'name="review-signature_base64"' in body

    # The checks ran when the submission committed.
    expect(page.get_by_role("heading", name="Заклад зареєстровано")).to_be_visible()
    assert RegistrationApplication.objects.get().status == RegistrationApplication.Status.APPROVED
    screenshot("registration-6-status")

    # The emailed invitation: set a password, land in the cabinet.
    invitation = Email.objects.filter(to=HEAD_EMAIL, text_body__contains="/invite/").get()
    page.goto(re.search(r"https?://[^/\s]+(/invite/[\w-]+/)", invitation.text_body)[1])
    expect(page.get_by_label("Електронна пошта — ваш логін")).to_have_value(HEAD_EMAIL)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль (ще раз)").fill(PASSWORD)
    screenshot("registration-7-invitation")
    page.get_by_role("button", name="Прийняти та встановити пароль").click()
    cabinet = re.compile(rf"{re.escape(live_server.url)}/cabinet/\?facility=[0-9a-f-]+")  # its own cabinet
    expect(page).to_have_url(cabinet)
    expect(page.get_by_role("heading", level=1)).to_have_text("Демо центр ПМСД")
    expect(page.get_by_text("Ще не верифіковано НСЗУ")).to_be_visible()
    screenshot("registration-8-cabinet")

    # The clinic on the public map: a marker whose popup links to its page.
    page.get_by_role("link", name="Мапа", exact=True).click()
    map_element = page.locator("[data-facility-map]")
    expect(map_element).to_have_attribute("data-state", "ready")
    marker = map_element.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("title", "Амбулаторія № 1")
    marker.click()
    screenshot("registration-9-map")
    page.get_by_role("link", name="Сторінка закладу").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Демо центр ПМСД")
    screenshot("registration-10-facility-page")

    # …and in the public list, found by its EDRPOU.
    page.get_by_role("link", name="Заклади", exact=True).click()
    page.get_by_label("Назва або ЄДРПОУ").fill(EDRPOU)
    page.get_by_role("button", name="Шукати").click()
    expect(page.get_by_role("link", name="Демо центр ПМСД")).to_be_visible()
    screenshot("registration-11-list")
