"""Declarations after signing: termination on the doctor's or the patient's request, by a dismissal and
by a facility's closure (through the registry's own services), the operator's verification; refused
transitions change nothing, and the doctor's "accepts new patients" follows their list."""

import pytest
from django.core.exceptions import ValidationError

from declarations.models import Declaration, DeclarationRequest
from declarations.services.declarations import (
    declaration_terminate,
    declaration_verify,
    declarations_terminate_for_employees,
)
from registry.models import Employee, GlobalParameter
from registry.services import employee_dismiss, legal_entity_deactivate

from .conftest import doctor_make
from .lifecycle_data import declaration_make, declaration_state, request_make

ACTIVE = Declaration.Status.ACTIVE
PENDING = Declaration.Status.PENDING_VERIFICATION
TERMINATED = Declaration.Status.TERMINATED


def error_codes(error: ValidationError) -> dict[str, list[str]]:
    return {path: [item.code for item in errors] for path, errors in error.error_dict.items()}


def limit_set(speciality: str, value: int) -> None:
    GlobalParameter.objects.filter(name=f"declaration_limit_{speciality}").update(value=str(value))


# --- On request -------------------------------------------------------------------------------------


def test_a_doctor_terminates_an_active_declaration_with_the_reason_and_is_recorded(clinic):
    declaration = declaration_make(clinic)
    doctor = clinic.family_doctor.party.user

    declaration_terminate(
        declaration=declaration,
        actor=doctor,
        reason="manual_employee",
        reason_description="  Пацієнт переїхав до Львова  ",
    )

    declaration.refresh_from_db()
    assert declaration.status == TERMINATED
    assert declaration.reason == "manual_employee"
    assert declaration.reason_description == "Пацієнт переїхав до Львова"
    assert declaration.updated_by == doctor
    version = declaration.history.latest()
    assert version.status == TERMINATED and version.history_user == doctor


def test_a_patient_ends_a_declaration_still_waiting_for_verification(clinic):
    declaration = declaration_make(clinic, status=PENDING)
    declaration_terminate(
        declaration=declaration,
        actor=clinic.receptionist,
        reason="manual_person",
        reason_description="Пацієнт обрав іншого лікаря",
    )
    declaration.refresh_from_db()
    assert (declaration.status, declaration.reason) == (TERMINATED, "manual_person")


@pytest.mark.parametrize("reason", ["", "auto_employee_dismissed", "because"])
def test_a_termination_needs_a_reason_a_person_may_give(clinic, reason):
    declaration = declaration_make(clinic)
    before = declaration_state(declaration)
    with pytest.raises(ValidationError) as refused:
        declaration_terminate(declaration=declaration, actor=clinic.receptionist, reason=reason)
    assert error_codes(refused.value) == {"reason": ["invalid_reason"]}
    assert declaration_state(declaration) == before


def test_a_reason_in_words_over_the_limit_is_refused(clinic):
    declaration = declaration_make(clinic)
    before = declaration_state(declaration)
    with pytest.raises(ValidationError) as refused:
        declaration_terminate(
            declaration=declaration,
            actor=clinic.receptionist,
            reason="manual_person",
            reason_description="я" * 501,
        )
    assert error_codes(refused.value) == {"reason_description": ["too_long"]}
    assert declaration_state(declaration) == before


@pytest.mark.parametrize("status", [TERMINATED, Declaration.Status.CLOSED, Declaration.Status.REJECTED])
def test_only_a_current_declaration_can_be_terminated(clinic, status):
    declaration = declaration_make(clinic, status=status, reason="offline")
    before = declaration_state(declaration)
    with pytest.raises(ValidationError) as refused:
        declaration_terminate(declaration=declaration, actor=clinic.receptionist, reason="manual_person")
    assert error_codes(refused.value) == {"status": ["invalid_transition"]}
    assert declaration_state(declaration) == before


def test_ending_a_declaration_frees_a_place_in_a_full_list(clinic):
    limit_set("family_doctor", 2)
    first = declaration_make(clinic)
    declaration_make(clinic)
    doctor = clinic.family_doctor
    # Signing keeps the flag; here the declarations were made directly, so the list is refreshed once.
    declaration_terminate(declaration=declaration_make(clinic), actor=None, reason="manual_person")
    doctor.refresh_from_db()
    assert doctor.accepts_new_patients is False  # 2 of 2

    declaration_terminate(declaration=first, actor=None, reason="manual_employee")
    doctor.refresh_from_db()
    assert doctor.accepts_new_patients is True  # 1 of 2


# --- A dismissal, a closure -------------------------------------------------------------------------


def test_dismissing_a_doctor_ends_their_declarations_and_cancels_their_waiting_requests(clinic):
    doctor = clinic.family_doctor
    active, pending = declaration_make(clinic), declaration_make(clinic, status=PENDING)
    ended = declaration_make(clinic, status=TERMINATED, reason="manual_person")
    colleagues = declaration_make(clinic, employee=clinic.therapist)
    new = request_make(clinic, status=DeclarationRequest.Status.NEW)
    approved = request_make(clinic, status=DeclarationRequest.Status.APPROVED)
    others_request = request_make(clinic, status=DeclarationRequest.Status.NEW, employee=clinic.therapist)

    employee_dismiss(employee=doctor, actor=clinic.head, reason="Звільнення за власним бажанням")

    for declaration in (active, pending):
        declaration.refresh_from_db()
        assert (declaration.status, declaration.reason) == (TERMINATED, "auto_employee_dismissed")
        assert declaration.updated_by == clinic.head
        version = declaration.history.latest()
        assert version.status == TERMINATED and version.reason == "auto_employee_dismissed"
        assert version.history_user == clinic.head
        assert version.history_change_reason == "employee dismissed"
    ended.refresh_from_db()
    assert ended.reason == "manual_person"  # ended before: left as it was
    colleagues.refresh_from_db()
    assert colleagues.status == ACTIVE
    for request in (new, approved):
        request.refresh_from_db()
        assert request.status == DeclarationRequest.Status.CANCELLED
        assert request.history.latest().history_user == clinic.head
    others_request.refresh_from_db()
    assert others_request.status == DeclarationRequest.Status.NEW
    # The signed request of the ended declaration stays signed.
    assert DeclarationRequest.objects.get(pk=active.declaration_request_id).status == "SIGNED"


def test_closing_a_facility_ends_every_declaration_of_its_doctors_and_no_other(clinic, other_clinic):
    ours = [
        declaration_make(clinic),
        declaration_make(clinic, employee=clinic.therapist, status=PENDING),
        declaration_make(clinic, employee=clinic.paediatrician),
    ]
    theirs = declaration_make(other_clinic)

    legal_entity_deactivate(legal_entity=clinic.legal_entity, actor=None)

    for declaration in ours:
        declaration.refresh_from_db()
        assert (declaration.status, declaration.reason) == (TERMINATED, "auto_legal_entity_closed")
        assert declaration.history.latest().history_change_reason == "facility closed"
    theirs.refresh_from_db()
    assert theirs.status == ACTIVE


def test_the_bulk_termination_makes_the_same_queries_for_one_or_many(clinic, django_assert_max_num_queries):
    doctor = clinic.family_doctor
    declaration_make(clinic)
    with django_assert_max_num_queries(20) as one:
        declarations_terminate_for_employees(
            employee_ids=[doctor.pk], actor=None, reason="auto_employee_dismissed"
        )
    for _ in range(15):
        declaration_make(clinic)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert (
            declarations_terminate_for_employees(
                employee_ids=[doctor.pk], actor=None, reason="auto_employee_dismissed"
            )
            == 15
        )


def test_a_dismissed_doctors_other_job_keeps_accepting_patients(clinic, other_clinic):
    """The limit counts the person's working jobs: after a dismissal, the freed list shows elsewhere."""
    limit_set("family_doctor", 1)
    second_job = doctor_make(
        other_clinic.legal_entity, other_clinic.division, party=clinic.family_doctor.party
    )
    declaration_make(clinic)
    declaration_terminate(declaration=declaration_make(clinic), actor=None, reason="manual_person")
    second_job.refresh_from_db()
    assert second_job.accepts_new_patients is False  # 1 of 1, counted over both jobs

    employee_dismiss(employee=clinic.family_doctor, actor=clinic.head)
    second_job.refresh_from_db()
    assert second_job.accepts_new_patients is True
    assert Employee.objects.get(pk=clinic.family_doctor.pk).status == Employee.Status.DISMISSED


# --- The operator's verification --------------------------------------------------------------------


@pytest.mark.parametrize(("approve", "status"), [(True, ACTIVE), (False, Declaration.Status.REJECTED)])
def test_an_operator_verifies_or_rejects_a_waiting_declaration(clinic, admin_user, approve, status):
    declaration = declaration_make(clinic, status=PENDING, reason="offline")
    declaration_verify(declaration=declaration, actor=admin_user, approve=approve)
    declaration.refresh_from_db()
    assert declaration.status == status and declaration.updated_by == admin_user
    assert declaration.history.latest().history_user == admin_user


@pytest.mark.parametrize("status", [ACTIVE, TERMINATED, Declaration.Status.REJECTED])
@pytest.mark.parametrize("approve", [True, False])
def test_only_a_waiting_declaration_is_verified(clinic, admin_user, status, approve):
    declaration = declaration_make(clinic, status=status)
    before = declaration_state(declaration)
    with pytest.raises(ValidationError) as refused:
        declaration_verify(declaration=declaration, actor=admin_user, approve=approve)
    assert error_codes(refused.value) == {"status": ["invalid_transition"]}
    assert declaration_state(declaration) == before
