"""The registration wizard's mistakes in chromium, each met at the right step with the right message:
every error of a step at once (and the focus on their summary), a registered code on step 1, someone
else's key file refused before signing, corrections that return to the review, the KVED checkbox list
and the accreditation order's rule, with and without JavaScript.

Expected texts are read from the page's own data (the translated messages) or translated here, so the
tests hold before and after the catalogue is updated.
"""

import json
from pathlib import Path

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki
from registry.edr import DEMO_REGISTER_FILES, edr_import
from registry.forms import ALREADY_REGISTERED
from registry.models import LegalEntity, RegistrationApplication
from registry.services import reference_data_load
from tests.browser.test_registration_flow import CLINIC, EDRPOU, HEAD_EMAIL, continue_to, fill

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
HEAD_DRFO = "3185409128"
OTHER_DRFO = "2904501273"


def uk(message) -> str:
    with translation.override("uk"):
        return gettext(message) if isinstance(message, str) else str(message)


@pytest.fixture
def keys(tmp_path, settings):
    """Reference data, the demo register, a trusted development CA and three key files: the demo head's,
    someone else's, and the head's own key issued for another organisation."""
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    edr_import(list(DEMO_REGISTER_FILES), workers=0)
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init()
    pki.issue("head", surname="Коваленко", given_names="Олена Петрівна", drfo=HEAD_DRFO, edrpou=EDRPOU)
    pki.issue("other", surname="Шевчук", given_names="Андрій Іванович", drfo=OTHER_DRFO, edrpou=EDRPOU)
    pki.issue(
        "head-elsewhere", surname="Коваленко", given_names="Олена Петрівна", drfo=HEAD_DRFO, edrpou="00032106"
    )
    # The identity in one of the two places Ukrainian certificates carry it, and other mismatches.
    pki.issue(
        "other-etsi",
        surname="Шевчук",
        given_names="Андрій Іванович",
        drfo=OTHER_DRFO,
        directory_attributes=False,
    )
    pki.issue(
        "other-sda", surname="Шевчук", given_names="Андрій Іванович", drfo=OTHER_DRFO, etsi_identifiers=False
    )
    pki.issue("head-renamed", surname="Коваленко", given_names="Ольга Петрівна", drfo=HEAD_DRFO)
    pki.issue("no-drfo", surname="Коваленко", given_names="Олена Петрівна")
    pki.issue(
        "head-etsi",
        surname="Коваленко",
        given_names="Олена Петрівна",
        drfo=HEAD_DRFO,
        directory_attributes=False,
    )
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls
    settings.MAP_TILE_URL = ""
    names = (
        "head",
        "other",
        "head-elsewhere",
        "other-etsi",
        "other-sda",
        "head-renamed",
        "no-drfo",
        "head-etsi",
    )
    return {name: pki.paths(name)["p12"] for name in names}


# --- Walking the steps --------------------------------------------------------------------------------

HEADINGS = {"facility": "Заклад", "addresses": "Адреси", "licence": "Ліцензія", "head": "Керівник"}
HEADINGS["review"] = "Перевірка та підпис"


def facility_step(page, *, name: str = CLINIC) -> None:
    fill(page, "facility", {"name": name, "legal_form": "150", "edrpou": EDRPOU})
    page.get_by_label("бюджетна").check()
    page.locator('#id_facility-kveds input[value="86.21"]').check()
    fill(page, "facility", {"email": "info@demo-clinic.example", "phone_mobile": "050 123 45 67"})


def addresses_step(page) -> None:
    fill(
        page,
        "addresses",
        {
            "registration_area": "М.КИЇВ",
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
            "division_latitude": "50.4501",
            "division_longitude": "30.5234",
        },
    )


def licence_step(page) -> None:
    fill(
        page,
        "licence",
        {
            "license_issued_by": "Міністерство охорони здоров'я України",
            "license_issued_date": "2020-01-15",
            "license_active_from_date": "2020-01-20",
            "license_order_no": "15-Л",
            "accreditation_category": "FIRST",
            "accreditation_order_no": "77",
            "accreditation_order_date": "2021-03-01",
        },
    )


HEAD = {
    "last_name": "Коваленко",
    "first_name": "Олена",
    "second_name": "Петрівна",
    "tax_id": HEAD_DRFO,
    "birth_date": "1980-05-17",
    "document_type": "NATIONAL_ID",
    "document_number": "001234567",
    "document_issued_by": "8033",
    "document_issued_at": "2018-01-10",
    "phone_mobile": "+380671234567",
    "email": HEAD_EMAIL,
    "position": "P3",
}


def head_step(page, **changes) -> None:
    fill(page, "head", {**HEAD, **changes})
    page.get_by_label("Жіноча").check()


STEP_FILLERS = {"facility": facility_step, "addresses": addresses_step, "licence": licence_step}


def walk_to(page, until: str) -> None:
    """From the first step, fill in every step before `until` and continue to it."""
    page.goto("/register/")
    steps = ["facility", "addresses", "licence", "head", "review"]
    for step, following in zip(steps, steps[1:], strict=False):
        if step == until:
            return
        STEP_FILLERS.get(step, head_step)(page)
        continue_to(page, HEADINGS[following])


def sign_here(page, key: Path, password: str = DEFAULT_PASSWORD) -> None:
    page.locator("#key-file").set_input_files(str(key))
    page.locator("#key-password").fill(password)
    page.locator("[data-sign-button]").click()


def focused(page, attribute: str) -> bool:
    return page.evaluate(f"document.activeElement && document.activeElement.hasAttribute({attribute!r})")


# --- 1. Every error of a step at once; the focus on their summary ----------------------------------------


def test_a_bad_check_digit_and_an_under_age_head_show_together_and_the_summary_takes_the_focus(
    page, keys, screenshot
):
    walk_to(page, "head")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the summary must come into view
    today = timezone.localdate()
    head_step(page, tax_id="3185409129", birth_date=today.replace(year=today.year - 16).isoformat())
    page.get_by_role("button", name="Продовжити").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("li")).to_have_count(2)
    expect(summary.locator('a[href="#id_head-tax_id"]')).to_be_visible()
    expect(summary.locator('a[href="#id_head-birth_date"]')).to_be_visible()
    expect(summary).to_be_in_viewport()
    assert focused(page, "data-error-summary")
    assert page.title().startswith(uk("Error:") + " ")
    screenshot("wizard-polish-1-head-errors-phone")

    summary.locator('a[href="#id_head-tax_id"]').click()  # the link puts the focus in the field
    expect(page.locator("#id_head-tax_id")).to_be_focused()
    page.locator("#id_head-tax_id").fill(HEAD_DRFO)
    page.locator("#id_head-birth_date").fill("1980-05-17")
    continue_to(page, HEADINGS["review"])
    assert not page.title().startswith(uk("Error:"))


# --- 2. A registered code is refused on step 1 -------------------------------------------------------------


def test_a_registered_code_is_refused_on_step_1_with_the_way_in(page, keys, screenshot):
    LegalEntity.objects.create(
        edrpou=EDRPOU, name=CLINIC, legal_form="150", owner_property_type="STATE", email="info@demo.example"
    )
    page.goto("/register/")
    facility_step(page)
    page.get_by_role("button", name="Продовжити").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["facility"])
    expect(page.locator("[data-error-summary]")).to_contain_text(uk(ALREADY_REGISTERED))
    expect(page.locator("#id_facility-edrpou")).to_have_attribute("aria-invalid", "true")
    sign_in = page.locator('main a[href="/accounts/login/?next=/cabinet/"]')
    expect(sign_in).to_be_visible()
    screenshot("wizard-polish-2-registered-code")
    sign_in.click()
    expect(page).to_have_url(f"{page.url.split('/accounts/')[0]}/accounts/login/?next=/cabinet/")


# --- 3. Someone else's key file is refused before signing --------------------------------------------------


def test_someone_elses_key_file_is_refused_before_anything_is_signed(page, keys, screenshot):
    walk_to(page, "review")
    box = page.locator("[data-browser-sign]")
    status = page.locator("[data-sign-status]")
    signature = page.locator("#id_review-signature_base64")
    requests = []
    page.on("request", lambda request: request.method != "GET" and requests.append(request.url))

    sign_here(page, keys["other"])
    expected = box.get_attribute("data-msg-signer-not-head").replace("{signer}", OTHER_DRFO)
    expect(status).to_have_text(expected.replace("{head}", HEAD_DRFO), timeout=20_000)
    expect(status).to_have_attribute("data-state", "error")
    expect(signature).to_have_value("")
    expect(page.locator("#key-file")).to_be_focused()
    screenshot("wizard-polish-3-someone-elses-key")

    sign_here(page, keys["head-elsewhere"])  # the head's own key, of another organisation
    expected = box.get_attribute("data-msg-signer-edrpou").replace("{signer}", "00032106")
    expect(status).to_have_text(expected.replace("{head}", EDRPOU), timeout=20_000)
    expect(signature).to_have_value("")
    assert requests == []  # refused in the page: nothing posted (no key, password or signature)

    sign_here(page, keys["head"])
    expect(status).to_have_attribute("data-state", "signed", timeout=20_000)
    expect(signature).not_to_have_value("")
    page.get_by_label("Я ознайомився(-лася) з публічною офертою та приймаю її").check()
    page.get_by_role("button", name="Подати заяву").click()
    expect(page.get_by_role("heading", name="Заклад зареєстровано")).to_be_visible()


def test_the_key_check_reads_either_identity_form_and_compares_the_names(page, keys):
    walk_to(page, "review")
    box = page.locator("[data-browser-sign]")
    status = page.locator("[data-sign-status]")

    def refused(key: str, message: str, signer: str = "", head: str = "") -> None:
        sign_here(page, keys[key])
        text = (
            box.get_attribute(f"data-msg-signer-{message}")
            .replace("{signer}", signer)
            .replace("{head}", head)
        )
        expect(status).to_have_text(text, timeout=20_000)
        expect(page.locator("#id_review-signature_base64")).to_have_value("")

    refused("other-etsi", "not-head", OTHER_DRFO, HEAD_DRFO)  # serialNumber TINUA-…
    refused("other-sda", "not-head", OTHER_DRFO, HEAD_DRFO)  # subjectDirectoryAttributes
    refused("head-renamed", "name", "Коваленко Ольга Петрівна", "Коваленко Олена Петрівна")
    refused("no-drfo", "no-drfo")
    sign_here(page, keys["head-etsi"])
    expect(status).to_have_attribute("data-state", "signed", timeout=20_000)


def test_the_check_applies_what_the_page_names_and_nothing_without_it(page, keys):
    # The CNAP joining page gives no expected signer, or (later) only the organisation's EDRPOU.
    walk_to(page, "review")
    box = page.locator("[data-browser-sign]")
    status = page.locator("[data-sign-status]")
    names = ("drfo", "edrpou", "surname", "given-names", "full-name")
    box.evaluate(
        "(box, names) => names.forEach((n) => box.removeAttribute('data-expected-' + n))", list(names)
    )
    sign_here(page, keys["other"])
    expect(status).to_have_attribute("data-state", "signed", timeout=20_000)

    box.evaluate(
        f"box => {{ box.dataset.expectedEdrpou = '{EDRPOU}'; box.dataset.expectedEdrpouStrict = ''; }}"
    )
    sign_here(page, keys["no-drfo"])  # a certificate naming no organisation
    expected = box.get_attribute("data-msg-signer-edrpou").replace("{signer}", "—").replace("{head}", EDRPOU)
    expect(status).to_have_text(expected, timeout=20_000)
    sign_here(page, keys["other"])  # another person of that organisation: only the EDRPOU was asked for
    expect(status).to_have_attribute("data-state", "signed", timeout=20_000)


# --- 5. Corrections return to the review ------------------------------------------------------------------


def test_change_on_the_review_returns_to_the_review(page, keys, screenshot):
    walk_to(page, "review")
    page.get_by_role("button", name="Змінити — Адреси").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["addresses"])
    page.locator("#id_addresses-registration_building").fill("2")
    page.get_by_role("button", name=uk("Save and return to the review")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["review"])  # not "Ліцензія"
    expect(page.locator("#signed-document")).to_contain_text('"building":"2"')
    screenshot("wizard-polish-5-back-on-the-review")


def test_a_rejected_application_is_corrected_at_the_step_at_fault(page, keys, screenshot):
    page.goto("/register/")
    facility_step(page, name='КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР"')  # not the register's name
    continue_to(page, HEADINGS["addresses"])
    for step, following in (("addresses", "licence"), ("licence", "head"), ("head", "review")):
        STEP_FILLERS.get(step, head_step)(page)
        continue_to(page, HEADINGS[following])
    page.get_by_label("Я ознайомився(-лася) з публічною офертою та приймаю її").check()
    sign_here(page, keys["head"])
    expect(page.locator("[data-sign-status]")).to_have_attribute("data-state", "signed", timeout=20_000)
    page.get_by_role("button", name="Подати заяву").click()
    expect(page.get_by_role("heading", name="Вашу заяву відхилено")).to_be_visible()
    reason = RegistrationApplication.objects.get().reasons[0]
    assert reason["code"] == "edr_name_mismatch"

    page.get_by_role("link", name="Виправити та подати знову").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["facility"])  # the step at fault
    expect(page.locator(".messages")).to_contain_text(reason["message"])
    screenshot("wizard-polish-5-correction-step")
    page.locator("#id_facility-name").fill(CLINIC)
    page.get_by_role("button", name=uk("Save and return to the review")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["review"])
    page.get_by_label("Я ознайомився(-лася) з публічною офертою та приймаю її").check()
    sign_here(page, keys["head"])
    expect(page.locator("[data-sign-status]")).to_have_attribute("data-state", "signed", timeout=20_000)
    page.get_by_role("button", name="Подати заяву").click()
    expect(page.get_by_role("heading", name="Заклад зареєстровано")).to_be_visible()


# --- 6. The review in words ------------------------------------------------------------------------------


def test_the_review_reads_the_document_in_words_and_keeps_the_json_folded(page, keys, screenshot):
    walk_to(page, "review")
    review = page.locator("section.review")
    for text in ("бюджетна", "Перша категорія", "Головний лікар", "86.21 Загальна медична практика"):
        expect(review).to_contain_text(text)
    document = page.locator("#signed-document")
    expect(document).to_be_hidden()
    page.locator("details.document-details > summary").click()
    expect(document).to_be_visible()
    expect(document).to_contain_text(f'"edrpou":"{EDRPOU}"')
    screenshot("wizard-polish-6-review")


# --- 7 and 4: the KVED checkbox list, the accreditation order ------------------------------------------


def test_kved_codes_are_ticked_in_a_filtered_list(page, keys):
    page.goto("/register/")
    codes = page.locator("#id_facility-kveds .checkbox-list-item:not([hidden])")
    expect(codes).not_to_have_count(1)
    page.locator("#id_facility-kveds_filter").fill("загальна")
    expect(codes).to_have_count(1)
    page.get_by_label("86.21 Загальна медична практика").check()  # no Ctrl: a plain tick
    page.locator("#id_facility-kveds_filter").fill("86.10")
    expect(codes).to_have_count(2)  # the ticked code stays in view
    page.get_by_label("86.10 Діяльність лікарняних закладів").check()
    expect(page.locator(".checkbox-filter-chosen")).to_have_text(f"{uk('Chosen:')} 86.10, 86.21")


def test_the_accreditation_order_follows_the_category(page, keys, screenshot):
    walk_to(page, "licence")
    order = page.locator("[data-required-unless]:has(#id_licence-accreditation_order_no)")
    marker = order.locator("[data-condition-marker]")
    expect(order).to_be_visible()
    expect(marker).to_be_visible()  # nothing chosen yet: "required unless …"
    page.locator("#id_licence-accreditation_category").select_option("NO_ACCREDITATION")
    expect(order).to_be_hidden()
    expect(page.locator("[data-required-unless]:has(#id_licence-accreditation_order_date)")).to_be_hidden()
    page.locator("#id_licence-accreditation_category").select_option("FIRST")
    expect(order).to_be_visible()
    expect(marker).to_be_hidden()  # required like any other field
    expect(page.locator("#id_licence-accreditation_order_no")).to_have_attribute("aria-required", "true")
    screenshot("wizard-polish-4-accreditation")
    licence_step(page)
    page.locator("#id_licence-accreditation_order_no").fill("")
    page.get_by_role("button", name="Продовжити").click()
    expect(page.locator("#id_licence-accreditation_order_no")).to_have_attribute("aria-invalid", "true")


def test_without_javascript_the_list_and_the_rule_still_work(browser, live_server, keys):
    context = browser.new_context(base_url=live_server.url, locale="uk-UA", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/register/")
        expect(page.locator("#id_facility-kveds_filter")).to_have_count(0)  # no filter, the plain list
        facility_step(page)
        page.get_by_label("86.90 Інша діяльність у сфері охорони здоров'я").check()
        continue_to(page, HEADINGS["addresses"])
        addresses_step(page)
        continue_to(page, HEADINGS["licence"])
        marker = page.locator("[data-required-unless] [data-condition-marker]").first
        expect(marker).to_be_visible()  # the rule in words
        licence_step(page)
        page.locator("#id_licence-accreditation_order_no").fill("")
        page.get_by_role("button", name="Продовжити").click()
        expect(page.locator("#id_licence-accreditation_order_no")).to_have_attribute("aria-invalid", "true")
        page.locator("#id_licence-accreditation_category").select_option("NO_ACCREDITATION")
        page.locator("#id_licence-accreditation_order_date").fill("")
        continue_to(page, HEADINGS["head"])
    finally:
        context.close()
