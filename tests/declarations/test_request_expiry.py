"""Unsigned requests expire (ehealth-api.md §4.4): the hourly job marks them EXPIRED and wipes the patient's
data, the printed form and the scans; a signed request and one still in its term are left alone."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from declarations.models import DeclarationRequest, DeclarationRequestDocument
from declarations.services import declaration_request_document_upload, declaration_requests_expire
from declarations.tasks import declaration_requests_expire_task
from registry.models import Employee
from registry.services import global_parameter_set
from tests.declaration_data import adult, offline, person
from tests.declarations.conftest import declaration_signed, request_approve, request_create


def age(request, **delta) -> None:
    DeclarationRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - datetime.timedelta(**delta)
    )


def test_a_request_expires_after_the_configured_term(clinic):
    global_parameter_set(name="declaration_request_expiration", value="2")
    global_parameter_set(name="declaration_request_term_unit", value="HOURS")
    before = timezone.now()
    request = request_create(clinic)
    assert (
        before + datetime.timedelta(hours=2)
        <= request.expires_at
        <= timezone.now() + datetime.timedelta(hours=2)
    )


def test_the_job_expires_unsigned_requests_past_their_term(clinic, pki, django_capture_on_commit_callbacks):
    global_parameter_set(name="declaration_limit_family_doctor", value="1")
    waiting = request_create(clinic, offline(person()))
    scan = declaration_request_document_upload(
        declaration_request=waiting,
        actor=clinic.receptionist,
        type="person.PASSPORT",
        file=SimpleUploadedFile("passport.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
    )
    approved = request_approve(request_create(clinic, adult(1)))
    assert Employee.objects.get(pk=clinic.family_doctor.pk).accepts_new_patients is False
    in_term = request_create(clinic, adult(2), doctor=clinic.therapist)
    signed = declaration_signed(clinic, pki, adult(3), doctor=clinic.therapist).declaration_request
    for request in (waiting, approved, signed):
        age(request, minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert declaration_requests_expire() == 2

    for request in (waiting, approved):
        request.refresh_from_db()
        assert request.status == DeclarationRequest.Status.EXPIRED
        assert (request.data, request.printout_content, request.authentication_method_current) == ({}, "", {})
        version = request.history.latest("history_date")
        assert (version.status, version.history_change_reason, version.history_user) == (
            "EXPIRED",
            "expired",
            None,
        )
    assert not DeclarationRequestDocument.objects.exists()
    assert not scan.file.storage.exists(scan.file.name)
    # The approved request no longer holds the doctor's place.
    assert Employee.objects.get(pk=clinic.family_doctor.pk).accepts_new_patients is True
    assert DeclarationRequest.objects.get(pk=in_term.pk).status == DeclarationRequest.Status.NEW
    signed_now = DeclarationRequest.objects.get(pk=signed.pk)
    assert signed_now.status == DeclarationRequest.Status.SIGNED and signed_now.data
    # Idempotent: nothing more to do.
    assert declaration_requests_expire() == 0


def test_the_beat_task_runs_the_job(clinic):
    request = request_create(clinic)
    age(request, days=1)
    declaration_requests_expire_task.delay()
    request.refresh_from_db()
    assert request.status == DeclarationRequest.Status.EXPIRED
