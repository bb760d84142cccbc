"""The registration wizard's polish, through the test client: every error of a step at once, a registered
code refused on step 1, the signer the browser must match, the accreditation order's rule, corrections
that return to the review, the review in words, the KVED checkbox list, and error pages' title and focus.

The browser's side of these (focus, filters, the key check before signing) is
tests/browser/test_wizard_polish.py. Expected texts are the translations of the messages in code, so the
tests hold before and after the catalogue is updated.
"""

import re

import pytest
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from registry.forms import ALREADY_REGISTERED, FacilityForm, LicenceForm, step_for_payload_path
from registry.models import LegalEntity, RegistrationApplication
from tests.accounts.helpers import main_html
from tests.registry.conftest import CLINIC_EDRPOU, FOP_RNOKPP
from tests.registry.test_web_wizard import (
    STEPS,
    fill_steps,
    post_step,
    review_document,
    step_url,
    submit_signed,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def wizard(client, registration):
    """The test client at the wizard's first step, with the reference data loaded."""
    assert client.get("/register/").status_code == 302
    return client


def uk(message) -> str:
    with translation.override("uk"):
        return gettext(str(message)) if isinstance(message, str) else str(message)


def sixteen_today() -> str:
    today = timezone.localdate()
    return today.replace(year=today.year - 16).isoformat()


def errors_of(response) -> dict:
    return response.context["wizard"]["form"].errors


# --- 1. Every error of a step at once ----------------------------------------------------------------


def test_a_bad_check_digit_and_an_under_age_head_are_reported_together(wizard):
    fill_steps(wizard, until="head")
    response = post_step(
        wizard, "head", {**STEPS["head"], "tax_id": "3185409129", "birth_date": sixteen_today()}
    )
    errors = errors_of(response)
    assert set(errors) == {"tax_id", "birth_date"}
    assert errors.as_data()["tax_id"][0].code == "rnokpp_checksum"
    assert errors.as_data()["birth_date"][0].code == "owner_age"
    summary = re.search(r'<div class="error-summary".*?</div>', main_html(response), re.S).group(0)
    assert 'href="#id_head-tax_id"' in summary and 'href="#id_head-birth_date"' in summary


def test_a_field_error_does_not_hide_the_payload_rules_of_the_other_fields(wizard):
    # A malformed phone (the form's own check) and a patronymic in Latin letters (the payload's rule).
    fill_steps(wizard, until="head")
    response = post_step(
        wizard, "head", {**STEPS["head"], "phone_mobile": "12345", "second_name": "Petrivna"}
    )
    assert set(errors_of(response)) == {"phone_mobile", "second_name"}


def test_a_field_keeps_its_own_error_without_the_payloads_repeat(wizard):
    fill_steps(wizard, until="head")
    response = post_step(wizard, "head", {**STEPS["head"], "tax_id": "3185409129"})
    assert len(errors_of(response)["tax_id"]) == 1


def test_every_licence_error_shows_at_once(wizard):
    fill_steps(wizard, until="licence")
    changes = {
        "license_expiry_date": "2021-01-01",
        "accreditation_order_no": "",
        "accreditation_order_date": "",
    }
    response = post_step(wizard, "licence", {**STEPS["licence"], **changes})
    assert set(errors_of(response)) == {
        "license_expiry_date",
        "accreditation_order_no",
        "accreditation_order_date",
    }


# --- 2. A registered code on step 1 ------------------------------------------------------------------


def registered_facility(status=LegalEntity.Status.ACTIVE) -> LegalEntity:
    return LegalEntity.objects.create(
        edrpou=CLINIC_EDRPOU,
        name="Вже зареєстрований заклад",
        legal_form="240",
        owner_property_type="PRIVATE",
        email="registered@clinic.example",
        status=status,
    )


def test_a_registered_code_is_refused_on_step_1_with_what_to_do(wizard):
    registered_facility()
    response = post_step(wizard, "facility")
    assert response.status_code == 200
    assert [error.code for error in errors_of(response).as_data()["edrpou"]] == ["legal_entity_exists"]
    html = main_html(response)
    assert escape(uk(ALREADY_REGISTERED)) in html
    assert 'href="/accounts/login/?next=/cabinet/"' in html  # the way in for its head
    assert response.context["wizard"]["steps"].current == "facility"


def test_a_closed_facility_does_not_block_its_code(wizard):
    registered_facility(status=LegalEntity.Status.CLOSED)
    assert post_step(wizard, "facility").url == step_url("addresses")


# --- 3. The signer the browser must match --------------------------------------------------------------


def test_the_review_tells_the_browser_who_must_sign(wizard):
    fill_steps(wizard)
    html = main_html(wizard.get(step_url("review")))
    box = re.search(r"<div class=\"sign-option\" data-browser-sign.*?>", html, re.S).group(0)
    assert 'data-expected-drfo="3185409128"' in box
    assert f'data-expected-edrpou="{CLINIC_EDRPOU}"' in box
    assert 'data-expected-surname="Коваленко"' in box
    assert 'data-expected-given-names="Олена Петрівна"' in box
    assert 'data-expected-full-name="Коваленко Олена Петрівна"' in box
    for name in ("no-drfo", "not-head", "edrpou", "name"):
        assert f"data-msg-signer-{name}=" in box


def test_a_sole_proprietors_signer_is_not_compared_by_edrpou(wizard):
    fill_steps(
        wizard,
        facility={"legal_form": "910", "edrpou": FOP_RNOKPP, "name": "Шевчук Андрій Іванович"},
        head={"tax_id": FOP_RNOKPP, "last_name": "Шевчук", "first_name": "Андрій", "second_name": "Іванович"}
        | {"gender": "MALE", "position": "P26"},
    )
    html = main_html(wizard.get(step_url("review")))
    assert 'data-expected-edrpou=""' in html and f'data-expected-drfo="{FOP_RNOKPP}"' in html


# --- 4. The accreditation order: required unless "not accredited" -----------------------------------------


def test_the_accreditation_order_fields_say_when_they_are_required(wizard):
    fill_steps(wizard, until="licence")
    html = main_html(wizard.get(step_url("licence")))
    with translation.override("uk"):
        marker = str(LicenceForm().fields["accreditation_order_no"].required_unless["marker"])
    assert "Не акредитований" in marker
    for name in ("accreditation_order_no", "accreditation_order_date"):
        field = re.search(
            rf'<div class="field"[^>]*>\s*<label for="id_licence-{name}">.*?</label>', html, re.S
        )
        assert field, name
        assert 'data-required-unless="id_licence-accreditation_category"' in field.group(0)
        assert 'data-required-unless-values="NO_ACCREDITATION"' in field.group(0)
        assert escape(marker) in field.group(0) and "(необов’язково)" not in field.group(0)
    # An optional field still says "(optional)".
    assert re.search(r'for="id_licence-accreditation_issued_date">[^<]*<span class="optional">', html)
    assert "js/conditional-fields.js" in wizard.get(step_url("licence")).content.decode()


def test_the_accreditation_order_is_required_for_a_category_and_not_without_one(wizard):
    fill_steps(wizard, until="licence")
    without = {"accreditation_order_no": "", "accreditation_order_date": ""}
    response = post_step(wizard, "licence", {**STEPS["licence"], **without})
    assert {"accreditation_order_no", "accreditation_order_date"} <= set(errors_of(response))
    response = post_step(
        wizard, "licence", {**STEPS["licence"], **without, "accreditation_category": "NO_ACCREDITATION"}
    )
    assert response.status_code == 302 and response.url == step_url("head")


# --- 5. Corrections go to the step at fault and return to the review ------------------------------------


def test_change_on_the_review_returns_to_the_review_after_that_step(wizard):
    fill_steps(wizard)
    response = post_step(wizard, "review", {"public_offer_consent": "on"}, wizard_change_step="addresses")
    assert response.url == step_url("addresses")
    page = wizard.get(step_url("addresses"))
    assert page.context["returns_to_review"]
    assert escape(uk("Save and return to the review")) in main_html(page)
    response = post_step(wizard, "addresses", {**STEPS["addresses"], "registration_building": "2"})
    assert response.url == step_url("review")  # not through "licence" and "head" again
    assert '"building":"2"' in wizard.get(step_url("review")).context["document"]
    # Back on the review the correction is over: the next save of a step walks on as usual.
    post_step(wizard, "review", {}, wizard_change_step="facility")
    wizard.get(step_url("review"))
    post_step(wizard, "review", {}, wizard_goto_step="head")  # "Back" is no correction
    post_step(wizard, "head", wizard_goto_step="licence")
    assert post_step(wizard, "licence").url == step_url("head")


def test_back_and_continue_outside_a_correction_walk_the_steps_in_order(wizard):
    fill_steps(wizard)
    post_step(wizard, "head", wizard_goto_step="licence")
    assert post_step(wizard, "licence").url == step_url("head")


def test_a_change_that_breaks_a_later_step_leads_there_before_the_review(wizard):
    # A sole proprietor's code is the head's RNOKPP: changing step 1 makes step 4 wrong.
    fill_steps(wizard)
    post_step(wizard, "review", {}, wizard_change_step="facility")
    changed = {
        **STEPS["facility"],
        "legal_form": "910",
        "edrpou": FOP_RNOKPP,
        "name": "Шевчук Андрій Іванович",
    }
    response = post_step(wizard, "facility", changed)
    assert response.url == step_url("head")


def rejected_application(wizard, pki, registration, django_capture_on_commit_callbacks, **register) -> str:
    """Fill in and submit the demo clinic; the state register (`register`) rejects it. The status token."""
    if register:
        registration.register_clinic(**register)
    fill_steps(wizard)
    document = review_document(wizard)
    response = submit_signed(
        wizard, django_capture_on_commit_callbacks, pki.sign(pki.person(), document), document
    )
    assert RegistrationApplication.objects.get().status == RegistrationApplication.Status.REJECTED
    return response.url.rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("register", "step"),
    [
        ({}, "facility"),  # the code is not in the register
        ({"heads": ["ІВАНЕНКО ІВАН ІВАНОВИЧ"]}, "head"),  # the head is not its signatory
    ],
)
def test_correct_and_submit_again_opens_the_step_at_fault_and_returns_to_the_review(
    wizard, pki, registration, django_capture_on_commit_callbacks, register, step
):
    token = rejected_application(wizard, pki, registration, django_capture_on_commit_callbacks, **register)
    reasons = RegistrationApplication.objects.get().reasons

    response = wizard.get(f"/register/?correct={token}")
    assert response.url == step_url(step)
    page = wizard.get(response.url)
    html = main_html(page)
    for reason in reasons:
        assert escape(reason["message"]) in html  # what to correct, on the step
    assert page.context["returns_to_review"]
    assert post_step(wizard, step).url == step_url("review")


def test_a_rejected_signature_is_corrected_on_the_review(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    token = rejected_application(wizard, pki, registration, django_capture_on_commit_callbacks)
    RegistrationApplication.objects.update(
        reasons=[
            {"step": "SIGNATURE", "code": "signer_not_head", "field": "owner.tax_id", "message": "Інша особа"}
        ]
    )
    assert wizard.get(f"/register/?correct={token}").url == step_url("review")


@pytest.mark.parametrize(
    ("path", "step"),
    [
        ("edrpou", "facility"),
        ("kveds[0]", "facility"),
        ("name", "facility"),
        ("addresses[0].zip", "addresses"),
        ("division.location", "addresses"),
        ("medical_service_provider.accreditation.order_no", "licence"),
        ("owner", "head"),
        ("owner.tax_id", "head"),
        ("signed_legal_entity_request", "review"),
        ("", "review"),
    ],
)
def test_each_payload_path_has_its_step(path, step):
    assert step_for_payload_path(path) == step


# --- 6. The review in words; the exact document behind a disclosure ------------------------------------


def test_the_review_shows_the_signed_document_in_words_and_the_json_behind_a_disclosure(wizard):
    fill_steps(wizard)
    response = wizard.get(step_url("review"))
    html = main_html(response)
    review = re.search(r'<section class="review".*?</section>', html, re.S).group(0)
    # Dictionary values by their names, not their codes.
    for text in ("Перша категорія", "приватна", "Жіноча", "86.21 Загальна медична практика", "м. Київ"):
        assert text in review, text
    assert "FIRST" not in review and "PRIVATE" not in review and '"edrpou"' not in review
    assert "17.05.1980" in review  # dates written out
    details = re.search(r'<details class="document-details">(.*?)</details>', html, re.S).group(1)
    assert re.search(r"<summary>[^<]+</summary>", details)
    assert '<pre class="document" id="signed-document"' in details
    assert escape(response.context["document"]) in details
    assert 'href="/register/document/"' in html  # the download stays


# --- 7. KVED codes as a checkbox list ------------------------------------------------------------------


def test_kveds_are_a_checkbox_list_that_works_without_javascript(wizard):
    html = main_html(wizard.get(step_url("facility")))
    assert "<select" not in re.search(r'id="id_facility-kveds".*?</div>\s*</fieldset>', html, re.S).group(0)
    box = re.search(r'<div id="id_facility-kveds" class="checkbox-list"[^>]*>', html).group(0)
    assert "data-checkbox-filter" in box and "data-filter-label=" in box
    assert re.search(
        r'<label for="id_facility-kveds_\d+"><input type="checkbox" name="facility-kveds" value="86.21"[^>]*>'
        r"\s*86.21 Загальна медична практика</label>",
        html,
    )
    # Long names whole, in the label (no option box to cut them).
    assert "47.74 Роздрібна торгівля медичними й ортопедичними товарами в спеціалізованих магазинах" in html
    response = post_step(wizard, "facility", {**STEPS["facility"], "kveds": ["86.21", "86.90"]})
    assert response.url == step_url("addresses")
    page = wizard.get(step_url("facility"))
    assert page.context["wizard"]["form"].cleaned_data["kveds"] == ["86.21", "86.90"]
    assert FacilityForm.base_fields["kveds"].widget.input_type == "checkbox"


# --- Accessibility: the title says "Error:", the summary takes the focus --------------------------------


def test_a_failed_step_says_error_first_in_the_title_and_its_summary_can_take_the_focus(wizard):
    response = post_step(wizard, "facility", {**STEPS["facility"], "edrpou": "123"})
    html = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    assert title.startswith(uk("Error:") + " ")
    assert '<div class="error-summary" role="alert" tabindex="-1" data-error-summary>' in html
    assert 'src="/static/js/error-summary.js"' in html
    clean = wizard.get(step_url("facility")).content.decode()
    assert not re.search(r"<title>\s*" + re.escape(uk("Error:")), clean)


def test_a_refused_submission_says_error_in_the_title(wizard, django_capture_on_commit_callbacks):
    fill_steps(wizard)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(wizard, "review", {})
    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()
    assert title.startswith(uk("Error:") + " ")


def test_any_form_page_gets_the_error_title(client):
    # The login page (allauth's form) inherits it from the base template.
    response = client.post("/accounts/login/", {"login": "nobody@example.com", "password": "wrong"})
    title = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()
    assert title.startswith(uk("Error:") + " ")
