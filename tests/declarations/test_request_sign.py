"""The doctor signs (ehealth-api.md §4.6): exactly what the portal served, with their own key; the patient's
earlier declaration ends; replayed signatures, second signings and wrong signers are refused, changing nothing."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from declarations.models import Declaration, DeclarationRequest, Person
from declarations.services import (
    AUTO_NEW_DECLARATION,
    FORBIDDEN_CODES,
    declaration_request_approve,
    declaration_request_document_upload,
    declaration_request_sign,
    declaration_request_signable,
    declaration_request_signable_bytes,
)
from registry.models import Employee
from registry.payloads import payload_canonical
from registry.services import global_parameter_set
from tests.declaration_data import adult, offline, person
from tests.declarations.conftest import (
    declaration_signed,
    doctor_credential,
    request_approve,
    request_create,
    request_sign,
)


def codes(caught) -> dict[str, list[str]]:
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def state() -> tuple:
    """Everything a refused signing must leave as it was."""
    return (
        list(DeclarationRequest.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        DeclarationRequest.history.count(),
        list(Declaration.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        Declaration.history.count(),
        Person.objects.count(),
        Person.history.count(),
        list(Employee.objects.order_by("pk").values_list("pk", "accepts_new_patients")),
    )


def refused_sign(request, envelope: bytes, actor) -> dict[str, list[str]]:
    before = state()
    with pytest.raises(ValidationError) as caught:
        declaration_request_sign(declaration_request=request, actor=actor, signed_envelope=envelope)
    assert state() == before
    return codes(caught)


@pytest.fixture
def approved(clinic):
    return request_approve(request_create(clinic))


def test_the_doctor_signs_and_the_declaration_is_active(clinic, pki, approved):
    declaration = request_sign(approved, pki)
    approved.refresh_from_db()
    assert declaration.status == Declaration.Status.ACTIVE
    assert (declaration.pk, declaration.declaration_number) == (
        approved.declaration_id,
        approved.declaration_number,
    )
    assert (declaration.employee, declaration.division, declaration.legal_entity) == (
        clinic.family_doctor,
        clinic.division,
        clinic.legal_entity,
    )
    assert (declaration.start_date, declaration.end_date) == (approved.start_date, approved.end_date)
    assert approved.status == DeclarationRequest.Status.SIGNED
    # The evidence: the envelope, the signed document (what the portal served) and the signer.
    signed = json.loads(bytes(approved.signed_content))
    assert signed == declaration_request_signable(approved) | {"status": "APPROVED"}
    assert signed["person"]["patient_signed"] is True
    assert signed["seed"] == approved.seed
    assert approved.signer["drfo"] == clinic.family_doctor.party.tax_id
    assert bytes(approved.signed_envelope)
    # The patient is registered from the request.
    patient = Person.objects.get()
    assert (declaration.person, approved.person) == (patient, patient)
    assert (patient.tax_id, patient.authentication_method) == (person()["tax_id"], "OTP")
    version = declaration.history.get()
    assert version.history_user == clinic.family_doctor.party.user


def test_a_detached_signature_is_accepted(approved, pki):
    assert request_sign(approved, pki, detached=True).status == Declaration.Status.ACTIVE


def test_the_served_json_in_another_formatting_is_accepted(approved, pki):
    # A MIS parses $.data of GET by id and signs it as its own JSON library writes it.
    content = json.dumps(declaration_request_signable(approved), indent=2, ensure_ascii=True).encode()
    envelope = pki.sign(doctor_credential(pki, approved.employee), content)
    declaration = declaration_request_sign(
        declaration_request=approved, actor=approved.employee.party.user, signed_envelope=envelope
    )
    assert declaration.status == Declaration.Status.ACTIVE


@pytest.mark.parametrize(
    "content",
    [
        # patient_signed as 1 (equal to True in Python, not in JSON)
        lambda data: json.dumps({**data, "person": {**data["person"], "patient_signed": 1}}),
        # a member named twice: the first value differs from what was served
        lambda data: '{"scope": "other", ' + json.dumps(data)[1:],
        lambda data: json.dumps(data)[:-1],  # not JSON
    ],
    ids=["number-for-boolean", "member-twice", "truncated"],
)
def test_json_that_only_looks_like_the_served_document_is_refused(approved, pki, content):
    signed = content(declaration_request_signable(approved)).encode()
    envelope = pki.sign(doctor_credential(pki, approved.employee), signed)
    assert refused_sign(approved, envelope, approved.employee.party.user) == {
        "signed_declaration_request": ["signed_content_differs"]
    }


def test_signing_ends_the_patients_declaration_with_another_doctor_elsewhere(clinic, other_clinic, pki):
    global_parameter_set(name="declaration_limit_family_doctor", value="1")
    earlier = declaration_signed(other_clinic, pki)
    other_doctor = Employee.objects.get(pk=other_clinic.family_doctor.pk)
    assert other_doctor.accepts_new_patients is False  # its one place is taken
    someone_elses = declaration_signed(other_clinic, pki, adult(5), doctor=other_clinic.therapist)

    new = declaration_signed(clinic, pki)

    earlier.refresh_from_db()
    assert new.person == earlier.person  # the same registered patient, updated
    assert Person.objects.filter(tax_id=person()["tax_id"]).count() == 1
    assert (earlier.status, earlier.reason) == (Declaration.Status.TERMINATED, AUTO_NEW_DECLARATION)
    version = earlier.history.latest("history_date")
    assert (version.status, version.history_user) == ("terminated", clinic.family_doctor.party.user)
    assert Declaration.objects.get(pk=someone_elses.pk).status == Declaration.Status.ACTIVE
    # The other doctor has a free place again.
    assert Employee.objects.get(pk=other_doctor.pk).accepts_new_patients is True


def test_an_offline_patients_declaration_waits_for_verification(clinic, pki):
    request = request_create(clinic, offline(person()))
    for type_ in request.documents:
        declaration_request_document_upload(
            declaration_request=request,
            actor=clinic.receptionist,
            type=type_,
            file=SimpleUploadedFile("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        )
    approved = declaration_request_approve(declaration_request=request, actor=clinic.receptionist)
    declaration = request_sign(approved, pki)
    assert (declaration.status, declaration.reason) == (Declaration.Status.PENDING_VERIFICATION, "offline")


def test_a_second_signing_is_refused(approved, pki):
    envelope = pki.sign(
        doctor_credential(pki, approved.employee), declaration_request_signable_bytes(approved)
    )
    doctor = approved.employee.party.user
    stale = DeclarationRequest.objects.get(pk=approved.pk)  # read before the first signing
    declaration_request_sign(declaration_request=approved, actor=doctor, signed_envelope=envelope)
    approved.refresh_from_db()
    assert refused_sign(approved, envelope, doctor) == {"status": ["invalid_status"]}
    # A page opened before the first signing: refused under the lock as well.
    assert refused_sign(stale, envelope, doctor) == {"status": ["invalid_status"]}
    assert Declaration.objects.count() == 1


def test_a_signature_of_another_request_is_refused(clinic, pki, approved):
    other = request_approve(request_create(clinic, adult(8)))
    envelope = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(other)
    )
    doctor = clinic.family_doctor.party.user
    assert refused_sign(approved, envelope, doctor) == {
        "signed_declaration_request": ["signed_content_differs"]
    }
    detached = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(other), detached=True
    )
    assert list(refused_sign(approved, detached, doctor)) == ["signed_declaration_request"]
    # The signature still signs its own request.
    assert declaration_request_sign(declaration_request=other, actor=doctor, signed_envelope=envelope)


def test_a_changed_document_is_refused(clinic, pki, approved):
    signable = declaration_request_signable(approved)
    signable["end_date"] = "2099-12-31"
    envelope = pki.sign(doctor_credential(pki, clinic.family_doctor), payload_canonical(signable))
    assert refused_sign(approved, envelope, clinic.family_doctor.party.user) == {
        "signed_declaration_request": ["signed_content_differs"]
    }
    assert refused_sign(approved, b"not a signature", clinic.family_doctor.party.user).keys() == {
        "signed_declaration_request"
    }


def test_only_the_requests_doctor_signs_with_their_own_key(clinic, other_clinic, pki, approved):
    content = declaration_request_signable_bytes(approved)
    own = pki.sign(doctor_credential(pki, clinic.family_doctor), content)
    for actor in [
        clinic.receptionist,
        clinic.head,
        clinic.therapist.party.user,
        other_clinic.family_doctor.party.user,
    ]:
        assert refused_sign(approved, own, actor) == {"__all__": ["signer_not_doctor"]}
    assert "signer_not_doctor" in FORBIDDEN_CODES
    # The doctor, but with a colleague's key.
    colleague = pki.sign(doctor_credential(pki, clinic.therapist), content)
    assert refused_sign(approved, colleague, clinic.family_doctor.party.user) == {
        "signed_declaration_request": ["signer_not_expected"]
    }
    # A dismissed doctor signs no more.
    Employee.objects.filter(pk=clinic.family_doctor.pk).update(
        status=Employee.Status.DISMISSED, is_active=False
    )
    assert refused_sign(approved, own, clinic.family_doctor.party.user) == {"__all__": ["signer_not_doctor"]}


def test_a_request_the_patient_has_not_confirmed_is_not_signed(clinic, pki):
    request = request_create(clinic)
    envelope = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(request)
    )
    assert refused_sign(request, envelope, clinic.family_doctor.party.user) == {"status": ["invalid_status"]}
