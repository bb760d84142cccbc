"""Creating a declaration request (ehealth-api.md §4.3): the checks in eHealth's order, the age rules on
their boundaries, the dates, the number, superseding, the confirmation method and the printed form."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from declarations.models import DeclarationRequest, SmsMessage, Verification
from declarations.services import declaration_request_create, declaration_request_create_for_person
from registry.models import Division, Employee
from registry.services import global_parameter_set
from tests.declaration_data import (
    CONFIDANT_PHONE,
    PATIENT_PHONE,
    adult,
    child,
    declaration_request,
    offline,
    person,
    years_ago,
)
from tests.declarations.conftest import doctor_make, patient_register, phone_verified, request_create


def codes(caught) -> dict[str, list[str]]:
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def state() -> tuple:
    """What a refused creation must leave as it was."""
    return (
        DeclarationRequest.objects.count(),
        DeclarationRequest.history.count(),
        Verification.objects.count(),
        SmsMessage.objects.count(),
    )


def refused(clinic, data=None, *, doctor=None, division=None, phone=True) -> dict[str, list[str]]:
    """The refusal of creating a request, checked to have stored nothing."""
    data = data or person()
    if phone:
        for method in data["authentication_methods"]:
            if method.get("phone_number"):
                phone_verified(method["phone_number"])
    before = state()
    with pytest.raises(ValidationError) as caught:
        declaration_request_create(
            legal_entity=clinic.legal_entity,
            actor=clinic.receptionist,
            data=declaration_request(
                person=data,
                employee_id=(doctor or clinic.family_doctor).pk,
                division_id=(division or clinic.division).pk,
            ),
        )
    assert state() == before
    return codes(caught)


# --- What a new request holds -------------------------------------------------------------------------


def test_a_request_for_a_new_patient(clinic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(clinic)
    today = timezone.localdate()
    assert request.status == DeclarationRequest.Status.NEW
    assert (request.start_date, request.end_date) == (today, today + datetime.timedelta(days=365))
    assert re.fullmatch(r"0001-[0-9AEHKMPTX]{4}-[0-9AEHKMPTX]{4}", request.declaration_number)
    assert len(request.seed) == 64
    assert request.person is None and request.person_key == f"tax_id:{person()['tax_id']}"
    # eHealth: a patient not registered yet whose method is SMS confirms with nothing more (NA): the
    # phone was verified before the request.
    assert request.authentication_method_current == {"type": "NA"}
    assert request.documents == []
    assert not Verification.objects.exists()
    data = request.data
    assert data["employee"]["party"]["tax_id"] == clinic.family_doctor.party.tax_id
    assert data["employee"]["speciality"]["speciality"] == "FAMILY_DOCTOR"
    assert data["division"]["id"] == str(clinic.division.pk)
    assert data["legal_entity"]["edrpou"] == clinic.legal_entity.edrpou
    assert data["declaration_id"] == str(request.declaration_id)
    assert data["person"]["patient_signed"] is False
    # The printed form names the patient, the doctor, the facility, the number and the term.
    for text in [
        "Іваненко Петро Миколайович",
        "Шевченко Тарас",
        clinic.legal_entity.name,
        clinic.division.name,
        request.declaration_number,
        today.strftime("%d.%m.%Y"),
    ]:
        assert text in request.printout_content
    assert "Квітка2024" not in request.printout_content  # the secret word is not printed
    assert request.history.count() == 1


def test_a_registered_patient_confirming_by_sms_gets_a_code(
    clinic, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = declaration_request_create_for_person(
            legal_entity=clinic.legal_entity,
            actor=clinic.receptionist,
            person=patient,
            employee=clinic.family_doctor,
            division=clinic.division,
        )
    assert request.person == patient
    assert request.authentication_method_current == {"type": "OTP", "number": PATIENT_PHONE}
    verification = Verification.objects.get()
    assert (verification.declaration_request, verification.phone_number) == (request, PATIENT_PHONE)
    assert re.search(r"\d{4}", SmsMessage.objects.get(phone_number=PATIENT_PHONE).body)
    assert request_create(clinic).person == patient  # the API's path finds them by the RNOKPP too


def test_the_registered_patients_method_is_used_not_the_requests(clinic):
    """§4.3 step 6: a registered OTP patient confirms on their stored phone."""
    stored = person(authentication_methods=[{"type": "OTP", "phone_number": "+380931234567"}])
    phone_verified("+380931234567")
    patient_register(stored)
    request = request_create(clinic, person())
    assert request.authentication_method_current == {"type": "OTP", "number": "+380931234567"}


def test_an_offline_patient_brings_scans_of_every_document(clinic):
    request = request_create(clinic, offline(person()))
    assert request.authentication_method_current == {"type": "OFFLINE"}
    assert request.documents == ["person.DECLARATION_FORM", "person.SSN", "person.PASSPORT"]
    kid = request_create(clinic, offline(child()), doctor=clinic.paediatrician)
    # The child's birth certificate is listed once, not again as the confidant's relationship document.
    assert kid.documents == [
        "person.DECLARATION_FORM",
        "person.BIRTH_CERTIFICATE",
    ]
    documented = offline(
        child(
            confidant_person=[
                child()["confidant_person"][0]
                | {"documents_relationship": [{"type": "COURT_DECISION", "number": "2-123/2020"}]}
            ]
        )
    )
    assert request_create(clinic, documented, doctor=clinic.paediatrician).documents == [
        "person.DECLARATION_FORM",
        "person.BIRTH_CERTIFICATE",
        "confidant_person.0.PRIMARY.RELATIONSHIP.COURT_DECISION",
    ]


def test_a_childs_form_names_the_legal_representative(clinic):
    request = request_create(clinic, child(), doctor=clinic.paediatrician)
    assert "Іваненко Марійка Петрівна" in request.printout_content
    assert "Іваненко Ірина Олегівна" in request.printout_content  # the PRIMARY confidant person
    assert "І-КВ 654321" in request.printout_content  # the document of the representation
    assert request.person is None  # not registered yet


def test_numbers_are_unique(clinic):
    numbers = {request_create(clinic, adult(serial)).declaration_number for serial in range(1, 21)}
    assert len(numbers) == 20


# --- The age rule on the start date, and the end date ----------------------------------------------------


@pytest.mark.parametrize(
    ("speciality", "birth_date", "allowed"),
    [
        # The day before the 18th birthday: a child.
        ("PEDIATRICIAN", years_ago(18, days=1), True),
        ("THERAPIST", years_ago(18, days=1), False),
        ("FAMILY_DOCTOR", years_ago(18, days=1), True),
        # On the 18th birthday: an adult.
        ("PEDIATRICIAN", years_ago(18), False),
        ("THERAPIST", years_ago(18), True),
        ("FAMILY_DOCTOR", years_ago(18), True),
        # A newborn and an old man.
        ("PEDIATRICIAN", timezone.localdate(), True),
        ("THERAPIST", years_ago(90), True),
        ("PEDIATRICIAN", years_ago(90), False),
    ],
)
def test_the_doctors_speciality_fits_the_patients_age(clinic, speciality, birth_date, allowed):
    doctor = {"PEDIATRICIAN": clinic.paediatrician, "THERAPIST": clinic.therapist}.get(
        speciality, clinic.family_doctor
    )
    under_age = birth_date > years_ago(18)
    data = child(birth_date=birth_date) if under_age else person(birth_date=birth_date)
    if allowed:
        assert request_create(clinic, data, doctor=doctor).status == DeclarationRequest.Status.NEW
    else:
        assert refused(clinic, data, doctor=doctor) == {"person.birth_date": ["invalid_age"]}


def test_the_adult_age_is_a_global_parameter(clinic):
    global_parameter_set(name="adult_age", value="16")
    sixteen = person(birth_date=years_ago(16))
    assert refused(clinic, sixteen, doctor=clinic.paediatrician) == {"person.birth_date": ["invalid_age"]}
    assert request_create(clinic, sixteen, doctor=clinic.therapist).status == DeclarationRequest.Status.NEW


def test_a_childs_declaration_with_a_paediatrician_ends_the_day_before_the_18th_birthday(clinic):
    almost_adult = years_ago(18, days=40)  # 18 in 40 days
    request = request_create(clinic, child(birth_date=almost_adult), doctor=clinic.paediatrician)
    assert request.end_date == almost_adult.replace(year=almost_adult.year + 18) - datetime.timedelta(days=1)
    last_day = request_create(
        clinic, child(birth_date=years_ago(18, days=1), first_name="Оксана"), doctor=clinic.paediatrician
    )
    assert last_day.end_date == last_day.start_date  # 18 tomorrow: the declaration ends today
    # A family doctor's declaration runs the full term, and so does a young child's.
    with_family_doctor = request_create(clinic, child(birth_date=almost_adult, first_name="Олена"))
    assert with_family_doctor.end_date == with_family_doctor.start_date + datetime.timedelta(days=365)
    young = request_create(clinic, child(age=3, first_name="Ганна"), doctor=clinic.paediatrician)
    assert young.end_date == young.start_date + datetime.timedelta(days=365)


def test_the_term_is_a_global_parameter(clinic):
    global_parameter_set(name="declaration_term", value="2")
    global_parameter_set(name="declaration_term_unit", value="YEARS")
    request = request_create(clinic)
    assert request.end_date == request.start_date.replace(year=request.start_date.year + 2)


# --- The doctor, the division, the phone -----------------------------------------------------------------


def test_the_doctor_must_work_here_now_as_a_primary_care_doctor(clinic, other_clinic):
    assert refused(clinic, doctor=other_clinic.family_doctor) == {"employee_id": ["employee_legal_entity"]}
    Employee.objects.filter(pk=clinic.therapist.pk).update(status=Employee.Status.DISMISSED, is_active=False)
    assert refused(clinic, doctor=clinic.therapist) == {"employee_id": ["invalid_employee_status"]}
    receptionist = Employee.objects.get(party__user=clinic.receptionist)
    assert refused(clinic, doctor=receptionist) == {"employee_id": ["not_doctor"]}
    pharmacist = doctor_make(
        clinic.legal_entity, clinic.division, speciality_code="PHARMACIST", last_name="Мороз"
    )
    assert refused(clinic, doctor=pharmacist) == {"employee_id": ["speciality"]}
    missing = Employee(pk="00000000-0000-4000-8000-000000000000")
    assert refused(clinic, doctor=missing) == {"employee_id": ["not_found"]}


def test_the_division_must_be_this_facilitys_and_active(clinic, other_clinic):
    assert refused(clinic, division=other_clinic.division) == {"division_id": ["division_legal_entity"]}
    Division.objects.filter(pk=clinic.division.pk).update(status=Division.Status.INACTIVE)
    assert refused(clinic) == {"division_id": ["division_inactive"]}
    missing = Division(pk="00000000-0000-4000-8000-000000000000")
    assert refused(clinic, division=missing) == {"division_id": ["not_found"]}


def test_an_sms_phone_must_be_verified_first(clinic):
    assert refused(clinic, phone=False) == {
        "person.authentication_methods[0].phone_number": ["phone_not_verified"]
    }
    assert refused(clinic, child(), doctor=clinic.paediatrician, phone=False) == {
        "person.authentication_methods[0].phone_number": ["phone_not_verified"]
    }
    phone_verified(CONFIDANT_PHONE)
    assert (
        request_create(clinic, child(), doctor=clinic.paediatrician).status == DeclarationRequest.Status.NEW
    )


def test_one_phone_confirms_for_a_limited_number_of_patients(clinic):
    global_parameter_set(name="phone_number_auth_limit", value="1")
    phone_verified(PATIENT_PHONE)
    patient_register(adult(1))  # already confirms with this phone
    assert refused(clinic, adult(2)) == {
        "person.authentication_methods[0].phone_number": ["phone_auth_limit"]
    }
    # The patient who holds the phone may of course use it again.
    assert request_create(clinic, adult(1)).status == DeclarationRequest.Status.NEW


def test_an_invalid_document_is_refused_at_its_path_and_stores_nothing(clinic):
    data = person(documents=[{"type": "PASSPORT", "number": "123"}])
    assert refused(clinic, data) == {"person.documents[0].number": ["document_number_format"]}


# --- Superseding -------------------------------------------------------------------------------------------


def test_a_new_request_cancels_the_patients_pending_requests_with_the_same_doctor(clinic, other_clinic):
    first = request_create(clinic)
    approved = request_create(clinic, person(birth_date="1990-04-12"))  # the same patient again
    DeclarationRequest.objects.filter(pk=approved.pk).update(status=DeclarationRequest.Status.APPROVED)
    with_therapist = request_create(clinic, doctor=clinic.therapist)
    elsewhere = request_create(other_clinic)
    someone_else = request_create(clinic, adult(7))

    latest = request_create(clinic)

    statuses = dict(DeclarationRequest.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[approved.pk] == DeclarationRequest.Status.CANCELLED
    assert statuses[latest.pk] == DeclarationRequest.Status.NEW
    # Another doctor, another facility, another patient: untouched.
    for other in (with_therapist, elsewhere, someone_else):
        assert statuses[other.pk] == DeclarationRequest.Status.NEW
    cancelled = DeclarationRequest.history.filter(id=approved.pk).latest("history_date")
    assert (cancelled.status, cancelled.history_user) == ("CANCELLED", clinic.receptionist)


def test_without_an_rnokpp_the_same_patient_is_found_by_names_and_birth_date(clinic):
    first = request_create(clinic, child(), doctor=clinic.paediatrician)
    second = request_create(clinic, child(), doctor=clinic.paediatrician)
    first.refresh_from_db()
    assert first.person_key == second.person_key
    assert first.status == DeclarationRequest.Status.CANCELLED
