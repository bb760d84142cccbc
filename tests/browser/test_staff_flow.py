"""Issue 12's story in chromium: the head grants HR access with a signature made in the browser from a
PKCS#12 key file, HR accepts the emailed invitation and registers a family doctor through the wizard,
the doctor accepts and sees their cabinet, and the place of service shows the doctor on the public map."""

import datetime
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ehealth_portal.models import Email
from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki
from registry.models import Employee, EmployeeRequest
from registry.services import reference_data_load
from tests import staff_data
from tests.accounts.helpers import create_account
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
CLINIC = "Демо центр ПМСД"
EDRPOU = "38782323"
DIVISION = "Амбулаторія № 1"
HEAD_EMAIL = "kovalenko@demo-clinic.example"
HEAD_TAX_ID = "3185409128"
HEAD_PASSWORD = "Kashtany-Tsvitut-2026"
HR_EMAIL = "melnyk@demo-clinic.example"
HR_PASSWORD = "Kadry-u-Poriadku-2026"
HR_TAX_ID = staff_data.rnokpp(datetime.date(1985, 3, 14), serial=4242)
DOCTOR_EMAIL = "shevchenko@demo-clinic.example"
DOCTOR_PASSWORD = "Simeinyi-Likar-2026"
DOCTOR_TAX_ID = staff_data.rnokpp(datetime.date(1979, 8, 2), serial=777)


@pytest.fixture
def clinic(tmp_path, settings):
    """A registered clinic (as the registration leaves it) with one active place of service on the map,
    its head with a password, and the head's PKCS#12 key file from a development CA the portal trusts."""
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init()
    pki.issue("head", surname="Коваленко", given_names="Олена Петрівна", drfo=HEAD_TAX_ID, edrpou=EDRPOU)
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls
    settings.MAP_TILE_URL = ""  # no tile server in tests: the map still shows its markers

    address = {
        "country": "UA",
        "area": "М.КИЇВ",
        "region": "Голосіївський",
        "settlement": "Київ",
        "settlement_type": "CITY",
        "street_type": "STREET",
        "street": "Демонстраційна",
        "building": "1",
        "zip": "03150",
    }
    legal_entity = LegalEntityFactory(
        edrpou=EDRPOU,
        name='КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР ПЕРВИННОЇ МЕДИКО-САНІТАРНОЇ ДОПОМОГИ"',
        short_name='КНП "ДЕМО ЦЕНТР ПМСД"',
        public_name=CLINIC,
        legal_form="150",
        owner_property_type="STATE",
        email="info@demo-clinic.example",
        addresses=[{"type": "REGISTRATION", **address}],
        license={
            "type": "MSP",
            "license_number": "АЕ 123456",
            "issued_by": "Міністерство охорони здоров'я України",
            "issued_date": "2020-01-15",
            "active_from_date": "2020-01-20",
            "order_no": "15-Л",
        },
    )
    DivisionFactory(
        legal_entity=legal_entity,
        name=DIVISION,
        type="AMBULANT_CLINIC",
        addresses=[{"type": "RESIDENCE", **address}],
        phones=[{"type": "LAND_LINE", "number": "+380441234567"}],
        email="ambulatory@demo-clinic.example",
    )
    head = PartyFactory(
        user=create_account(HEAD_EMAIL, HEAD_PASSWORD),
        tax_id=HEAD_TAX_ID,
        phones=[{"type": "MOBILE", "number": "+380671234567"}],
    )
    EmployeeFactory(legal_entity=legal_entity, party=head, employee_type="OWNER", position="P3")
    return pki.paths("head")["p12"]


def fill(page, prefix: str, values: dict) -> None:
    """Fields by their ids (`id_<prefix>-<name>`): a select gets its option, anything else the text."""
    for name, value in values.items():
        field = page.locator(f"#id_{prefix}-{name}")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        elif value is True:
            field.check()
        else:
            field.fill(value)


def person(page, *, last_name, first_name, second_name, tax_id, birth_date, gender, email) -> None:
    fill(
        page,
        "person",
        {
            "last_name": last_name,
            "first_name": first_name,
            "second_name": second_name,
            "tax_id": tax_id,
            "birth_date": birth_date,
            "document_type": "PASSPORT",
            "document_number": "АА123456",
            "document_issued_by": "Київський РВ",
            "document_issued_at": "2005-04-01",
            "phone_mobile": "+380501112233",
            "email": email,
        },
    )
    page.locator("#id_person-gender").get_by_label(gender).check()


def continue_to(page, heading: str) -> None:
    page.get_by_role("button", name="Продовжити").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Електронна пошта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Увійти").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Вийти").click()
    expect(page.get_by_role("link", name="Увійти")).to_be_visible()


def accept_invitation(page, email: str, password: str) -> None:
    """The invitation emailed to `email`: open its link, set a password, accept."""
    invitation = Email.objects.filter(to=email, text_body__contains="/invite/").get()
    page.goto(re.search(r"https?://[^/\s]+(/invite/[\w-]+/)", invitation.text_body)[1])
    expect(page.get_by_label("Електронна пошта — ваш логін")).to_have_value(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_label("Пароль (ще раз)").fill(password)


def test_the_head_grants_hr_access_and_hr_registers_a_family_doctor(page, live_server, screenshot, clinic):
    cabinet_url = re.compile(rf"{re.escape(live_server.url)}/cabinet/(\?facility=[0-9a-f-]+)?$")

    # 1. The head signs in and grants HR access with a signature made in the browser.
    sign_in(page, HEAD_EMAIL, HEAD_PASSWORD)
    page.goto("/cabinet/")
    expect(page.get_by_role("heading", level=1)).to_have_text(CLINIC)
    page.get_by_role("link", name="Надати доступ відділу кадрів").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Працівник відділу кадрів")
    person(
        page,
        last_name="Мельник",
        first_name="Ірина",
        second_name="Василівна",
        tax_id=HR_TAX_ID,
        birth_date="1985-03-14",
        gender="Жіноча",
        email=HR_EMAIL,
    )
    expect(page.locator("#id_person-position")).to_have_value("P14")  # the usual HR position
    screenshot("staff-1-hr-person")
    continue_to(page, "Перевірка та підпис")
    review = page.locator("main")
    expect(review).to_contain_text("Мельник")
    expect(review).to_contain_text(HR_EMAIL)
    expect(page.locator("#signed-document")).to_contain_text(f'"email":"{HR_EMAIL}"')
    page.get_by_label("Файл ключа (.p12, .pfx)").set_input_files(str(clinic))
    page.get_by_label("Пароль до файлу ключа").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Підписати заяву").click()
    expect(page.locator("[data-sign-status]")).to_have_text(
        "Заяву підписано. Тепер надішліть запрошення.", timeout=20_000
    )
    screenshot("staff-2-hr-signed")
    with page.expect_request(lambda request: request.method == "POST") as submitted:
        page.get_by_role("button", name="Надіслати запрошення").click()
    assert DEFAULT_PASSWORD.encode() not in (submitted.value.post_data_buffer or b"")  # the key stays here
    expect(page.get_by_role("heading", level=1)).to_have_text("Запрошення надіслано")
    expect(page.get_by_role("status")).to_contain_text(HR_EMAIL)
    hr_request = EmployeeRequest.objects.get(email=HR_EMAIL)
    assert hr_request.employee_type == "HR" and hr_request.signer["drfo"] == HEAD_TAX_ID
    screenshot("staff-3-hr-sent")
    sign_out(page)

    # 2. HR accepts the emailed invitation and lands in the facility's cabinet.
    accept_invitation(page, HR_EMAIL, HR_PASSWORD)
    expect(page.locator("blockquote")).to_contain_text(
        "у ролі Відповідальний за кадри (Спеціаліст відділу кадрів)"
    )
    page.get_by_role("button", name="Прийняти та встановити пароль").click()
    expect(page).to_have_url(cabinet_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(CLINIC)
    # HR invites staff, but HR access is the head's alone to grant.
    expect(page.get_by_role("link", name="Надати доступ відділу кадрів")).to_have_count(0)
    screenshot("staff-4-hr-cabinet")

    # 3. HR registers a family doctor through the wizard.
    page.get_by_role("link", name="Запросити лікаря чи іншого працівника").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Запросити працівника")
    page.get_by_role("link", name="Лікар", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Особа")
    person(
        page,
        last_name="Шевченко",
        first_name="Тарас",
        second_name="Григорович",
        tax_id=DOCTOR_TAX_ID,
        birth_date="1979-08-02",
        gender="Чоловіча",
        email=DOCTOR_EMAIL,
    )
    continue_to(page, "Освіта")
    doctor = staff_data.doctor()
    education = doctor["educations"][0]
    fill(page, "education-educations-0", education)
    continue_to(page, "Підвищення кваліфікації")
    qualification = doctor["qualifications"][0]
    fill(page, "qualifications-qualifications-0", qualification)
    continue_to(page, "Спеціальності")
    speciality = doctor["specialities"][0]  # FAMILY_DOCTOR, the main one
    fill(page, "specialities-specialities-0", speciality)
    screenshot("staff-5-doctor-specialities")
    continue_to(page, "Місце надання послуг")
    page.get_by_label("Місце надання послуг", exact=True).select_option(label=DIVISION)
    fill(page, "place", {"position": "P7"})
    continue_to(page, "Перевірка й надсилання")
    review = page.locator("main")
    for text in ("Шевченко", "Сімейний лікар", "Магістр", "Інтернатура", DIVISION, DOCTOR_EMAIL):
        expect(review).to_contain_text(text)
    screenshot("staff-6-doctor-review")
    page.get_by_role("button", name="Надіслати запрошення").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Запрошення надіслано")
    expect(page.get_by_role("status")).to_contain_text(DOCTOR_EMAIL)
    sign_out(page)

    # 4. The doctor accepts and sees their cabinet, without the pages of those who keep the staff.
    accept_invitation(page, DOCTOR_EMAIL, DOCTOR_PASSWORD)
    expect(page.locator("blockquote")).to_contain_text(
        "у ролі Лікар (Лікар загальної практики – сімейний лікар)"
    )
    page.get_by_role("button", name="Прийняти та встановити пароль").click()
    expect(page).to_have_url(cabinet_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(CLINIC)
    actions = page.get_by_role("navigation", name="Кабінет")
    expect(actions.get_by_role("link", name="Запросити лікаря чи іншого працівника")).to_have_count(0)
    expect(actions.get_by_role("link", name="Надати доступ відділу кадрів")).to_have_count(0)
    doctor_employee = Employee.objects.get(party__tax_id=DOCTOR_TAX_ID)
    assert (doctor_employee.employee_type, doctor_employee.division.name) == ("DOCTOR", DIVISION)
    screenshot("staff-7-doctor-cabinet")

    # 5. The place of service on the public map lists the doctor.
    page.get_by_role("link", name="Мапа", exact=True).click()
    map_element = page.locator("[data-facility-map]")
    expect(map_element).to_have_attribute("data-state", "ready")
    marker = map_element.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)
    expect(marker).to_have_attribute("title", DIVISION)
    marker.click()
    expect(map_element.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    popup = map_element.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Лікарі")
    expect(popup).to_contain_text("Шевченко Тарас Григорович — Сімейний лікар")
    screenshot("staff-8-map")
