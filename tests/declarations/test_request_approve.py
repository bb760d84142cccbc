"""The patient's confirmation (ehealth-api.md §4.5): the SMS code or the scans, and the doctor's limit;
reject and a new code. Every refusal leaves the request as it was."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from declarations.models import DeclarationRequest, DeclarationRequestDocument, Verification
from declarations.services import (
    CONFLICT_CODES,
    declaration_request_approve,
    declaration_request_create,
    declaration_request_document_upload,
    declaration_request_reject,
    declaration_request_resend_otp,
    doctor_limit_status,
)
from registry.models import Employee, GlobalParameter
from registry.services import global_parameter_set
from tests.declaration_data import PATIENT_PHONE, adult, child, declaration_request, offline, person
from tests.declarations.conftest import (
    declaration_signed,
    doctor_make,
    patient_register,
    phone_verified,
    request_approve,
    request_create,
    request_sign,
    sms_code,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def codes(caught) -> dict[str, list[str]]:
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def request_state(request) -> tuple:
    row = DeclarationRequest.objects.get(pk=request.pk)
    return row.status, row.updated_at, row.history.count()


def refused(function, request, **kwargs) -> dict[str, list[str]]:
    """The refusal of an action on the request, checked to have changed nothing of it."""
    before = request_state(request)
    with pytest.raises(ValidationError) as caught:
        function(declaration_request=request, actor=request.created_by, **kwargs)
    assert request_state(request) == before
    return codes(caught)


@pytest.fixture
def otp_request(clinic, patient):
    """A NEW request of a registered patient who confirms by SMS: a code was sent."""
    return request_create(clinic, person())


# --- By SMS --------------------------------------------------------------------------------------------


def test_the_right_code_approves(otp_request):
    assert otp_request.authentication_method_current["type"] == "OTP"
    approved = request_approve(otp_request)
    assert approved.status == DeclarationRequest.Status.APPROVED
    assert Verification.objects.get().status == Verification.Status.VERIFIED
    version = approved.history.latest("history_date")
    assert (version.status, version.history_user) == ("APPROVED", otp_request.created_by)


def test_a_wrong_or_missing_code_refuses_and_counts_the_try(otp_request):
    right = sms_code(PATIENT_PHONE)
    wrong = f"{(int(right) + 1) % 10000:04d}"
    assert refused(declaration_request_approve, otp_request) == {"verification_code": ["required"]}
    assert refused(declaration_request_approve, otp_request, verification_code=wrong) == {
        "verification_code": ["code_invalid"]
    }
    assert Verification.objects.get().attempts == 1  # the wrong try stays counted
    assert refused(declaration_request_approve, otp_request, verification_code=wrong) == {
        "verification_code": ["code_invalid"]
    }
    assert refused(declaration_request_approve, otp_request, verification_code=wrong) == {
        "verification_code": ["attempts_exceeded"]
    }
    # After three wrong tries even the right code is refused; a new code helps.
    assert refused(declaration_request_approve, otp_request, verification_code=right) == {
        "verification_code": ["attempts_exceeded"]
    }
    declaration_request_resend_otp(declaration_request=otp_request, actor=otp_request.created_by)
    assert request_approve(otp_request).status == DeclarationRequest.Status.APPROVED


def test_a_new_code_replaces_the_old_one(otp_request):
    first = sms_code(PATIENT_PHONE)
    declaration_request_resend_otp(declaration_request=otp_request, actor=otp_request.created_by)
    assert list(Verification.objects.order_by("created_at").values_list("status", flat=True)) == [
        Verification.Status.CANCELED,
        Verification.Status.NEW,
    ]
    second = sms_code(PATIENT_PHONE)
    if first != second:
        assert refused(declaration_request_approve, otp_request, verification_code=first) == {
            "verification_code": ["code_invalid"]
        }
    assert (
        declaration_request_approve(
            declaration_request=otp_request, actor=otp_request.created_by, verification_code=second
        ).status
        == DeclarationRequest.Status.APPROVED
    )


def test_a_new_code_only_for_a_waiting_sms_request(clinic, otp_request):
    not_otp = request_create(clinic, adult(3))  # a new patient: NA
    assert refused(declaration_request_resend_otp, not_otp) == {"authentication_method_current": ["not_otp"]}
    approved = request_approve(otp_request)
    assert refused(declaration_request_resend_otp, approved) == {"status": ["invalid_transition"]}
    assert {"not_otp", "invalid_transition"} <= CONFLICT_CODES


def test_a_new_patient_confirmed_the_phone_before_and_approves_without_a_code(clinic):
    request = request_create(clinic)
    assert request.authentication_method_current == {"type": "NA"}
    assert declaration_request_approve(declaration_request=request, actor=clinic.receptionist).status == (
        DeclarationRequest.Status.APPROVED
    )


def test_approve_and_reject_only_from_their_statuses(clinic, otp_request):
    approved = request_approve(otp_request)
    assert refused(declaration_request_approve, approved, verification_code="0000") == {
        "status": ["invalid_transition"]
    }
    rejected = declaration_request_reject(declaration_request=approved, actor=clinic.receptionist)
    assert rejected.status == DeclarationRequest.Status.REJECTED
    assert refused(declaration_request_reject, rejected) == {"status": ["invalid_transition"]}
    fresh = request_create(clinic, adult(4))
    assert (
        declaration_request_reject(declaration_request=fresh, actor=clinic.receptionist).status == "REJECTED"
    )


# --- By documents --------------------------------------------------------------------------------------


@pytest.fixture
def offline_request(clinic):
    return request_create(clinic, offline(person()))


def upload(request, type_, content, name="scan.jpg"):
    return declaration_request_document_upload(
        declaration_request=request,
        actor=request.created_by,
        type=type_,
        file=SimpleUploadedFile(name, content, content_type="image/jpeg"),
    )


def test_an_offline_request_is_approved_once_every_scan_is_uploaded(
    offline_request, django_capture_on_commit_callbacks
):
    assert offline_request.documents == ["person.DECLARATION_FORM", "person.SSN", "person.PASSPORT"]
    assert refused(declaration_request_approve, offline_request) == {"documents": ["documents_not_uploaded"]}
    upload(offline_request, "person.DECLARATION_FORM", PDF, "form.pdf")
    upload(offline_request, "person.SSN", PNG, "ssn.png")
    assert refused(declaration_request_approve, offline_request) == {"documents": ["documents_not_uploaded"]}
    scan = upload(offline_request, "person.PASSPORT", JPEG)
    assert (scan.content_type, scan.size) == ("image/jpeg", len(JPEG))
    assert scan.file.read() == JPEG
    approved = declaration_request_approve(
        declaration_request=offline_request, actor=offline_request.created_by
    )
    assert approved.status == DeclarationRequest.Status.APPROVED
    # Scans are taken while the request waits for the patient only.
    with pytest.raises(ValidationError) as caught:
        upload(approved, "person.PASSPORT", JPEG)
    assert codes(caught) == {"status": ["invalid_transition"]}


def test_a_scan_is_checked_by_its_content_type_and_size(offline_request, settings):
    settings.DECLARATION_SCAN_MAX_BYTES = 100
    for type_, content, code in [
        ("person.PASSPORT", b"GIF89a" + b"\x00" * 20, {"file": ["file_type"]}),
        ("person.PASSPORT", b"", {"file": ["file_type"]}),
        ("person.PASSPORT", b"<html>\xff\xd8\xff</html>", {"file": ["file_type"]}),
        ("person.PASSPORT", JPEG + b"\x00" * 100, {"file": ["file_too_large"]}),
        ("person.NATIONAL_ID", JPEG, {"type": ["document_type"]}),
    ]:
        with pytest.raises(ValidationError) as caught:
            upload(offline_request, type_, content, "passport.jpg")
        assert codes(caught) == code
    assert not DeclarationRequestDocument.objects.exists()


def test_a_second_scan_of_a_document_replaces_the_first(offline_request, django_capture_on_commit_callbacks):
    first = upload(offline_request, "person.PASSPORT", JPEG)
    storage, old_name = first.file.storage, first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        second = upload(offline_request, "person.PASSPORT", PDF, "passport.pdf")
    assert DeclarationRequestDocument.objects.get().pk == first.pk
    assert (second.content_type, second.file.read()) == ("application/pdf", PDF)
    assert not storage.exists(old_name)


# --- The doctor's limit -----------------------------------------------------------------------------------


def approved_for(clinic, serial, **kwargs):
    return request_approve(request_create(clinic, adult(serial), **kwargs))


def test_the_limit_counts_approved_requests_and_refuses_at_the_limit(clinic):
    global_parameter_set(name="declaration_limit_family_doctor", value="2")
    doctor = clinic.family_doctor
    approved_for(clinic, 1)
    assert Employee.objects.get(pk=doctor.pk).accepts_new_patients is True
    approved_for(clinic, 2)
    assert doctor_limit_status(doctor.party) == (2, 2)
    assert Employee.objects.get(pk=doctor.pk).accepts_new_patients is False  # the map shows it
    third = request_create(clinic, adult(3))
    assert refused(declaration_request_approve, third) == {"__all__": ["declaration_limit"]}
    # A rejected approval frees the place.
    declaration_request_reject(
        declaration_request=DeclarationRequest.objects.filter(status="APPROVED").first(),
        actor=clinic.receptionist,
    )
    assert Employee.objects.get(pk=doctor.pk).accepts_new_patients is True
    assert request_approve(third).status == DeclarationRequest.Status.APPROVED


def test_the_limit_counts_current_declarations_but_not_the_patients_own(clinic, pki):
    global_parameter_set(name="declaration_limit_family_doctor", value="2")
    declaration_signed(clinic, pki, adult(1))
    declaration_signed(clinic, pki, adult(2))
    assert doctor_limit_status(clinic.family_doctor.party) == (2, 2)
    assert refused(declaration_request_approve, request_create(clinic, adult(3))) == {
        "__all__": ["declaration_limit"]
    }
    # A patient of the doctor renewing their declaration takes no new place.
    renewal = request_create(clinic, adult(1))
    assert request_approve(renewal).status == DeclarationRequest.Status.APPROVED


def test_the_limit_is_the_smallest_of_the_doctors_jobs(clinic, other_clinic):
    """The family doctor also works as a paediatrician elsewhere: the paediatrician's limit applies."""
    global_parameter_set(name="declaration_limit_family_doctor", value="5")
    global_parameter_set(name="declaration_limit_pediatrician", value="2")
    doctor_make(
        other_clinic.legal_entity,
        other_clinic.division,
        speciality_code="PEDIATRICIAN",
        party=clinic.family_doctor.party,
    )
    approved_for(clinic, 1)
    phone_verified(child()["authentication_methods"][0]["phone_number"])
    # The job elsewhere is another employee of the same person: its approvals count too.
    job_elsewhere = Employee.objects.get(
        party=clinic.family_doctor.party, legal_entity=other_clinic.legal_entity
    )
    kid = request_approve(request_create(other_clinic, child(), doctor=job_elsewhere))
    assert kid.status == DeclarationRequest.Status.APPROVED
    assert doctor_limit_status(clinic.family_doctor.party) == (2, 2)
    assert refused(declaration_request_approve, request_create(clinic, adult(2))) == {
        "__all__": ["declaration_limit"]
    }
    # A dismissed job no longer sets the limit.
    Employee.objects.filter(pk=job_elsewhere.pk).update(status=Employee.Status.DISMISSED, is_active=False)
    assert doctor_limit_status(clinic.family_doctor.party) == (1, 5)


def test_an_overlimit_request_is_approved_over_the_limit(clinic):
    global_parameter_set(name="declaration_limit_family_doctor", value="1")
    approved_for(clinic, 1)
    phone_verified(PATIENT_PHONE)
    over = declaration_request_create(
        legal_entity=clinic.legal_entity,
        actor=clinic.receptionist,
        data=declaration_request(
            person=adult(2), employee_id=clinic.family_doctor, division_id=clinic.division, overlimit=True
        ),
    )
    assert request_approve(over).status == DeclarationRequest.Status.APPROVED


def test_no_limit_parameter_means_no_limit(clinic):
    GlobalParameter.objects.filter(name="declaration_limit_family_doctor").delete()
    assert doctor_limit_status(clinic.family_doctor.party) == (0, None)
    assert approved_for(clinic, 1).status == DeclarationRequest.Status.APPROVED


def test_a_registered_patient_is_found_for_the_count_by_names_and_a_document(clinic, pki):
    """A child without an RNOKPP renewing with the same paediatrician takes no new place either."""
    global_parameter_set(name="declaration_limit_pediatrician", value="1")
    phone_verified(child()["authentication_methods"][0]["phone_number"])
    patient_register(child())
    kid = request_create(clinic, child(), doctor=clinic.paediatrician)
    request = request_approve(kid)
    request_sign(request, pki)
    again = request_create(clinic, child(), doctor=clinic.paediatrician)
    assert request_approve(again).status == DeclarationRequest.Status.APPROVED
