"""The patient register's rules (services.patients, selectors.patients): registering and changing a patient
(refusals at their paths, nothing stored then), one record per person, the secret words encrypted at rest,
the exact search (no partial names, no browsing, all given identifiers must match) and who sees the secret.
"""

import copy
import datetime
import json
import threading

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, connections

from declarations.models import Declaration, DeclarationRequest, Person
from declarations.selectors.patients import (
    PERSON_SEARCH_LIMIT,
    person_get,
    person_search,
    person_secret_visible,
)
from declarations.services.patients import person_create, person_payload, person_update
from tests.conftest import missing_in_ci
from tests.declaration_data import PATIENT_PHONE, child
from tests.declaration_data import person as person_data
from tests.staff_data import rnokpp

pytestmark = pytest.mark.usefixtures("reference_data")

SECRET = "Квітка2024"


def request_only_removed(data: dict) -> dict:
    data = dict(data)
    data.pop("patient_signed", None)
    data.pop("process_disclosure_data_consent", None)
    return data


def errors_of(excinfo) -> dict[str, list[str]]:
    return {path: [error.code for error in errors] for path, errors in excinfo.value.error_dict.items()}


def stored_column(person: Person, column: str) -> str:
    """The column as the database holds it (a plain text/JSON read: nothing decrypts it)."""
    return json.dumps(
        Person.objects.filter(pk=person.pk).values_list(column, flat=True).get(), ensure_ascii=False
    )


# --- Registering --------------------------------------------------------------------------------------


def test_a_patient_is_registered_with_every_member_and_the_actor_recorded(clinic):
    data = request_only_removed(person_data())
    person = person_create(actor=clinic.receptionist, data=data)
    person.refresh_from_db()
    assert (person.last_name, person.first_name, person.birth_date) == (
        "Іваненко",
        "Петро",
        datetime.date(1990, 4, 12),
    )
    assert person.tax_id == data["tax_id"] and not person.no_tax_id
    assert person.authentication_method == "OTP" and person.authentication_phone == PATIENT_PHONE
    assert person.documents[0]["number"] == "КВ123456"
    assert {address["type"] for address in person.addresses} == {"RESIDENCE", "REGISTRATION"}
    assert person.secret == SECRET
    assert person.created_by == clinic.receptionist
    assert person.history.get().history_user == clinic.receptionist


def test_the_secret_words_are_not_stored_in_plain_text(clinic):
    data = request_only_removed(child())
    person = person_create(actor=clinic.receptionist, data=data)
    assert SECRET not in stored_column(person, "secret_encrypted")
    confidants = stored_column(person, "confidant_person")
    assert "Сонечко7" not in confidants and "secret_encrypted" in confidants
    # …and both come back for the declaration request made from the patient.
    payload = person_payload(Person.objects.get(pk=person.pk))
    assert payload["secret"] == SECRET
    assert payload["confidant_person"][0]["secret"] == "Сонечко7"


def test_person_payload_is_a_valid_request_person_and_round_trips(clinic):
    data = request_only_removed(child())
    person = person_create(actor=clinic.receptionist, data=data)
    payload = person_payload(person)
    assert payload["patient_signed"] is False and payload["process_disclosure_data_consent"] is True
    assert payload["authentication_methods"] == [{"type": "OTP", "phone_number": data["phones"][0]["number"]}]
    assert request_only_removed(payload) == {**data, "no_tax_id": False}


def test_an_invalid_patient_is_refused_at_its_paths_and_nothing_is_stored(clinic):
    data = request_only_removed(
        person_data(
            tax_id="1234567890",
            documents=[{"type": "PASSPORT", "number": "123"}],
            authentication_methods=[{"type": "OTP"}],
        )
    )
    with pytest.raises(ValidationError) as excinfo:
        person_create(actor=clinic.receptionist, data=data)
    errors = errors_of(excinfo)
    assert "documents[0].number" in errors
    assert errors["authentication_methods[0].phone_number"] == ["required"]
    assert not Person.objects.exists()


def test_a_child_without_a_confidant_person_is_refused(clinic):
    data = request_only_removed(child())
    del data["confidant_person"]
    with pytest.raises(ValidationError) as excinfo:
        person_create(actor=clinic.receptionist, data=data)
    assert errors_of(excinfo) == {"confidant_person": ["confidant_required"]}
    assert not Person.objects.exists()


# --- One record per person ----------------------------------------------------------------------------


def test_the_same_rnokpp_is_refused_at_tax_id(clinic, patient):
    data = request_only_removed(person_data(first_name="Іван", tax_id=patient.tax_id))
    data["documents"] = [{"type": "NATIONAL_ID", "number": "987654321"}]
    with pytest.raises(ValidationError) as excinfo:
        person_create(actor=clinic.receptionist, data=data)
    assert errors_of(excinfo) == {"tax_id": ["person_exists"]}
    assert Person.objects.count() == 1


def test_without_rnokpp_the_same_names_birth_and_document_are_refused_at_the_document(clinic):
    first = request_only_removed(child())
    person_create(actor=clinic.receptionist, data=first)
    again = copy.deepcopy(first)
    again["first_name"] = first["first_name"].upper()  # letter case does not make another person
    again["documents"] = [
        {"type": "NATIONAL_ID", "number": "123456789"},
        {"type": "BIRTH_CERTIFICATE", "number": "і-кв123456"},  # the first one's, typed differently
    ]
    with pytest.raises(ValidationError) as excinfo:
        person_create(actor=clinic.receptionist, data=again)
    assert errors_of(excinfo) == {"documents[1].number": ["person_exists"]}
    assert Person.objects.count() == 1


def test_a_namesake_with_other_documents_is_another_patient(clinic):
    first = request_only_removed(child())
    person_create(actor=clinic.receptionist, data=first)
    twin = {**first, "documents": [{"type": "BIRTH_CERTIFICATE", "number": "І-КВ 999999"}]}
    person_create(actor=clinic.receptionist, data=twin)
    assert Person.objects.count() == 2


# --- Changing -----------------------------------------------------------------------------------------


def test_a_change_replaces_the_data_and_keeps_secrets_left_out(clinic):
    person = person_create(actor=clinic.receptionist, data=request_only_removed(child()))
    token = person.secret_encrypted
    confidants_before = copy.deepcopy(person.confidant_person)
    data = request_only_removed(person_payload(person))
    data.pop("secret")
    data["confidant_person"][0].pop("secret")
    data["email"] = "new.address@example.com"
    person_update(person=person, actor=clinic.family_doctor.party.user, data=data)
    person.refresh_from_db()
    assert person.email == "new.address@example.com"
    assert person.secret_encrypted == token and person.secret == SECRET
    assert person.confidant_person == confidants_before  # the same tokens: no change recorded
    latest = person.history.first()
    assert latest.history_user == clinic.family_doctor.party.user
    assert latest.diff_against(person.history.last()).changed_fields == ["email"]


def test_a_new_secret_word_replaces_the_old_one(clinic, patient):
    data = request_only_removed(person_payload(patient))
    data["secret"] = "Новеслово1"
    person_update(person=patient, actor=clinic.receptionist, data=data)
    patient.refresh_from_db()
    assert patient.secret == "Новеслово1"


def test_an_invalid_change_is_refused_and_changes_nothing(clinic, patient):
    before = Person.objects.values().get(pk=patient.pk)
    data = request_only_removed(person_payload(patient))
    data["email"] = "new.address@example.com"
    data["addresses"] = [address for address in data["addresses"] if address["type"] != "RESIDENCE"]
    with pytest.raises(ValidationError) as excinfo:
        person_update(person=patient, actor=clinic.receptionist, data=data)
    assert errors_of(excinfo) == {"addresses": ["address_type_count"]}
    assert Person.objects.values().get(pk=patient.pk) == before
    assert not patient.history.filter(email="new.address@example.com").exists()


def test_a_change_to_another_patients_rnokpp_is_refused(clinic, patient):
    other = person_create(
        actor=clinic.receptionist,
        data=request_only_removed(
            person_data(
                first_name="Іван",
                tax_id=rnokpp(datetime.date(1990, 4, 12), serial=77),
                documents=[{"type": "NATIONAL_ID", "number": "111222333"}],
            )
        ),
    )
    data = request_only_removed(person_payload(other))
    data["tax_id"] = patient.tax_id
    with pytest.raises(ValidationError) as excinfo:
        person_update(person=other, actor=clinic.receptionist, data=data)
    assert errors_of(excinfo) == {"tax_id": ["person_exists"]}
    other.refresh_from_db()
    assert other.tax_id != patient.tax_id


# --- The exact search ---------------------------------------------------------------------------------


def search(**criteria):
    return person_search(
        **{
            "last_name": "Іваненко",
            "first_name": "Петро",
            "birth_date": datetime.date(1990, 4, 12),
            **criteria,
        }
    )


def test_the_search_finds_the_patient_by_each_identifier(patient):
    assert search(tax_id=patient.tax_id) == [patient]
    assert search(document_number="кв 123456") == [patient]
    assert search(phone_number=PATIENT_PHONE) == [patient]
    assert search(last_name="ІВАНЕНКО", first_name="петро", tax_id=patient.tax_id) == [patient]


def test_the_search_finds_by_the_phone_for_sms_codes_too(clinic):
    data = request_only_removed(person_data(phones=[{"type": "LAND_LINE", "number": "+380441234567"}]))
    person = person_create(actor=clinic.receptionist, data=data)
    assert search(phone_number=PATIENT_PHONE) == [person]
    assert search(phone_number="+380441234567") == [person]


@pytest.mark.parametrize(
    "criteria",
    [
        {"last_name": "Іваненк"},  # a part of the surname
        {"first_name": "Пет"},
        {"last_name": "Іваненко Петро"},
        {"birth_date": datetime.date(1990, 4, 13)},
        {"document_number": "КВ12345"},  # a part of the number
        {"phone_number": "+380671112234"},
    ],
)
def test_partial_names_or_a_wrong_value_find_nothing(patient, criteria):
    identifier = {} if {"phone_number", "document_number"} & set(criteria) else {"tax_id": patient.tax_id}
    assert search(**{**identifier, **criteria}) == []


def test_a_wrong_identifier_finds_nothing_even_with_right_names(patient):
    assert search(tax_id=rnokpp(datetime.date(1990, 4, 12), serial=9999)) == []
    assert search(tax_id=patient.tax_id, phone_number="+380500000000") == []  # every given one must match


def test_a_search_without_an_identifier_is_refused(patient):
    with pytest.raises(ValidationError) as excinfo:
        search()
    assert errors_of(excinfo) == {NON_FIELD_ERRORS: ["identifier_required"]}


def test_more_than_a_few_matches_are_refused(clinic):
    base = request_only_removed(person_data())
    for number in range(PERSON_SEARCH_LIMIT + 1):
        person_create(
            actor=clinic.receptionist,
            data={
                **base,
                "tax_id": rnokpp(datetime.date(1990, 4, 12), serial=100 + number),
                "documents": [{"type": "NATIONAL_ID", "number": f"{number:09d}"}],
            },
        )
    with pytest.raises(ValidationError) as excinfo:
        search(phone_number=PATIENT_PHONE)
    assert errors_of(excinfo) == {NON_FIELD_ERRORS: ["too_many_results"]}
    assert len(search(document_number="000000001")) == 1


def test_a_closed_record_is_neither_found_nor_opened(patient):
    Person.objects.filter(pk=patient.pk).update(is_active=False)
    assert search(tax_id=patient.tax_id) == []
    from django.http import Http404

    with pytest.raises(Http404):
        person_get(patient.pk)


# --- Who sees the secret word -------------------------------------------------------------------------


def test_the_secret_is_visible_only_to_a_facility_the_patient_chose_or_is_choosing(
    clinic, other_clinic, patient
):
    assert not person_secret_visible(person=patient, legal_entity=clinic.legal_entity)
    request = DeclarationRequest.objects.create(
        legal_entity=clinic.legal_entity,
        employee=clinic.family_doctor,
        division=clinic.division,
        person=patient,
        person_key=f"tax_id:{patient.tax_id}",
        data={},
        declaration_number="0001-TEST-0001",
        seed="seed",
        start_date=datetime.date.today(),
        end_date=datetime.date.today(),
        expires_at=datetime.datetime.now(tz=datetime.UTC),
    )
    assert person_secret_visible(person=patient, legal_entity=clinic.legal_entity)
    assert not person_secret_visible(person=patient, legal_entity=other_clinic.legal_entity)
    DeclarationRequest.objects.filter(pk=request.pk).update(status=DeclarationRequest.Status.REJECTED)
    assert not person_secret_visible(person=patient, legal_entity=clinic.legal_entity)
    DeclarationRequest.objects.filter(pk=request.pk).update(status=DeclarationRequest.Status.SIGNED)
    Declaration.objects.create(
        id=request.declaration_id,
        declaration_number=request.declaration_number,
        declaration_request=request,
        person=patient,
        employee=clinic.family_doctor,
        division=clinic.division,
        legal_entity=clinic.legal_entity,
        start_date=datetime.date.today(),
        end_date=datetime.date.today(),
        signed_at=datetime.datetime.now(tz=datetime.UTC),
    )
    assert person_secret_visible(person=patient, legal_entity=clinic.legal_entity)


# --- Two registrations of one patient at once (PostgreSQL) --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_of_one_patient_store_one(reference_data):
    """8 registrations of the same patient, each on its own connection: one stored, 7 "person_exists"."""
    if connection.vendor != "postgresql":
        missing_in_ci("real concurrent transactions need DATABASE_URL=postgres://...")
    data = request_only_removed(person_data())
    start = threading.Barrier(8)
    outcomes = []

    def register():
        start.wait()
        try:
            person_create(actor=None, data=data)
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(errors_of_error(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == ["created"] + [{"tax_id": ["person_exists"]}] * 7
    assert Person.objects.count() == 1


def errors_of_error(error: ValidationError) -> dict[str, list[str]]:
    return {path: [item.code for item in items] for path, items in error.error_dict.items()}
