"""The doctor signs a declaration request in chromium with their PKCS#12 key file, on the request's page.

The key file and its password stay in the browser (static/js/registration-sign.js with the vendored
signer); only the signature is posted, and the declaration is then in force.
"""

import os

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from django.conf import settings
from django.test import Client
from django.urls import reverse

from declarations import services
from declarations.models import Declaration, DeclarationRequest
from tests.declarations import conftest as declaration_fixtures
from tests.declarations.conftest import doctor_credential
from tests.declarations.test_request_pages import sms_code

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM in the test thread beside Playwright's loop

# The declarations' fixtures (the browser and its page are this directory's).
reference_data = declaration_fixtures.reference_data
clinic = declaration_fixtures.clinic
patient = declaration_fixtures.patient
doctor_key = declaration_fixtures.doctor_key
pki = declaration_fixtures.pki
_registration_pki = declaration_fixtures._registration_pki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Пароль ключа лікаря"


def key_file(person) -> bytes:
    """The person's PKCS#12 key file, as a qualified-signature provider issues one."""
    credential = person.credential
    return pkcs12.serialize_key_and_certificates(
        b"doctor",
        credential.private_key,
        credential.certificate,
        None,
        BestAvailableEncryption(PASSWORD.encode()),
    )


@pytest.fixture
def approved(clinic, patient, django_capture_on_commit_callbacks) -> DeclarationRequest:
    declaration_request = services.declaration_request_create_for_person(
        legal_entity=clinic.legal_entity,
        actor=clinic.receptionist,
        person=patient,
        employee=clinic.family_doctor,
        division=clinic.division,
    )
    return services.declaration_request_approve(
        declaration_request=declaration_request,
        actor=clinic.receptionist,
        verification_code=sms_code(patient.authentication_phone),
    )


def open_as(page, live_server, user, url: str) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": live_server.url}]
    )
    page.goto(url)


def sign_in_browser(page, p12: bytes) -> None:
    page.set_input_files(
        "#key-file", files=[{"name": "doctor.p12", "mimeType": "application/x-pkcs12", "buffer": p12}]
    )
    page.fill("#key-password", PASSWORD)
    page.click("[data-sign-button]")


def test_the_doctor_signs_in_the_browser_and_the_declaration_is_in_force(
    page, live_server, approved, clinic, pki, doctor_key
):
    posted = []
    page.on("request", lambda request: posted.append(request.post_data_buffer or b""))
    open_as(
        page,
        live_server,
        clinic.family_doctor.party.user,
        reverse("declarations:request-detail", args=[approved.pk]),
    )

    sign_in_browser(page, key_file(doctor_key))
    page.wait_for_selector("[data-sign-status][data-state=signed]")
    page.click("form[action$='/sign/'] button[type=submit]")
    page.wait_for_url(f"**{reverse('declarations:request-detail', args=[approved.pk])}")

    declaration = Declaration.objects.get(declaration_request=approved)
    assert declaration.status == Declaration.Status.ACTIVE
    assert approved.declaration_number in page.content()
    assert all(PASSWORD.encode() not in body for body in posted)  # the password never left the browser


def test_another_doctors_key_is_refused_before_anything_is_signed(page, live_server, approved, clinic, pki):
    open_as(
        page,
        live_server,
        clinic.family_doctor.party.user,
        reverse("declarations:request-detail", args=[approved.pk]),
    )

    sign_in_browser(page, key_file(doctor_credential(pki, clinic.therapist)))
    page.wait_for_selector("[data-sign-status][data-state=error]")

    assert page.input_value("#id_signature_base64") == ""
    assert not Declaration.objects.exists()
