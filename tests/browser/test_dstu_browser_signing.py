"""A head registers the demo clinic in chromium signing with a DSTU 4145 key: a devpki Key-6.dat and its
certificate file, opened by jkurwa (static/vendor/jkurwa/ehealth-dstu.js) on the page; the portal accepts
the signature. The key file and its password never reach the server."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki
from registry.edr import DEMO_REGISTER_FILES, edr_import
from registry.models import RegistrationApplication
from registry.services import reference_data_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
CLINIC = 'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР ПЕРВИННОЇ МЕДИКО-САНІТАРНОЇ ДОПОМОГИ"'
EDRPOU = "38782323"  # the demo register's clinic, headed by the demo head
KEY_PASSWORD = "Ключ-Пароль-7"  # not ASCII: the page must hand jkurwa the UTF-8 bytes devpki used


@pytest.fixture
def head_dstu_key(tmp_path, settings) -> dict[str, Path]:
    """Reference data, the demo register, a DSTU development CA (trusted by the portal) and the demo
    head's Key-6.dat with the certificate beside it."""
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init(key_type="dstu")
    pki.issue(
        "head",
        key_type="dstu",
        surname="Коваленко",
        given_names="Олена Петрівна",
        drfo="3185409128",
        edrpou=EDRPOU,
    )
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls
    settings.MAP_TILE_URL = ""
    edr_import(list(DEMO_REGISTER_FILES), workers=0)
    certificate = tmp_path / "head.cer"  # key media carry the certificate as a separate file
    certificate.write_bytes(pki.paths("head")["cert.pem"].read_bytes())
    return {"key": pki.key6_write("head", password=KEY_PASSWORD), "certificate": certificate}


def fill(page, step: str, values: dict) -> None:
    for name, value in values.items():
        field = page.locator(f"#id_{step}-{name}")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def continue_to(page, heading: str) -> None:
    page.get_by_role("button", name="Продовжити").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def _to_review(page) -> None:
    page.goto("/facilities/")
    page.get_by_role("link", name="Зареєструвати заклад").click()
    page.get_by_label("Повна назва").fill(CLINIC)
    page.get_by_label("Публічна назва").fill("Демо центр ПМСД")
    page.get_by_label("Організаційно-правова форма").select_option("150")
    page.get_by_label("бюджетна").check()
    page.get_by_label("ЄДРПОУ").fill(EDRPOU)
    page.get_by_label("Знайти код: введіть цифри або слова").fill("загальна")
    page.get_by_label("86.21 Загальна медична практика").check()
    fill(page, "facility", {"email": "info@demo-clinic.example", "phone_mobile": "050 123 45 67"})
    continue_to(page, "Адреси")
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
            "registration_zip": "03150",
            "division_name": "Амбулаторія № 1",
            "division_type": "AMBULANT_CLINIC",
            "division_phone_type": "LAND_LINE",
            "division_phone": "+380441234567",
            "division_email": "ambulatory@demo-clinic.example",
        },
    )
    page.locator(".location-map").click(position={"x": 300, "y": 150})
    expect(page.get_by_label("Широта")).not_to_have_value("")
    continue_to(page, "Ліцензія")
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
    continue_to(page, "Керівник")
    fill(
        page,
        "head",
        {
            "last_name": "Коваленко",
            "first_name": "Олена",
            "second_name": "Петрівна",
            "tax_id": "3185409128",
            "birth_date": "1980-05-17",
            "document_type": "NATIONAL_ID",
            "document_number": "001234567",
            "document_issued_by": "8033",
            "document_issued_at": "2018-01-10",
            "phone_mobile": "+380671234567",
            "email": "kovalenko@demo-clinic.example",
            "position": "P3",
        },
    )
    page.get_by_label("Жіноча").check()
    continue_to(page, "Перевірка та підпис")


def test_a_head_signs_the_registration_with_a_dstu_key6_file(page, live_server, head_dstu_key):
    _to_review(page)
    page.get_by_label("Я ознайомився(-лася) з публічною офертою та приймаю її").check()
    key_file = page.locator("#key-file")
    key_file.set_input_files([str(head_dstu_key["key"]), str(head_dstu_key["certificate"])])
    status = page.locator("[data-sign-status]")

    # A wrong password: jkurwa cannot open the container, nothing is signed.
    page.locator("#key-password").fill("not-the-password")
    page.get_by_role("button", name="Підписати документ").click()
    expect(status).to_have_text(
        "Пароль не підходить до цього файлу ключа. Перевірте його та спробуйте ще раз.", timeout=60_000
    )
    expect(page.locator("#id_review-signature_base64")).to_have_value("")

    page.locator("#key-password").fill(KEY_PASSWORD)
    page.get_by_role("button", name="Підписати документ").click()
    expect(status).to_have_text("Документ підписано. Тепер подайте заяву.", timeout=60_000)
    assert page.evaluate("() => Boolean(window.EhealthDstu)")  # signed by the DSTU bundle

    with page.expect_request(lambda request: request.method == "POST") as submitted:
        page.get_by_role("button", name="Подати заяву").click()
    body = submitted.value.post_data_buffer or b""
    assert KEY_PASSWORD.encode() not in body and DEFAULT_PASSWORD.encode() not in body
    assert head_dstu_key["key"].read_bytes()[:64] not in body
    expect(page.get_by_role("heading", name="Заклад зареєстровано")).to_be_visible()
    application = RegistrationApplication.objects.get()
    assert application.status == RegistrationApplication.Status.APPROVED
