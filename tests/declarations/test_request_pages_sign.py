"""The doctor signs a request on its page (a .p7s, or a signature made in the browser); an OFFLINE patient's
scans are uploaded and then the request approved; the printable form and its PDF.
"""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.urls import reverse

from declarations import services
from declarations.models import Declaration, DeclarationRequest, DeclarationRequestDocument
from tests.declaration_data import offline
from tests.declaration_data import person as person_payload
from tests.declarations.conftest import doctor_credential, patient_register
from tests.declarations.test_request_pages import detail_url, field_errors, sms_code

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def approved(clinic, patient, django_capture_on_commit_callbacks) -> DeclarationRequest:
    """The family doctor's request for the patient, confirmed with the SMS code."""
    with django_capture_on_commit_callbacks(execute=True):
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


def sign_url(declaration_request) -> str:
    return reverse("declarations:request-sign", args=[declaration_request.pk])


def signable(declaration_request) -> bytes:
    return services.declaration_request_signable_bytes(declaration_request)


def sign_post(client, declaration_request, envelope: bytes, *, in_browser=False, sha256=None):
    document = signable(declaration_request)
    data = {"document_sha256": sha256 or hashlib.sha256(document).hexdigest()}
    if in_browser:
        data["signature_base64"] = base64.b64encode(envelope).decode()
    else:
        data["signature"] = _upload("declaration.p7s", envelope, "application/pkcs7-signature")
    return client.post(sign_url(declaration_request), data)


def _upload(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


# --- Signing -----------------------------------------------------------------------------------------


def test_the_doctor_sees_the_exact_document_to_sign(client, approved, clinic):
    client.force_login(clinic.family_doctor.party.user)

    html = client.get(detail_url(approved)).content.decode()
    document = signable(approved)

    assert hashlib.sha256(document).hexdigest() in html
    assert base64.b64encode(document).decode() in html  # what the browser signs
    assert f'data-expected-drfo="{clinic.family_doctor.party.tax_id}"' in html
    assert "registration-sign.js" in html
    download = client.get(reverse("declarations:request-document", args=[approved.pk]))
    assert download.status_code == 200 and download.content == document
    assert approved.declaration_number in download["Content-Disposition"]


def test_the_doctor_signs_with_a_p7s_and_the_declaration_is_active(client, approved, clinic, pki, doctor_key):
    client.force_login(clinic.family_doctor.party.user)

    response = sign_post(client, approved, pki.sign(doctor_key, signable(approved)))

    assert response.status_code == 302
    declaration = Declaration.objects.get()
    assert declaration.declaration_number == approved.declaration_number
    assert declaration.status == Declaration.Status.ACTIVE
    approved.refresh_from_db()
    assert approved.status == DeclarationRequest.Status.SIGNED
    page = client.get(response["Location"]).content.decode()
    assert approved.declaration_number in page and declaration.get_status_display() in page
    assert 'name="signature"' not in page  # signed once: no second signature


def test_a_signature_made_in_the_browser_is_accepted(client, approved, clinic, pki, doctor_key):
    client.force_login(clinic.family_doctor.party.user)

    response = sign_post(client, approved, pki.sign(doctor_key, signable(approved)), in_browser=True)

    assert response.status_code == 302
    assert Declaration.objects.filter(declaration_request=approved).exists()


def test_another_persons_key_is_refused_at_the_signature_and_nothing_is_stored(client, approved, clinic, pki):
    therapist_key = doctor_credential(pki, clinic.therapist)
    client.force_login(clinic.family_doctor.party.user)

    response = sign_post(client, approved, pki.sign(therapist_key, signable(approved)))

    assert response.status_code == 200
    assert field_errors(response.content.decode(), "id_signature")
    assert not Declaration.objects.exists()
    approved.refresh_from_db()
    assert approved.status == DeclarationRequest.Status.APPROVED


def test_a_signature_of_other_content_or_a_stale_page_is_refused(client, approved, clinic, pki, doctor_key):
    client.force_login(clinic.family_doctor.party.user)

    other_content = sign_post(client, approved, pki.sign(doctor_key, b'{"id":"something else"}'))
    stale_page = sign_post(client, approved, pki.sign(doctor_key, signable(approved)), sha256="0" * 64)
    nothing = client.post(
        sign_url(approved), {"document_sha256": hashlib.sha256(signable(approved)).hexdigest()}
    )

    for response in (other_content, stale_page, nothing):
        assert response.status_code == 200
        assert field_errors(response.content.decode(), "id_signature")
    assert not Declaration.objects.exists()


def test_only_the_requests_doctor_is_offered_to_sign(client, approved, clinic, pki, doctor_key):
    envelope = pki.sign(doctor_key, signable(approved))
    for user in (clinic.receptionist, clinic.therapist.party.user):
        client.force_login(user)
        page = client.get(detail_url(approved)).content.decode()
        assert 'name="signature"' not in page
        assert client.get(reverse("declarations:request-document", args=[approved.pk])).status_code in (
            403,
            404,
        )
        response = sign_post(client, approved, envelope)
        assert response.status_code in (302, 403)
    assert not Declaration.objects.exists()


def test_another_facilitys_doctor_gets_404_and_signs_nothing(client, approved, other_clinic, pki, doctor_key):
    envelope = pki.sign(doctor_key, signable(approved))
    client.force_login(other_clinic.family_doctor.party.user)

    assert client.get(detail_url(approved)).status_code == 404
    assert sign_post(client, approved, envelope).status_code == 404
    assert not Declaration.objects.exists()


# --- An OFFLINE patient's scans --------------------------------------------------------------------------


@pytest.fixture
def offline_request(clinic, reference_data) -> DeclarationRequest:
    patient = patient_register(offline(person_payload()))
    return services.declaration_request_create_for_person(
        legal_entity=clinic.legal_entity,
        actor=clinic.receptionist,
        person=patient,
        employee=clinic.family_doctor,
        division=clinic.division,
    )


def upload(client, declaration_request, document_type: str, content: bytes, name="scan.png"):
    prefix = "doc-" + "".join(char if char.isalnum() else "-" for char in document_type)
    return client.post(
        reverse("declarations:request-upload", args=[declaration_request.pk]),
        {
            "document_type": document_type,
            f"{prefix}-file": _upload(name, content, "application/octet-stream"),
        },
    )


def test_each_listed_scan_is_uploaded_then_the_request_is_approved(client, clinic, offline_request):
    client.force_login(clinic.receptionist)
    page = client.get(detail_url(offline_request)).content.decode()
    assert offline_request.documents  # the declaration form, the RNOKPP card, the passport
    for document_type in offline_request.documents:
        assert f'value="{document_type}"' in page

    early = client.post(reverse("declarations:request-approve", args=[offline_request.pk]))
    assert early.status_code == 200 and 'class="notice notice-error"' in early.content.decode()
    offline_request.refresh_from_db()
    assert offline_request.status == DeclarationRequest.Status.NEW

    for index, document_type in enumerate(offline_request.documents):
        response = upload(client, offline_request, document_type, PDF if index else PNG)
        assert response.status_code == 302, document_type
    assert DeclarationRequestDocument.objects.filter(declaration_request=offline_request).count() == len(
        offline_request.documents
    )

    response = client.post(reverse("declarations:request-approve", args=[offline_request.pk]))

    assert response.status_code == 302
    offline_request.refresh_from_db()
    assert offline_request.status == DeclarationRequest.Status.APPROVED


def test_a_file_that_is_not_a_scan_is_refused_at_the_file_field(client, clinic, offline_request):
    client.force_login(clinic.receptionist)
    document_type = offline_request.documents[0]

    response = upload(client, offline_request, document_type, b"MZ\x90\x00 not an image", name="scan.jpg")

    html = response.content.decode()
    prefix = "doc-" + "".join(char if char.isalnum() else "-" for char in document_type)
    assert response.status_code == 200
    assert field_errors(html, f"id_{prefix}-file")
    assert not DeclarationRequestDocument.objects.exists()


def test_a_document_the_request_does_not_list_is_not_uploaded(client, clinic, offline_request):
    client.force_login(clinic.receptionist)

    response = upload(client, offline_request, "person.SOMETHING_ELSE", PNG)

    assert response.status_code == 404
    assert not DeclarationRequestDocument.objects.exists()


# --- The printable form -----------------------------------------------------------------------------------


def test_the_print_page_is_the_form_alone_with_print_styles(client, approved, clinic):
    from django.contrib.staticfiles import finders

    client.force_login(clinic.receptionist)

    response = client.get(reverse("declarations:request-form", args=[approved.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Іваненко Петро Миколайович" in html
    assert approved.declaration_number in html
    assert "site-header" not in html  # the page is the sheet, without the portal's header
    stylesheet = re.search(r'href="([^"]*declaration-form[^"]*\.css)"', html).group(1)
    css = Path(finders.find("css/declaration-form.css")).read_text(encoding="utf-8")
    assert "@media print" in css and re.search(r"@page\s*{[^}]*A4", css)
    assert client.get(stylesheet).status_code == 200
