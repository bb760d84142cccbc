"""The registration wizard through the test client: steps, validation, navigation, review and submission."""

import base64
import hashlib
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.html import escape

from ehealth_portal.models import Email
from registry.forms import ALREADY_REGISTERED, DATA_STEPS, wizard_payload, wizard_step_data
from registry.models import (
    DictionaryValue,
    Division,
    EmployeeRequest,
    LegalEntity,
    Party,
    RegistrationApplication,
)
from registry.payloads import legal_entity_payload_canonical, legal_entity_payload_validate
from registry.services import REASON_MESSAGES
from tests.accounts.helpers import main_html
from tests.registry.conftest import CLINIC_EDRPOU, CLINIC_NAME, CLINIC_SHORT_NAME, HEAD_EMAIL

pytestmark = pytest.mark.django_db

MANAGEMENT = "registration_wizard-current_step"

STEPS = {
    "facility": {
        "name": CLINIC_NAME,
        "short_name": CLINIC_SHORT_NAME,
        "public_name": "Демо Клініка",
        "legal_form": "240",
        "owner_property_type": "PRIVATE",
        "edrpou": CLINIC_EDRPOU,
        "kveds": ["86.21", "86.90"],
        "email": "Clinic@Clinic.example",
        "phone_mobile": "+380 50 123 45 67",
        "website": "clinic.example",
    },
    "addresses": {
        "registration_area": "М.КИЇВ",
        "registration_settlement_type": "CITY",
        "registration_settlement": "Київ",
        "registration_street_type": "STREET",
        "registration_street": "Хрещатик",
        "registration_building": "1",
        "registration_zip": "01001",
        "same_as_registration": "on",
        "division_name": "Амбулаторія на Хрещатику",
        "division_type": "CLINIC",
        "division_phone_type": "LAND_LINE",
        "division_phone": "0441234567",
        "division_email": "ambulatory@clinic.example",
        "division_same_as_actual": "on",
        "division_latitude": "50.4501",
        "division_longitude": "30.5234",
    },
    "licence": {
        "license_number": "АЕ123456",
        "license_issued_by": "МОЗ України",
        "license_issued_date": "2020-01-15",
        "license_active_from_date": "2020-01-15",
        "license_order_no": "15-Л",
        "accreditation_category": "FIRST",
        "accreditation_order_no": "77",
        "accreditation_order_date": "2021-03-01",
    },
    "head": {
        "last_name": "Коваленко",
        "first_name": "Олена",
        "second_name": "Петрівна",
        "tax_id": "3185409128",
        "birth_date": "1980-05-17",
        "gender": "FEMALE",
        "document_type": "NATIONAL_ID",
        "document_number": "001234567",
        "document_issued_by": "7101",
        "document_issued_at": "2018-01-10",
        "phone_mobile": "+380671234567",
        "email": HEAD_EMAIL,
        "position": "P2",
    },
}


RESIDENCE = {
    "area": "КИЇВСЬКА",
    "region": "Бучанський",
    "settlement_type": "CITY",
    "settlement": "Буча",
    "street_type": "AVENUE",
    "street": "Незалежності",
    "building": "5",
    "apartment": "12",
    "zip": "08292",
}


def step_url(step: str) -> str:
    return reverse("registry:register-step", args=[step])


def post_step(client, step: str, data: dict | None = None, **extra):
    fields = {
        f"{step}-{name}": value for name, value in (STEPS.get(step, {}) if data is None else data).items()
    }
    return client.post(step_url(step), {MANAGEMENT: step, **fields, **extra})


def fill_steps(client, *, until: str = "review", **changes) -> None:
    """Post the valid data of every step before `until`; `changes` = {step: {field: value}}."""
    for step in STEPS:
        if step == until:
            return
        response = post_step(client, step, {**STEPS[step], **changes.get(step, {})})
        assert response.status_code == 302, main_html(response)


def review_document(client) -> bytes:
    response = client.get(step_url("review"))
    assert response.status_code == 200
    return base64.b64decode(response.context["document_base64"])


def stored_nothing() -> bool:
    return not (
        RegistrationApplication.objects.exists()
        or LegalEntity.objects.exists()
        or Party.objects.exists()
        or EmployeeRequest.objects.exists()
    )


@pytest.fixture
def wizard(client, registration):
    """The test client at the wizard's first step, with the reference data loaded."""
    response = client.get(reverse("registry:register"))
    assert response.status_code == 302
    return client


def submit(client, django_capture_on_commit_callbacks, **review):
    with django_capture_on_commit_callbacks(execute=True):
        return post_step(client, "review", {"public_offer_consent": "on", **review})


def submit_signed(client, django_capture_on_commit_callbacks, signature: bytes, document: bytes):
    """The review step with an uploaded signature, for the document shown."""
    return submit(
        client,
        django_capture_on_commit_callbacks,
        signature=SimpleUploadedFile("application.p7s", signature),
        document_sha256=hashlib.sha256(document).hexdigest(),
    )


# --- Walking the steps ------------------------------------------------------------------------------


def test_each_step_shows_the_progress_and_leads_to_the_next(wizard):
    response = wizard.get(step_url("facility"))
    html = main_html(response)
    assert "Крок 1 з 5" in html
    assert re.search(r'<li class="wizard-step is-current" aria-current="step">.*?Заклад', html, re.S)
    for number, (step, following) in enumerate(zip(STEPS, [*list(STEPS)[1:], "review"], strict=True), 1):
        response = post_step(wizard, step)
        assert response.status_code == 302 and response.url == step_url(following), step
        page = main_html(wizard.get(response.url))
        assert f"Крок {number + 1} з 5" in page
    assert stored_nothing()


def test_review_shows_all_data_by_step_and_the_exact_document(wizard):
    fill_steps(wizard)
    response = wizard.get(step_url("review"))
    html = main_html(response)
    for text in (CLINIC_NAME, CLINIC_EDRPOU, "86.21 Загальна медична практика", "Хрещатик", "АЕ123456"):
        assert text in html
    assert "Коваленко" in html and "Директор" in html
    for step in STEPS:
        assert f'name="wizard_change_step" value="{step}"' in html  # a "Change" button per step
    document = base64.b64decode(response.context["document_base64"])
    expected = legal_entity_payload_canonical(legal_entity_payload_validate(json.loads(document)))
    assert document == expected
    assert json.loads(document)["edrpou"] == CLINIC_EDRPOU
    assert json.loads(document)["email"] == "clinic@clinic.example"
    assert json.loads(document)["division"]["location"] == {"latitude": 50.4501, "longitude": 30.5234}
    # The <pre> shows the same text, escaped for HTML.
    assert re.search(r'<pre class="document"[^>]*>', html)
    assert response.context["document"] == document.decode()


def test_the_document_downloads_byte_for_byte(wizard):
    fill_steps(wizard)
    document = review_document(wizard)
    response = wizard.get(step_url("document"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content == document


def test_download_before_the_steps_are_complete_goes_back_to_the_wizard(wizard):
    fill_steps(wizard, until="licence")
    response = wizard.get(step_url("document"))
    assert response.status_code == 302


def test_a_later_step_cannot_be_opened_before_the_earlier_ones(wizard):
    post_step(wizard, "facility")
    response = wizard.get(step_url("head"))
    assert response.status_code == 302 and response.url == step_url("addresses")


# --- Validation at each step ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "changes", "field", "message"),
    [
        ("facility", {"edrpou": "38782324"}, "edrpou", "Неправильна контрольна цифра"),
        ("facility", {"edrpou": "3878232"}, "edrpou", "8 цифр"),
        ("facility", {"kveds": []}, "kveds", "обов"),
        ("facility", {"phone_mobile": "12345"}, "phone_mobile", "+380"),
        ("facility", {"website": "not a site"}, "website", None),
        ("facility", {"name": "Клініка Ёлка"}, "name", None),
        ("addresses", {"registration_zip": "123"}, "registration_zip", None),
        ("addresses", {"registration_building": "0а"}, "registration_building", None),
        ("addresses", {"division_latitude": "60.1"}, "division_latitude", "поза межами України"),
        ("addresses", {"division_longitude": "abc"}, "division_longitude", None),
        (
            "addresses",
            {"same_as_registration": "", **{f"residence_{part}": value for part, value in RESIDENCE.items()}}
            | {"residence_settlement": ""},
            "residence_settlement",
            "обов",
        ),
        ("licence", {"license_active_from_date": "2019-12-31"}, "license_active_from_date", None),
        ("licence", {"license_expiry_date": "2020-01-15"}, "license_expiry_date", None),
        ("licence", {"license_issued_date": "2999-01-01"}, "license_issued_date", None),
        ("licence", {"accreditation_order_no": ""}, "accreditation_order_no", None),
        ("head", {"tax_id": "3185409129"}, "tax_id", "контрольна цифра"),
        ("head", {"last_name": "Kovalenko"}, "last_name", None),
        ("head", {"birth_date": "2015-01-01"}, "birth_date", None),
        ("head", {"position": "P7"}, "position", None),
        ("head", {"no_tax_id": "on"}, "tax_id", None),
        ("head", {"document2_number": "КВ123456"}, "document2_type", None),
    ],
)
def test_a_step_rejects_bad_input_next_to_the_field_and_keeps_the_rest(wizard, step, changes, field, message):
    fill_steps(wizard, until=step)
    response = post_step(wizard, step, {**STEPS[step], **changes})
    assert response.status_code == 200
    form = response.context["wizard"]["form"]
    assert form.errors.get(field), form.errors
    assert list(form.errors) == [field]
    if message:
        assert message in " ".join(form.errors[field])
    html = main_html(response)
    assert f'id="id_{step}-{field}_error"' in html  # the error is rendered next to the field
    assert 'aria-invalid="true"' in html
    # What else was typed is still in the form.
    kept = next(name for name in STEPS[step] if name not in changes and name != field)
    value = STEPS[step][kept]
    assert form[kept].value() == value
    assert response.context["wizard"]["steps"].current == step
    assert stored_nothing()


def test_a_sole_proprietor_gives_the_heads_rnokpp_in_both_places(wizard):
    fill_steps(
        wizard,
        until="head",
        facility={"legal_form": "910", "edrpou": "2904501273", "name": "Шевчук Андрій Іванович"},
    )
    response = post_step(wizard, "head")
    assert "2904501273" in " ".join(response.context["wizard"]["form"].errors["tax_id"])
    response = post_step(wizard, "head", {**STEPS["head"], "tax_id": "2904501273", "position": "P26"})
    assert response.status_code == 302


def test_a_sole_proprietors_code_is_an_rnokpp(wizard):
    response = post_step(wizard, "facility", {**STEPS["facility"], "legal_form": "910"})
    assert "РНОКПП" in " ".join(response.context["wizard"]["form"].errors["edrpou"])


# --- Back and forward --------------------------------------------------------------------------------


def test_back_keeps_the_unfinished_step_and_forward_shows_it_again(wizard):
    fill_steps(wizard, until="licence")
    half = {"license_number": "МОЗ-1", "license_issued_by": "МОЗ"}
    response = post_step(wizard, "licence", half, wizard_goto_step="addresses")
    assert response.status_code == 302 and response.url == step_url("addresses")
    page = wizard.get(step_url("addresses"))
    assert page.context["wizard"]["form"]["registration_street"].value() == "Хрещатик"
    assert post_step(wizard, "addresses").url == step_url("licence")
    page = wizard.get(step_url("licence"))
    form = page.context["wizard"]["form"]
    assert form["license_number"].value() == "МОЗ-1"
    assert form["license_issued_by"].value() == "МОЗ"
    # Coming back is not a submission: no errors are shown for what is still missing.
    assert not form.is_bound and "error-summary" not in main_html(page)


def test_changing_an_earlier_step_from_the_review_keeps_everything_else(wizard):
    fill_steps(wizard)
    response = post_step(wizard, "review", {"public_offer_consent": "on"}, wizard_change_step="facility")
    assert response.url == step_url("facility")
    post_step(wizard, "facility", {**STEPS["facility"], "public_name": "Нова назва"})
    for step in ("addresses", "licence", "head"):  # the later steps are still complete
        assert wizard.get(step_url(step)).context["wizard"]["form"].is_valid()
    response = wizard.get(step_url("review"))
    assert json.loads(response.context["document"])["public_name"] == "Нова назва"
    assert response.context["wizard"]["form"]["public_offer_consent"].value() is True


def test_the_review_without_a_signature_or_consent_says_what_is_missing(
    wizard, django_capture_on_commit_callbacks
):
    fill_steps(wizard)
    document = review_document(wizard)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(wizard, "review", {"document_sha256": hashlib.sha256(document).hexdigest()})
    errors = response.context["wizard"]["form"].errors
    assert "public_offer_consent" in errors and "signature" in errors
    assert stored_nothing()


# --- Submission ----------------------------------------------------------------------------------------


def test_submission_with_an_uploaded_signature_runs_the_checks_and_shows_the_status(
    wizard, pki, registration, django_capture_on_commit_callbacks, outbox
):
    registration.register_clinic()
    fill_steps(wizard)
    document = review_document(wizard)
    assert stored_nothing()
    signature = pki.sign(pki.person(), document)
    response = submit_signed(wizard, django_capture_on_commit_callbacks, signature, document)
    application = RegistrationApplication.objects.get()
    assert response.status_code == 302
    assert response.url.startswith("/register/status/")
    assert application.channel == "WEB"
    assert bytes(application.signed_content) == document
    assert bytes(application.signed_envelope) == signature
    assert application.status == RegistrationApplication.Status.APPROVED
    assert [check.step for check in application.checks.all()] == ["SIGNATURE", "KVEDS", "STATE_REGISTER"]
    division = Division.objects.get()
    assert (str(division.latitude), str(division.longitude)) == ("50.450100", "30.523400")

    status = wizard.get(response.url)
    html = main_html(status)
    assert "Заклад зареєстровано" in html and HEAD_EMAIL in html
    # The wizard's data is gone after a successful submission.
    assert wizard.get(reverse("registry:register")).url == step_url("facility")
    assert not wizard.get(step_url("facility")).context["wizard"]["form"].is_bound


def test_a_detached_signature_is_accepted(wizard, pki, registration, django_capture_on_commit_callbacks):
    registration.register_clinic()
    fill_steps(wizard)
    document = review_document(wizard)
    signature = pki.sign(pki.person(), document, detached=True)
    submit_signed(wizard, django_capture_on_commit_callbacks, signature, document)
    assert RegistrationApplication.objects.get().status == RegistrationApplication.Status.APPROVED


def test_a_signature_made_in_the_browser_arrives_as_base64(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    registration.register_clinic()
    fill_steps(wizard)
    document = review_document(wizard)
    signature = pki.sign(pki.person(), document)
    submit(
        wizard,
        django_capture_on_commit_callbacks,
        signature_base64=base64.b64encode(signature).decode(),
        document_sha256=hashlib.sha256(document).hexdigest(),
    )
    assert bytes(RegistrationApplication.objects.get().signed_envelope) == signature


def test_a_signature_over_other_content_is_refused_at_the_signature_check(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    registration.register_clinic()
    fill_steps(wizard)
    document = review_document(wizard)
    signature = pki.sign(pki.person(), document.replace(b"clinic.example", b"clinic.exampla"))
    response = submit_signed(wizard, django_capture_on_commit_callbacks, signature, document)
    # Refused at the signature field: nothing stored, nobody mailed, the review shown again.
    assert response.status_code == 200
    assert "signature" in response.context["form"].errors
    with translation.override("uk"):
        message = str(REASON_MESSAGES["signed_content_differs"])
    assert escape(message) in main_html(response)
    assert stored_nothing() and not Email.objects.exists()


def test_a_key_of_someone_other_than_the_head_is_refused_at_the_signature_field(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    registration.register_clinic()
    fill_steps(wizard, head={"first_name": "Ольга"})  # the key is Олена's
    document = review_document(wizard)
    response = submit_signed(
        wizard, django_capture_on_commit_callbacks, pki.sign(pki.person(), document), document
    )
    assert response.status_code == 200
    assert "signature" in response.context["form"].errors
    assert stored_nothing() and not Email.objects.exists()


def test_both_signatures_at_once_are_refused(wizard, pki, django_capture_on_commit_callbacks):
    fill_steps(wizard)
    document = review_document(wizard)
    signature = pki.sign(pki.person(), document)
    response = submit(
        wizard,
        django_capture_on_commit_callbacks,
        signature=SimpleUploadedFile("application.p7s", signature),
        signature_base64=base64.b64encode(signature).decode(),
        document_sha256=hashlib.sha256(document).hexdigest(),
    )
    assert "signature" in response.context["wizard"]["form"].errors
    assert stored_nothing()


def test_a_signature_file_over_the_size_limit_is_refused(
    wizard, settings, django_capture_on_commit_callbacks
):
    settings.SIGNATURE_MAX_BYTES = 100
    fill_steps(wizard)
    document = review_document(wizard)
    response = submit(
        wizard,
        django_capture_on_commit_callbacks,
        signature=SimpleUploadedFile("big.p7s", b"0" * 101),
        document_sha256=hashlib.sha256(document).hexdigest(),
    )
    assert "100" in " ".join(response.context["wizard"]["form"].errors["signature"])
    assert stored_nothing()


def test_data_changed_in_another_tab_after_signing_is_not_submitted(
    wizard, pki, client, django_capture_on_commit_callbacks
):
    fill_steps(wizard)
    document = review_document(wizard)
    post_step(wizard, "facility", {**STEPS["facility"], "public_name": "Інша назва"})
    signature = pki.sign(pki.person(), document)
    response = submit_signed(wizard, django_capture_on_commit_callbacks, signature, document)
    assert response.status_code == 200
    assert response.context["submit_errors"]
    assert stored_nothing()


def test_a_facility_registered_meanwhile_sends_the_submission_back_to_step_1_with_what_to_do(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    # Registered between the review and the submission: the steps are checked again on submission
    # (the service's own check stays for a submission racing another one).
    registration.register_clinic()
    fill_steps(wizard)
    document = review_document(wizard)
    LegalEntity.objects.create(
        edrpou=CLINIC_EDRPOU,
        name="Вже є",
        legal_form="240",
        owner_property_type="PRIVATE",
        email="a@b.example",
    )
    response = submit_signed(
        wizard, django_capture_on_commit_callbacks, pki.sign(pki.person(), document), document
    )
    assert response.status_code == 302 and response.url == step_url("facility")
    page = wizard.get(response.url)
    assert page.context["wizard"]["form"].already_registered
    with translation.override("uk"):
        message = str(ALREADY_REGISTERED)
    assert escape(message) in main_html(page)
    assert not RegistrationApplication.objects.exists()


def test_payload_rules_that_fail_on_review_are_listed_and_nothing_can_be_signed(wizard):
    fill_steps(wizard)
    DictionaryValue.objects.filter(dictionary__name="LEGAL_ENTITY_TYPE", key="MSP").update(is_active=False)
    response = wizard.get(step_url("review"))
    html = main_html(response)
    assert response.context["payload_errors"]
    assert "Заяву ще не можна підписати" in html
    assert "signed-document" not in html and "data-browser-sign" not in html
    assert wizard.get(step_url("document")).status_code == 302


# --- Correcting a rejected application -------------------------------------------------------------


def test_correct_and_submit_again_reopens_the_wizard_with_the_previous_data(
    wizard, pki, registration, django_capture_on_commit_callbacks
):
    fill_steps(wizard, facility={"public_name": "Демо"})  # the clinic is not in the register yet: rejected
    document = review_document(wizard)
    response = submit_signed(
        wizard, django_capture_on_commit_callbacks, pki.sign(pki.person(), document), document
    )
    token = response.url.rstrip("/").rsplit("/", 1)[1]
    assert RegistrationApplication.objects.get().status == RegistrationApplication.Status.REJECTED

    response = wizard.get(reverse("registry:register") + f"?correct={token}")
    assert response.url == step_url("facility")
    facility = wizard.get(step_url("facility")).context["wizard"]["form"]
    assert facility.is_bound and facility.is_valid() and facility.cleaned_data["public_name"] == "Демо"
    assert review_document(wizard) == document  # same data, a new signature needed
    registration.register_clinic()  # meanwhile the register has the clinic
    post_step(wizard, "facility", {**STEPS["facility"], "public_name": "Демо Центр"})  # the correction
    corrected = review_document(wizard)
    submit_signed(wizard, django_capture_on_commit_callbacks, pki.sign(pki.person(), corrected), corrected)
    assert RegistrationApplication.objects.filter(status=RegistrationApplication.Status.APPROVED).count() == 1


def test_correcting_needs_a_rejected_applications_token(wizard):
    assert wizard.get(reverse("registry:register") + "?correct=nonsense").status_code == 404


def test_wizard_step_data_round_trips_the_payload(registration):
    def cleaned_steps(raw: dict[str, dict]) -> dict[str, dict]:
        cleaned = {}
        for step, form_class in DATA_STEPS:
            form = form_class(data=MultiValueDict(raw[step]), prefix=step)
            assert form.is_valid(), (step, form.errors)
            cleaned[step] = form.cleaned_data
        return cleaned

    typed = {
        step: {
            f"{step}-{name}": value if isinstance(value, list) else [value] for name, value in data.items()
        }
        for step, data in STEPS.items()
    }
    typed["addresses"].pop("addresses-same_as_registration")  # an actual address of its own
    typed["addresses"] |= {f"addresses-residence_{part}": [value] for part, value in RESIDENCE.items()}
    payload = legal_entity_payload_validate(wizard_payload(cleaned_steps(typed)))
    rebuilt = legal_entity_payload_validate(wizard_payload(cleaned_steps(wizard_step_data(payload))))
    assert rebuilt == payload
    assert [address["type"] for address in payload["addresses"]] == ["REGISTRATION", "RESIDENCE"]
