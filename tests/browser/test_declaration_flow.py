"""Issue 13's story in chromium, on a fresh database with the reference data: a family doctor signs in,
finds a registered patient in the register and starts a declaration request with themself and their
place of service; the patient's code arrives at the development SMS outbox (/dev/outbox/sms/) and the
doctor enters it; the doctor signs the request in the browser with their PKCS#12 key file; the declaration
is ACTIVE, with its PDF, and the patient's earlier declaration with a therapist of another facility is
TERMINATED.

The pages' words are compared through gettext (Ukrainian, as the browser asks), so the test reads what a
person reads whether or not a text is translated yet.
"""

import json
import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import clear_url_caches, include, path
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from declarations import services
from declarations.models import Declaration, DeclarationRequest
from declarations.urls import urlpatterns as declarations_urlpatterns
from declarations.views import dev as dev_views
from ehealth_portal import urls as portal_urls
from ehealth_portal import views as portal_views
from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki, cms_sign
from registry.services import reference_data_load
from tests.accounts.helpers import create_account
from tests.declaration_data import PATIENT_PHONE
from tests.declaration_data import person as person_payload
from tests.declarations.conftest import (
    clinic_make,
    doctor_make,
    party_make,
    patient_register,
    phone_verified,
    sms_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
DOCTOR_EMAIL = "hnatiuk@clinic-a.example"
DOCTOR_PASSWORD = "Simeinyi-Likar-2026"

# This module is the URLconf of the test: the portal's URLs as DEV_OUTBOX_ENABLED mounts them (the portal
# reads the setting once, at import), the SMS outbox among the declarations' pages.
urlpatterns = [
    path("dev/outbox/", portal_views.dev_outbox, name="dev-outbox"),
    path("dev/outbox/<int:email_id>/", portal_views.dev_outbox_message, name="dev-outbox-message"),
    path(
        "",
        include(
            (
                [p for p in declarations_urlpatterns if p.name != "dev-sms-outbox"] + dev_views.urlpatterns,
                "declarations",
            )
        ),
    ),
    *[p for p in portal_urls.urlpatterns if getattr(p, "namespace", None) != "declarations"],
]


def t(msgid: str) -> str:
    """The text as the Ukrainian pages show it."""
    with translation.override("uk"):
        return gettext(msgid)


def label(choice) -> str:
    with translation.override("uk"):
        return str(choice.label)


@pytest.fixture
def dev_outbox():
    with override_settings(DEV_OUTBOX_ENABLED=True, ROOT_URLCONF=__name__):
        clear_url_caches()
        yield
    clear_url_caches()


@pytest.fixture
def world(tmp_path, settings, dev_outbox):
    """Facility A with a family doctor who signs in with a password and holds a devpki key file (DRFO =
    their RNOKPP); facility B, whose therapist already has an ACTIVE declaration with the patient, made
    through the services as the cabinet makes one."""
    reference_data_load(data=json.loads(DICTIONARIES.read_text(encoding="utf-8")))
    pki = DevPki(tmp_path / "ca", tmp_path / "bundle.pem", tmp_path / "crls")
    pki.init()
    settings.SIGNATURE_CA_BUNDLE, settings.SIGNATURE_CRLS = pki.bundle, pki.crls

    clinic_a = clinic_make()  # its own family doctor, therapist, paediatrician, head, receptionist
    account = create_account(DOCTOR_EMAIL, DOCTOR_PASSWORD)
    doctor = doctor_make(
        clinic_a.legal_entity,
        clinic_a.division,
        party=party_make(last_name="Гнатюк", first_name="Ярослава", gender="FEMALE", user=account),
    )
    party = doctor.party
    pki.issue(
        "doctor",
        surname=party.last_name,
        given_names=f"{party.first_name} {party.second_name}",
        drfo=party.tax_id,
        edrpou=None,
    )

    clinic_b = clinic_make(name_suffix=" (інший заклад)")
    therapist = clinic_b.therapist.party
    pki.issue(
        "therapist", surname=therapist.last_name, given_names=therapist.first_name, drfo=therapist.tax_id
    )
    phone_verified(PATIENT_PHONE)
    patient = patient_register(person_payload())
    earlier = services.declaration_request_create_for_person(
        legal_entity=clinic_b.legal_entity,
        actor=clinic_b.receptionist,
        person=patient,
        employee=clinic_b.therapist,
        division=clinic_b.division,
    )
    earlier = services.declaration_request_approve(
        declaration_request=earlier, actor=clinic_b.receptionist, verification_code=sms_code(PATIENT_PHONE)
    )
    earlier_declaration = services.declaration_request_sign(
        declaration_request=earlier,
        actor=therapist.user,
        signed_envelope=cms_sign(
            services.declaration_request_signable_bytes(earlier), pki.credential("therapist")
        ),
    )
    assert earlier_declaration.status == Declaration.Status.ACTIVE
    return {
        "clinic": clinic_a,
        "doctor": doctor,
        "key_file": pki.paths("doctor")["p12"],
        "patient": patient,
        "earlier": earlier_declaration,
    }


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Електронна пошта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Увійти").click()
    expect(page.get_by_role("button", name="Вийти")).to_be_visible()


def code_from_the_sms_outbox(page, phone: str) -> str:
    """The patient's newest SMS at /dev/outbox/sms/ (newest first), its 4-digit code."""
    page.goto("/dev/outbox/sms/")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("SMS outbox"))
    text = page.locator("tbody tr", has_text=phone).first.locator("td").nth(2).inner_text()
    return re.search(r"\b\d{4}\b", text).group()


def test_a_doctor_takes_a_declaration_from_search_to_signed_pdf(page, live_server, screenshot, world):
    clinic, doctor, patient = world["clinic"], world["doctor"], world["patient"]
    posted: list[bytes] = []
    page.on("request", lambda request: posted.append(request.post_data_buffer or b""))

    # 1. The doctor signs in, and from their cabinet searches the register for the patient.
    sign_in(page, DOCTOR_EMAIL, DOCTOR_PASSWORD)
    page.goto("/cabinet/")
    section = page.locator("section", has=page.get_by_role("heading", name=t("Patients and declarations")))
    section.get_by_role("link", name=t("Find a patient")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Find a patient"))
    page.locator("#id_last_name").fill(patient.last_name)
    page.locator("#id_first_name").fill(patient.first_name)
    page.locator("#id_birth_date").fill(patient.birth_date.isoformat())
    page.locator("#id_tax_id").fill(patient.tax_id)
    page.get_by_role("button", name=t("Search"), exact=True).click()

    # 2. "Choose": a new request, the doctor themself and their place of service preselected.
    page.get_by_role("link", name=f"{t('Choose')} — {patient.full_name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("New declaration request"))
    expect(page.locator("#id_employee")).to_have_value(str(doctor.pk))
    expect(page.locator("#id_division")).to_have_value(str(clinic.division.pk))
    page.get_by_role("button", name=t("Create the request")).click()

    # 3. The request waits for the patient, whose code went by SMS.
    declaration_request = DeclarationRequest.objects.get(employee=doctor)
    request_url = f"/cabinet/declaration-requests/{declaration_request.pk}/"
    expect(page).to_have_url(f"{live_server.url}{request_url}")
    expect(page.locator("ul.messages")).to_contain_text(
        t("The request is created. The patient received an SMS code: enter it below.")
    )
    expect(page.locator(".status-line")).to_contain_text(label(DeclarationRequest.Status.NEW))
    screenshot("declaration-1-code-sent")

    # 4. The code, as the patient reads it, from the development SMS outbox.
    code = code_from_the_sms_outbox(page, PATIENT_PHONE)
    page.goto(request_url)
    page.get_by_label(t("Code from the SMS")).fill(code)
    page.get_by_role("button", name=t("Confirm with the code")).click()
    expect(page.locator("ul.messages")).to_contain_text(
        t("The patient confirmed the request. Now the doctor signs it.")
    )
    expect(page.locator(".status-line")).to_contain_text(label(DeclarationRequest.Status.APPROVED))

    # 5. The doctor signs in this browser with their key file; only the signature is sent.
    page.get_by_label(t("Key file (.p12, .pfx)")).set_input_files(str(world["key_file"]))
    page.get_by_label(t("Password of the key file")).fill(DEFAULT_PASSWORD)
    page.locator("[data-sign-button]").click()
    expect(page.locator("[data-sign-status]")).to_have_attribute("data-state", "signed", timeout=20_000)
    page.get_by_role("button", name=t("Send the signed declaration")).click()
    declaration = Declaration.objects.get(declaration_request=declaration_request)
    expect(page.locator("ul.messages")).to_contain_text(
        t("The declaration No. %(number)s is signed: %(status)s.")
        % {"number": declaration.declaration_number, "status": label(Declaration.Status.ACTIVE)}
    )
    assert all(DEFAULT_PASSWORD.encode() not in body for body in posted)  # the key's password stayed here
    screenshot("declaration-2-signed")

    # 6. The declaration's page, and the declaration form as PDF.
    page.get_by_role("link", name=t("Open the declaration")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(declaration.declaration_number)
    expect(page.locator(".status-line")).to_contain_text(label(Declaration.Status.ACTIVE))
    expect(page.locator("main")).to_contain_text(patient.full_name)
    screenshot("declaration-3-declaration")
    pdf = page.request.get(
        page.get_by_role("link", name=t("The declaration form (PDF)")).get_attribute("href")
    )
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    # 7. In force, and the patient's declaration with the other facility's therapist ended with it.
    declaration.refresh_from_db()
    assert (declaration.status, declaration.person_id, declaration.employee_id) == (
        Declaration.Status.ACTIVE,
        patient.pk,
        doctor.pk,
    )
    earlier = world["earlier"]
    earlier.refresh_from_db()
    assert (earlier.status, earlier.reason) == (
        Declaration.Status.TERMINATED,
        Declaration.Reason.AUTO_NEW_DECLARATION,  # "the patient chose another doctor"
    )
    assert list(Declaration.objects.filter(person=patient, status__in=Declaration.CURRENT)) == [declaration]
