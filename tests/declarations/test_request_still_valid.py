"""A request is completed only while what its creation checked still holds: its term has not passed (the
hourly job may not have marked it EXPIRED yet), the doctor still works at the facility, the place of
service is still active. Otherwise approving, signing, uploading a scan and sending a new code are refused
(the API answers 409) and change nothing; rejecting stays possible. And an SMS code is spent only on an
approval that can succeed."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from declarations.models import Declaration, DeclarationRequest, Verification
from declarations.services import (
    CONFLICT_CODES,
    declaration_request_approve,
    declaration_request_document_upload,
    declaration_request_reject,
    declaration_request_resend_otp,
    declaration_requests_expire,
)
from registry.models import Employee
from registry.services.divisions import division_deactivate
from tests.declaration_data import PATIENT_PHONE, adult, offline, person
from tests.declarations.conftest import (
    patient_register,
    phone_verified,
    request_approve,
    request_create,
    request_sign,
    sms_code,
)
from tests.declarations.test_race import postgresql  # noqa: F401 - a fixture

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def request_state(request) -> tuple:
    row = DeclarationRequest.objects.get(pk=request.pk)
    return row.status, row.updated_at, row.history.count(), row.uploads.count()


def refusal(function, request, **kwargs) -> dict[str, list[str]]:
    """The codes of an action's refusal, checked to have changed nothing of the request."""
    before = request_state(request)
    with pytest.raises(ValidationError) as caught:
        function(declaration_request=request, actor=request.created_by, **kwargs)
    assert request_state(request) == before
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def sign_refusal(request, pki) -> dict[str, list[str]]:
    before = request_state(request)
    with pytest.raises(ValidationError) as caught:
        request_sign(request, pki)
    assert request_state(request) == before
    assert not Declaration.objects.exists()
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def upload(request):
    return declaration_request_document_upload(
        declaration_request=request,
        actor=request.created_by,
        type="person.PASSPORT",
        file=SimpleUploadedFile("passport.jpg", JPEG, content_type="image/jpeg"),
    )


def past_term(request) -> DeclarationRequest:
    DeclarationRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    request.refresh_from_db()
    return request


# --- The term ------------------------------------------------------------------------------------------


def test_a_request_past_its_term_is_not_completed_before_the_job_expires_it(clinic, pki):
    waiting = past_term(request_create(clinic, offline(person())))
    assert refusal(declaration_request_approve, waiting) == {"expires_at": ["request_expired"]}
    with pytest.raises(ValidationError) as caught:
        upload(waiting)
    assert [item.code for item in caught.value.error_dict["expires_at"]] == ["request_expired"]
    assert not waiting.uploads.exists()

    approved = past_term(request_approve(request_create(clinic, adult(1))))
    assert sign_refusal(approved, pki) == {"expires_at": ["request_expired"]}
    assert "request_expired" in CONFLICT_CODES

    # Rejecting it is still possible; the job expires the other.
    assert (
        declaration_request_reject(declaration_request=waiting, actor=clinic.receptionist).status
        == "REJECTED"
    )
    assert declaration_requests_expire() == 1


def test_no_new_code_for_a_request_past_its_term(clinic, patient):
    request = past_term(request_create(clinic, person()))
    codes_before = Verification.objects.count()
    assert refusal(declaration_request_resend_otp, request) == {"expires_at": ["request_expired"]}
    assert Verification.objects.count() == codes_before


def test_a_code_past_the_requests_term_is_not_spent(clinic, patient):
    request = request_create(clinic, person())
    code = sms_code(PATIENT_PHONE)
    past_term(request)
    assert refusal(declaration_request_approve, request, verification_code=code) == {
        "expires_at": ["request_expired"]
    }
    assert Verification.objects.get().status == Verification.Status.NEW


# --- The place of service and the doctor -------------------------------------------------------------


def test_a_request_of_a_place_closed_since_is_neither_approved_nor_signed(clinic, pki):
    waiting = request_create(clinic, adult(1))
    approved = request_approve(request_create(clinic, adult(2)))
    division_deactivate(division=clinic.division, actor=clinic.head)

    assert refusal(declaration_request_approve, waiting) == {"division_id": ["request_division_inactive"]}
    assert sign_refusal(approved, pki) == {"division_id": ["request_division_inactive"]}
    assert "request_division_inactive" in CONFLICT_CODES
    assert (
        declaration_request_reject(declaration_request=approved, actor=clinic.receptionist).status
        == "REJECTED"
    )


def test_a_request_of_a_doctor_who_no_longer_works_is_neither_approved_nor_signed(clinic, pki):
    """A dismissal through the registry cancels the doctor's requests; a request left behind by any other
    change of the job (a bulk correction, the job ended) is refused all the same."""
    waiting = request_create(clinic, adult(1))
    approved = request_approve(request_create(clinic, adult(2)))
    Employee.objects.filter(pk=clinic.family_doctor.pk).update(
        status=Employee.Status.DISMISSED, is_active=False
    )

    assert refusal(declaration_request_approve, waiting) == {"employee_id": ["request_doctor_inactive"]}
    with pytest.raises(ValidationError):
        request_sign(approved, pki)
    assert not Declaration.objects.exists()
    assert DeclarationRequest.objects.get(pk=approved.pk).status == DeclarationRequest.Status.APPROVED


def test_a_code_for_a_place_closed_since_is_not_spent(clinic, patient):
    request = request_create(clinic, person())
    code = sms_code(PATIENT_PHONE)
    division_deactivate(division=clinic.division, actor=clinic.head)
    assert refusal(declaration_request_approve, request, verification_code=code) == {
        "division_id": ["request_division_inactive"]
    }
    assert Verification.objects.get().status == Verification.Status.NEW


def test_the_cabinet_says_why_the_request_cannot_be_confirmed(client, clinic, patient):
    request = request_create(clinic, person())
    division_deactivate(division=clinic.division, actor=clinic.head)
    client.force_login(clinic.receptionist)
    response = client.post(
        reverse("declarations:request-approve", args=[request.pk]), {"code": sms_code(PATIENT_PHONE)}
    )
    assert response.status_code == 200
    with translation.override("uk"):  # the catalogue's words once it has them
        expected = gettext("The place of service of the request no longer works: reject the request.")
    assert response.context["submit_errors"] == [expected]
    assert DeclarationRequest.objects.get(pk=request.pk).status == DeclarationRequest.Status.NEW


# --- SMS and scans together ----------------------------------------------------------------------------


def no_rnokpp_sms_patient() -> dict:
    """A registered adult who refused an RNOKPP and confirms by SMS: both the code and scans are needed."""
    data = person(no_tax_id=True)
    data.pop("tax_id")
    phone_verified(PATIENT_PHONE)
    patient_register(data)
    return data


def test_the_code_is_not_spent_while_the_scans_are_missing(clinic):
    request = request_create(clinic, no_rnokpp_sms_patient())
    assert request.authentication_method_current["type"] == "OTP"
    assert request.documents == ["person.DECLARATION_FORM", "person.PASSPORT"]
    code = sms_code(PATIENT_PHONE)

    assert refusal(declaration_request_approve, request, verification_code=code) == {
        "documents": ["documents_not_uploaded"]
    }
    assert Verification.objects.get().status == Verification.Status.NEW  # the patient's code still works

    for document_type in request.documents:
        declaration_request_document_upload(
            declaration_request=request,
            actor=clinic.receptionist,
            type=document_type,
            file=SimpleUploadedFile("scan.jpg", JPEG, content_type="image/jpeg"),
        )
    approved = declaration_request_approve(
        declaration_request=request, actor=clinic.receptionist, verification_code=code
    )
    assert approved.status == DeclarationRequest.Status.APPROVED


def test_the_cabinet_offers_the_scans_of_an_sms_patient_without_an_rnokpp(client, clinic):
    request = request_create(clinic, no_rnokpp_sms_patient())
    client.force_login(clinic.receptionist)
    page = client.get(reverse("declarations:request-detail", args=[request.pk]))
    assert page.context["code_form"] is not None
    assert [item["type"] for item in page.context["documents"]] == request.documents
    assert 'name="document_type" value="person.PASSPORT"' in page.content.decode()


# --- Locks ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_expiry_job_does_not_wait_for_a_doctors_row(postgresql, clinic):  # noqa: F811
    """The job locks the requests only: a dismissal holding the doctor's row (and then taking the doctor's
    requests) must not deadlock with it."""
    request = past_term(request_create(clinic, adult(1)))
    holding, release = threading.Event(), threading.Event()

    def hold_the_doctor():
        try:
            with transaction.atomic():
                Employee.objects.select_for_update().get(pk=clinic.family_doctor.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_doctor)
    holder.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            assert declaration_requests_expire() == 1
    finally:
        release.set()
        holder.join()
    assert DeclarationRequest.objects.get(pk=request.pk).status == DeclarationRequest.Status.EXPIRED
