"""The declaration request pages of the cabinet: create for a patient, the list and the page, the SMS code,
rejecting, and another facility's requests (404, nothing changes).

Signing, the scans of an OFFLINE patient and the printable form: test_request_pages_sign.py.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations.models import DeclarationRequest, SmsMessage, Verification
from registry.models import Division
from tests.declaration_data import person as person_payload
from tests.declarations.conftest import patient_register

pytestmark = pytest.mark.django_db


def new_url(person) -> str:
    return f"{reverse('declarations:request-new')}?person={person.pk}"


def detail_url(declaration_request) -> str:
    return reverse("declarations:request-detail", args=[declaration_request.pk])


def sms_code(phone_number: str) -> str:
    """The code of the newest SMS to the phone, as the patient reads it."""
    body = SmsMessage.objects.filter(phone_number=phone_number).order_by("-created_at", "-pk").first().body
    return re.search(r"\b(\d{4})\b", body).group(1)


def field_errors(html: str, field_id: str) -> str:
    """The error text shown with a field (Django's `<id>_error` list)."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else ""


def create(client, clinic, patient, *, employee=None, division=None):
    return client.post(
        new_url(patient),
        {
            "employee": str((employee or clinic.family_doctor).pk),
            "division": str((division or clinic.division).pk),
        },
    )


# --- Create ------------------------------------------------------------------------------------------


def test_the_new_request_page_lists_the_facility_doctors_with_their_speciality(
    client, clinic, other_clinic, patient
):
    client.force_login(clinic.receptionist)

    response = client.get(new_url(patient))

    html = response.content.decode()
    assert response.status_code == 200
    assert patient.full_name in html
    assert "Шевченко Тарас" in html and "Сімейний лікар" in html  # the family doctor with their speciality
    assert str(clinic.paediatrician.pk) in html and str(clinic.division.pk) in html
    assert str(other_clinic.family_doctor.pk) not in html  # another facility's doctor is not offered
    assert "selected>Шевченко" not in html  # a receptionist chooses the doctor


def test_a_doctor_opening_the_page_is_chosen_already(client, clinic, patient):
    client.force_login(clinic.therapist.party.user)

    html = client.get(new_url(patient)).content.decode()

    assert re.search(rf'<option value="{clinic.therapist.pk}" selected>', html)


def test_a_receptionist_creates_a_request_and_the_patient_gets_the_code(client, clinic, patient):
    client.force_login(clinic.receptionist)

    response = create(client, clinic, patient)

    declaration_request = DeclarationRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(declaration_request)
    assert declaration_request.status == DeclarationRequest.Status.NEW
    assert declaration_request.person == patient
    assert declaration_request.employee == clinic.family_doctor
    assert declaration_request.division == clinic.division
    assert SmsMessage.objects.filter(phone_number=patient.authentication_phone).count() == 1

    page = client.get(detail_url(declaration_request)).content.decode()
    assert declaration_request.declaration_number in page
    assert "Шевченко Тарас" in page and clinic.division.name in page
    assert 'name="code"' in page  # the patient's code is entered here
    assert reverse("declarations:request-form", args=[declaration_request.pk]) in page
    assert reverse("declarations:request-form-pdf", args=[declaration_request.pk]) in page


def test_a_doctor_whose_speciality_does_not_suit_the_age_is_refused_at_the_doctor(client, clinic, patient):
    client.force_login(clinic.receptionist)

    response = create(client, clinic, patient, employee=clinic.paediatrician)  # an adult patient

    html = response.content.decode()
    assert response.status_code == 200
    assert "18" in field_errors(html, "id_employee")  # a paediatrician takes patients under 18
    assert not DeclarationRequest.objects.exists()
    assert not SmsMessage.objects.exists() and not Verification.objects.exists()


def test_another_facilitys_doctor_or_an_inactive_place_is_refused_at_its_field(
    client, clinic, other_clinic, patient
):
    closed = Division.objects.create(
        legal_entity=clinic.legal_entity,
        name="Закритий пункт",
        type=clinic.division.type,
        addresses=clinic.division.addresses,
        phones=clinic.division.phones,
        email=clinic.division.email,
        status=Division.Status.INACTIVE,
    )
    client.force_login(clinic.receptionist)

    response = create(client, clinic, patient, employee=other_clinic.family_doctor, division=closed)

    html = response.content.decode()
    assert field_errors(html, "id_employee")
    assert field_errors(html, "id_division")
    assert not DeclarationRequest.objects.exists()


def test_a_patient_whose_phone_is_not_verified_is_sent_to_the_patients_page(client, clinic):
    patient = patient_register(person_payload())  # the SMS phone was never confirmed
    client.force_login(clinic.receptionist)

    response = create(client, clinic, patient)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="patient-errors"' in html
    assert reverse("declarations:patient-edit", kwargs={"person_id": patient.pk}) in html
    assert not DeclarationRequest.objects.exists() and not SmsMessage.objects.exists()


def test_an_assistant_cannot_open_the_new_request_page(client, clinic, patient):
    from tests.declarations.conftest import party_make
    from tests.factories import EmployeeFactory, UserFactory

    assistant = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Гнатюк", first_name="Ірина", user=assistant),
        employee_type="ASSISTANT",
        position="P15",
    )
    client.force_login(assistant)

    assert client.get(new_url(patient)).status_code == 403
    assert create(client, clinic, patient).status_code == 403
    assert not DeclarationRequest.objects.exists()


# --- The SMS code ---------------------------------------------------------------------------------------


@pytest.fixture
def new_request(client, clinic, patient) -> DeclarationRequest:
    client.force_login(clinic.receptionist)
    create(client, clinic, patient)
    return DeclarationRequest.objects.get()


def approve_url(declaration_request) -> str:
    return reverse("declarations:request-approve", args=[declaration_request.pk])


def test_the_code_from_the_sms_confirms_the_request(client, new_request, patient):
    code = sms_code(patient.authentication_phone)

    response = client.post(approve_url(new_request), {"code": code})

    assert response.status_code == 302
    new_request.refresh_from_db()
    assert new_request.status == DeclarationRequest.Status.APPROVED
    page = client.get(detail_url(new_request)).content.decode()
    assert 'name="code"' not in page


def test_a_wrong_code_is_refused_at_the_code_field(client, new_request, patient):
    right = sms_code(patient.authentication_phone)
    wrong = "0000" if right != "0000" else "1111"

    response = client.post(approve_url(new_request), {"code": wrong})

    html = response.content.decode()
    assert response.status_code == 200
    assert field_errors(html, "id_code")
    new_request.refresh_from_db()
    assert new_request.status == DeclarationRequest.Status.NEW

    malformed = client.post(approve_url(new_request), {"code": "12a4"})
    assert field_errors(malformed.content.decode(), "id_code")


def test_send_the_code_again_replaces_the_previous_one(client, new_request, patient):
    first = sms_code(patient.authentication_phone)

    response = client.post(reverse("declarations:request-resend-code", args=[new_request.pk]))

    assert response.status_code == 302
    assert SmsMessage.objects.filter(phone_number=patient.authentication_phone).count() == 2
    second = sms_code(patient.authentication_phone)
    if first != second:  # the old code no longer works
        client.post(approve_url(new_request), {"code": first})
        new_request.refresh_from_db()
        assert new_request.status == DeclarationRequest.Status.NEW
    client.post(approve_url(new_request), {"code": second})
    new_request.refresh_from_db()
    assert new_request.status == DeclarationRequest.Status.APPROVED


def test_reject_asks_first_then_rejects(client, new_request):
    url = reverse("declarations:request-reject", args=[new_request.pk])

    confirmation = client.get(url)
    new_request.refresh_from_db()
    assert confirmation.status_code == 200 and new_request.status == DeclarationRequest.Status.NEW

    response = client.post(url)

    assert response.status_code == 302
    new_request.refresh_from_db()
    assert new_request.status == DeclarationRequest.Status.REJECTED
    page = client.get(detail_url(new_request)).content.decode()
    assert 'name="code"' not in page and url not in page


# --- The list ---------------------------------------------------------------------------------------------


def test_the_list_shows_the_facilitys_requests_newest_first_and_filters_by_status(
    client, clinic, other_clinic, patient
):
    client.force_login(clinic.receptionist)
    create(client, clinic, patient)
    create(client, clinic, patient, employee=clinic.therapist)  # another doctor: both wait
    first, second = DeclarationRequest.objects.order_by("created_at", "pk")
    client.post(reverse("declarations:request-reject", args=[first.pk]))

    html = client.get(reverse("declarations:request-list")).content.decode()
    assert html.index(second.declaration_number) < html.index(first.declaration_number)

    new_only = client.get(reverse("declarations:request-list"), {"status": "NEW"}).content.decode()
    assert second.declaration_number in new_only and first.declaration_number not in new_only
    rejected = client.get(reverse("declarations:request-list"), {"status": "REJECTED"}).content.decode()
    assert first.declaration_number in rejected and second.declaration_number not in rejected


# --- Another facility ------------------------------------------------------------------------------------


def test_another_facilitys_user_gets_404_and_changes_nothing(client, new_request, other_clinic, patient):
    code = sms_code(patient.authentication_phone)
    sms_before = SmsMessage.objects.count()
    client.force_login(other_clinic.receptionist)

    pages = ["request-detail", "request-form", "request-form-pdf", "request-reject"]
    for name in pages:
        assert client.get(reverse(f"declarations:{name}", args=[new_request.pk])).status_code == 404, name
    assert client.post(approve_url(new_request), {"code": code}).status_code == 404
    assert client.post(reverse("declarations:request-reject", args=[new_request.pk])).status_code == 404
    assert client.post(reverse("declarations:request-resend-code", args=[new_request.pk])).status_code == 404
    listing = client.get(reverse("declarations:request-list")).content.decode()

    new_request.refresh_from_db()
    assert new_request.status == DeclarationRequest.Status.NEW
    assert SmsMessage.objects.count() == sms_before
    assert new_request.declaration_number not in listing
    # The code still works for the patient's own facility: the foreign try spent nothing.
    assert Verification.objects.get(declaration_request=new_request).attempts == 0


def test_the_lists_queries_do_not_grow_with_its_rows(client, clinic, patient):
    client.force_login(clinic.receptionist)
    create(client, clinic, patient)
    with CaptureQueriesContext(connection) as one_row:
        client.get(reverse("declarations:request-list"))
    create(client, clinic, patient, employee=clinic.therapist)
    for _ in range(3):  # each supersedes the previous one with that doctor; the rows stay
        create(client, clinic, patient)

    with CaptureQueriesContext(connection) as five_rows:
        html = client.get(reverse("declarations:request-list")).content.decode()

    assert html.count("Іваненко Петро") == DeclarationRequest.objects.count() == 5
    assert len(five_rows) == len(one_row) > 0
