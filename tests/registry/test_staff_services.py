"""The staff services and the employee-request rules: what is refused, where, and that refusals store nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry import permissions, selectors
from registry.models import Employee, EmployeeRequest, Party
from registry.payloads import employee_request_payload_validate, payload_canonical
from registry.services import (
    employee_dismiss,
    employee_request_accept,
    employee_request_approve,
    employee_request_create,
    employee_request_decline,
    employee_request_reject,
    employee_request_resend,
    employee_request_withdraw,
)
from tests import staff_data
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory

from .conftest import HEAD

PASSWORD = "Very-Strong-Password-42"

pytestmark = pytest.mark.usefixtures("reference_data")


@pytest.fixture
def clinic():
    return LegalEntityFactory()


@pytest.fixture
def division(clinic):
    return DivisionFactory(legal_entity=clinic)


@pytest.fixture
def head(clinic):
    party = PartyFactory(user=UserFactory(), tax_id=HEAD["drfo"])
    return EmployeeFactory(legal_entity=clinic, party=party, employee_type="OWNER")


def state() -> dict:
    return {
        "requests": EmployeeRequest.objects.count(),
        "employees": Employee.objects.count(),
        "parties": Party.objects.count(),
        "history": EmployeeRequest.history.count() + Employee.history.count(),
    }


def refusal(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    errors = error.value.update_error_dict({})
    return {path: [item.code for item in items] for path, items in errors.items()}


def invite(clinic, division, head, **overrides):
    return employee_request_create(
        legal_entity=clinic,
        actor=head.party.user,
        data=staff_data.employee_request(division_id=division.pk, **overrides),
    )


# --- The payload ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("specialities", "path", "code"),
    [
        ([{"speciality_officio": False}], "doctor.specialities", "officio_missing"),
        ([{}, {"speciality": "THERAPIST"}], "doctor.specialities", "officio_many"),
        ([{"speciality": "PHARMACIST"}], "doctor.specialities[0].speciality", "officio_not_primary_care"),
        ([{"level": "BASIC"}], "doctor.specialities[0].level", "officio_level"),
        ([{"speciality": "SURGEON"}], "doctor.specialities[0].speciality", "inclusion"),
    ],
)
def test_a_doctor_has_exactly_one_primary_care_main_speciality(specialities, path, code):
    base = staff_data.doctor()["specialities"][0]
    doctor = staff_data.doctor(specialities=[{**base, **change} for change in specialities])
    errors = refusal(
        employee_request_payload_validate, data=staff_data.employee_request(division_id=1, doctor=doctor)
    )
    assert code in errors.get(path, []), errors


def test_role_rules_of_the_request():
    assert refusal(employee_request_payload_validate, data=staff_data.employee_request("OWNER")) == {
        "employee_type": ["owner_forbidden"]
    }
    assert refusal(employee_request_payload_validate, data=staff_data.employee_request("SURGEON")) == {
        "employee_type": ["inclusion"]
    }
    doctor_block_for_hr = {**staff_data.employee_request("HR"), "doctor": staff_data.doctor()}
    assert refusal(employee_request_payload_validate, data=doctor_block_for_hr) == {"doctor": ["invalid"]}
    without_division = staff_data.employee_request("DOCTOR")
    assert "division_id" in refusal(employee_request_payload_validate, data=without_division)
    unknown = {**staff_data.employee_request("HR"), "salary": 1}
    assert refusal(employee_request_payload_validate, data=unknown) == {"salary": ["unknown_field"]}


# --- Creating ---------------------------------------------------------------------------------------


def test_an_invitation_is_stored_and_emailed_in_ehealth_shape(clinic, division, head, outbox, run_on_commit):
    request, token = run_on_commit(invite, clinic, division, head)
    assert request.status == "NEW" and request.data["legal_entity_id"] == str(clinic.pk)
    assert request.data["party"]["email"] == request.email
    assert request.history.get().history_user == head.party.user
    assert selectors.employee_request_by_token(token=token) == (request, None)
    [email] = outbox
    assert email.to == [request.email] and token in email.body and clinic.name in email.body


def test_facility_level_refusals_store_nothing(clinic, division, head):
    foreign = DivisionFactory()
    inactive = DivisionFactory(legal_entity=clinic, status="INACTIVE")
    taken = UserFactory(email="taken@clinic.example")
    PartyFactory(user=taken, tax_id=staff_data.rnokpp(serial=77), birth_date=datetime.date(1970, 1, 1))
    before = state()
    cases = [
        ({"division_id": foreign.pk}, "division_id", "division_not_found"),
        ({"division_id": inactive.pk}, "division_id", "division_not_active"),
        (
            {"division_id": division.pk, "party": {"email": "taken@clinic.example"}},
            "party.email",
            "email_other_person",
        ),
    ]
    for overrides, path, code in cases:
        data = staff_data.employee_request(**overrides)
        errors = refusal(employee_request_create, legal_entity=clinic, actor=head.party.user, data=data)
        assert errors == {path: [code]}
    clinic.status = "CLOSED"
    clinic.save()
    errors = refusal(
        employee_request_create,
        legal_entity=clinic,
        actor=head.party.user,
        data=staff_data.employee_request(division_id=division.pk),
    )
    assert errors == {"legal_entity_id": ["legal_entity_not_active"]}
    assert state() == before


def test_one_email_one_person_and_no_second_invitation_in_a_role(clinic, division, head):
    request, _token = invite(clinic, division, head)
    same_email_other_person = staff_data.employee_request(
        division_id=division.pk, party={"email": request.email}
    )
    assert refusal(
        employee_request_create, legal_entity=clinic, actor=head.party.user, data=same_email_other_person
    ) == {"party.email": ["email_other_person"]}
    again = staff_data.employee_request(division_id=division.pk, party=request.data["party"])
    assert refusal(employee_request_create, legal_entity=clinic, actor=head.party.user, data=again) == {
        "party.tax_id": ["employee_request_exists"]
    }


def test_a_signed_request_must_be_the_actors_signature_over_the_shown_document(clinic, head, pki):
    data = employee_request_payload_validate(
        {**staff_data.employee_request("HR"), "legal_entity_id": str(clinic.pk)}
    )
    document = payload_canonical(data)
    own = pki.person()
    stranger = pki.person(drfo="2904501273", surname="Шевчук", given_names="Андрій Іванович")
    before = state()
    for envelope, code in [
        (pki.sign(stranger, document), "signer_not_expected"),
        (pki.sign(own, document.replace(b"HR", b"ADMIN")), "signed_content_differs"),
    ]:
        errors = refusal(
            employee_request_create,
            legal_entity=clinic,
            actor=head.party.user,
            data=data,
            signed_envelope=envelope,
        )
        assert errors == {"signed_content": [code]}
    assert state() == before
    request, _token = employee_request_create(
        legal_entity=clinic, actor=head.party.user, data=data, signed_envelope=pki.sign(own, document)
    )
    assert request.signer["drfo"] == HEAD["drfo"] and bytes(request.signed_content) == document


# --- Answering --------------------------------------------------------------------------------------


def test_accepting_makes_the_doctor_with_the_main_speciality_and_rights(clinic, division, head):
    request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    doctor = Employee.objects.get(employee_type="DOCTOR")
    assert (doctor.party.user, doctor.division, doctor.speciality["speciality"]) == (
        user,
        division,
        "FAMILY_DOCTOR",
    )
    assert doctor.additional_info["educations"][0]["degree"] == "MASTER"
    assert permissions.can(user, clinic, "declaration_request:sign")
    assert refusal(employee_request_accept, token=token, password=PASSWORD) == {
        "__all__": ["invitation_used"]
    }


def test_a_resent_invitation_supersedes_the_old_link(clinic, division, head, outbox, run_on_commit):
    request, old = run_on_commit(invite, clinic, division, head)
    new = run_on_commit(employee_request_resend, employee_request=request, actor=head.party.user)
    assert selectors.employee_request_by_token(token=old)[1] == "superseded"
    assert refusal(employee_request_accept, token=old, password=PASSWORD) == {
        "__all__": ["invitation_superseded"]
    }
    assert len(outbox) == 2 and new in outbox[1].body and old not in outbox[1].body
    employee_request_accept(token=new, password=PASSWORD)


def test_expired_declined_withdrawn_invitations_cannot_be_accepted(clinic, division, head):
    request, token = invite(clinic, division, head)
    EmployeeRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert refusal(employee_request_accept, token=token, password=PASSWORD) == {
        "__all__": ["invitation_expired"]
    }
    assert EmployeeRequest.objects.get(pk=request.pk).status == "EXPIRED"

    second, token = invite(clinic, division, head)
    employee_request_decline(token=token)
    assert refusal(employee_request_accept, token=token, password=PASSWORD) == {
        "__all__": ["invitation_used"]
    }
    third, token = invite(clinic, division, head)
    employee_request_withdraw(employee_request=third, actor=head.party.user)
    assert refusal(employee_request_accept, token=token, password=PASSWORD) == {
        "__all__": ["invitation_used"]
    }
    assert Employee.objects.filter(employee_type="DOCTOR").count() == 0


def test_only_the_invited_account_approves_or_rejects(clinic, division, head):
    request, _token = invite(clinic, division, head)
    with pytest.raises(PermissionDenied):
        employee_request_approve(employee_request=request, user=head.party.user)
    invitee = UserFactory(email=request.email)
    employee_request_reject(employee_request=request, user=invitee)
    assert EmployeeRequest.objects.get(pk=request.pk).status == "REJECTED"
    other, _token = invite(clinic, division, head)
    invitee = UserFactory(email=other.email)
    employee_request_approve(employee_request=other, user=invitee)
    assert Employee.objects.get(party__user=invitee).employee_type == "DOCTOR"


def test_one_person_works_at_two_facilities(clinic, division, head):
    request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    other = LegalEntityFactory()
    other_head = EmployeeFactory(legal_entity=other, party=PartyFactory(user=UserFactory()))
    employee_request_create(
        legal_entity=other,
        actor=other_head.party.user,
        data=staff_data.employee_request(
            division_id=DivisionFactory(legal_entity=other).pk, party=request.data["party"]
        ),
    )
    second = EmployeeRequest.objects.get(legal_entity=other, employee_type="DOCTOR")
    employee_request_approve(employee_request=second, user=user)
    assert set(permissions.facilities_of(user)) == {clinic, other}
    assert Party.objects.filter(user=user).count() == 1


def test_a_change_request_updates_the_same_job(clinic, division, head):
    request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    doctor = Employee.objects.get(party__user=user)
    change = staff_data.employee_request(
        division_id=division.pk,
        party=request.data["party"],
        employee_id=str(doctor.pk),
        start_date=doctor.start_date.isoformat(),
        position="P3",
    )
    update, _token = employee_request_create(legal_entity=clinic, actor=head.party.user, data=change)
    employee_request_approve(employee_request=update, user=user)
    doctor.refresh_from_db()
    assert doctor.position == "P3" and Employee.objects.filter(party__user=user).count() == 1
    assert doctor.history.count() == 2  # the previous version is kept
    mismatch = {**change, "employee_type": "ADMIN"}
    mismatch.pop("doctor")
    assert "employee_type" in refusal(
        employee_request_create, legal_entity=clinic, actor=head.party.user, data=mismatch
    )


def test_dismissal_ends_rights_at_once_and_the_head_is_not_dismissed_this_way(clinic, division, head):
    _request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    doctor = Employee.objects.get(party__user=user)
    employee_dismiss(employee=doctor, actor=head.party.user, reason="За власним бажанням")
    doctor.refresh_from_db()
    assert (doctor.status, doctor.is_active, doctor.end_date) == ("DISMISSED", False, timezone.localdate())
    assert doctor.history.latest().history_user == head.party.user
    assert not permissions.can(user, clinic, "legal_entity:read")
    assert refusal(employee_dismiss, employee=doctor, actor=head.party.user) == {
        "status": ["employee_not_active"]
    }
    assert refusal(employee_dismiss, employee=head, actor=head.party.user) == {
        "employee_type": ["owner_deactivate"]
    }
    assert Employee.objects.get(pk=head.pk).is_active


def test_closing_a_facility_and_expiry_are_recorded_for_every_row(clinic, division, head):
    from registry.services import employee_request_expire, legal_entity_deactivate

    _request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    stale, _token = invite(clinic, division, head, party={"email": "late@clinic.example"})
    EmployeeRequest.objects.filter(pk=stale.pk).update(expires_at=timezone.now())
    assert employee_request_expire() == 1
    assert stale.history.latest().history_change_reason == "expired"
    waiting, _token = invite(clinic, division, head, party={"email": "waiting@clinic.example"})
    operator = UserFactory(is_staff=True)
    legal_entity_deactivate(legal_entity=clinic, actor=operator)
    doctor = Employee.objects.get(party__user=user)
    assert doctor.status == "DISMISSED" and doctor.history.latest().history_user == operator
    assert waiting.history.latest().status == "REJECTED"
    assert waiting.history.latest().history_user == operator


def test_one_waiting_change_per_employee(clinic, division, head):
    request, token = invite(clinic, division, head)
    user = employee_request_accept(token=token, password=PASSWORD)
    doctor = Employee.objects.get(party__user=user)
    change = staff_data.employee_request(
        division_id=division.pk,
        party=request.data["party"],
        employee_id=str(doctor.pk),
        start_date=doctor.start_date.isoformat(),
    )
    employee_request_create(legal_entity=clinic, actor=head.party.user, data=change)
    assert refusal(employee_request_create, legal_entity=clinic, actor=head.party.user, data=change) == {
        "employee_id": ["employee_request_exists"]
    }
