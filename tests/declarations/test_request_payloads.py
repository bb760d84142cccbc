"""The patient and the declaration request as documents (eHealth 2019, ehealth-api.md §4.2): what is
accepted, and where each refusal points."""

import copy

import pytest
from django.core.exceptions import ValidationError

from declarations.payloads import declaration_request_payload_validate, person_payload_validate
from tests import declaration_data
from tests.declaration_data import child, confidant, person, years_ago


def refusal(function, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        function(data)
    return {path: [item.code for item in items] for path, items in caught.value.error_dict.items()}


def request(**overrides) -> dict:
    ids = {
        "employee_id": "8a4e8a4e-8a4e-4a4e-8a4e-8a4e8a4e8a4e",
        "division_id": "9b5f9b5f-9b5f-4b5f-9b5f-9b5f9b5f9b5f",
    }
    return declaration_data.declaration_request(**{**ids, **overrides})


def test_an_adult_and_a_child_are_accepted_and_normalised(reference_data):
    adult = person_payload_validate(person(email="Petro.Ivanenko@Example.com"))
    assert adult["email"] == "petro.ivanenko@example.com"
    assert adult["authentication_methods"] == [{"type": "OTP", "phone_number": "+380671112233"}]
    kid = person_payload_validate(child())
    assert kid["confidant_person"][0]["relation_type"] == "PRIMARY"
    assert "tax_id" not in kid
    # Validating the result again changes nothing: the signed document is stable.
    assert person_payload_validate(copy.deepcopy(adult)) == adult


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"type": "PASSPORT", "number": "КВ123456"}, True),
        ({"type": "PASSPORT", "number": "KB123456"}, False),  # Latin letters
        ({"type": "PASSPORT", "number": "ЫЫ123456"}, False),
        ({"type": "PASSPORT", "number": "КВ12345"}, False),
        ({"type": "REFUGEE_CERTIFICATE", "number": "АБ654321"}, True),
        ({"type": "NATIONAL_ID", "number": "001234567"}, True),
        ({"type": "NATIONAL_ID", "number": "00123456"}, False),
        ({"type": "BIRTH_CERTIFICATE", "number": "І-КВ 123456"}, True),
        ({"type": "TEMPORARY_PASSPORT", "number": "ТП 12/2020"}, True),
        ({"type": "BIRTH_CERTIFICATE", "number": "І-КВ <123>"}, False),
    ],
)
def test_document_numbers_follow_the_rule_of_their_type(reference_data, document, valid):
    data = person(documents=[document])
    if valid:
        assert person_payload_validate(data)["documents"][0]["number"] == document["number"]
    else:
        assert refusal(person_payload_validate, data) == {"documents[0].number": ["document_number_format"]}


def test_exactly_one_residence_address_and_each_type_once(reference_data):
    registration_only = [a for a in person()["addresses"] if a["type"] == "REGISTRATION"]
    assert refusal(person_payload_validate, person(addresses=registration_only)) == {
        "addresses": ["address_type_count"]
    }
    residence = next(a for a in person()["addresses"] if a["type"] == "RESIDENCE")
    assert refusal(person_payload_validate, person(addresses=[residence, residence])) == {
        "addresses": ["unique_by_type"]
    }
    assert person_payload_validate(person(addresses=[residence]))["addresses"] == [residence]


def test_rnokpp_checksum_and_a_refusal_to_have_one(reference_data):
    good = person()["tax_id"]
    wrong = good[:9] + str((int(good[9]) + 1) % 10)
    assert refusal(person_payload_validate, person(tax_id=wrong)) == {"tax_id": ["rnokpp_checksum"]}
    assert refusal(person_payload_validate, person(no_tax_id=True)) == {"tax_id": ["no_tax_id"]}
    data = person(no_tax_id=True)
    data.pop("tax_id")
    assert person_payload_validate(data)["no_tax_id"] is True


def test_an_sms_method_needs_a_phone_and_documents_have_none(reference_data):
    assert refusal(person_payload_validate, person(authentication_methods=[{"type": "OTP"}])) == {
        "authentication_methods[0].phone_number": ["required"]
    }
    offline_with_phone = [{"type": "OFFLINE", "phone_number": "+380671112233"}]
    assert refusal(person_payload_validate, person(authentication_methods=offline_with_phone)) == {
        "authentication_methods[0].phone_number": ["not_allowed"]
    }
    assert refusal(person_payload_validate, person(authentication_methods=[{"type": "NA"}])) == {
        "authentication_methods[0].type": ["inclusion"]
    }


def test_a_child_needs_exactly_one_primary_confidant_person(reference_data):
    no_confidant = child()
    no_confidant.pop("confidant_person")
    assert refusal(person_payload_validate, no_confidant) == {"confidant_person": ["confidant_required"]}
    two_secondary = child(
        confidant_person=[confidant(relation_type="SECONDARY"), confidant(relation_type="SECONDARY")]
    )
    assert "confidant_person" in refusal(person_payload_validate, two_secondary)
    only_secondary = child(confidant_person=[confidant(relation_type="SECONDARY")])
    assert refusal(person_payload_validate, only_secondary) == {"confidant_person": ["primary_confidant"]}
    both = child(confidant_person=[confidant(), confidant(relation_type="SECONDARY", first_name="Олег")])
    assert len(person_payload_validate(both)["confidant_person"]) == 2


def test_the_adult_age_decides_whether_a_confidant_is_needed(reference_data):
    """On the 18th birthday a patient acts alone; the day before, not yet."""
    eighteen_today = person(birth_date=years_ago(18))
    assert person_payload_validate(eighteen_today)
    eighteen_tomorrow = person(birth_date=years_ago(18, days=1))
    assert refusal(person_payload_validate, eighteen_tomorrow) == {"confidant_person": ["confidant_required"]}


def test_a_confidant_person_is_an_adult_with_valid_documents(reference_data):
    young = child(confidant_person=[confidant(birth_date=years_ago(17))])
    assert refusal(person_payload_validate, young) == {"confidant_person[0].birth_date": ["confidant_age"]}
    bad_relationship = child(
        confidant_person=[confidant(documents_relationship=[{"type": "PASSPORT", "number": "1"}])]
    )
    assert refusal(person_payload_validate, bad_relationship) == {
        "confidant_person[0].documents_relationship[0].type": ["inclusion"]
    }


@pytest.mark.parametrize(
    ("secret", "valid"),
    [("Квітка2024", True), ("abc12", False), ("x" * 21, False), ("Ёлка-2024", False), ("пароль@1", False)],
)
def test_the_secret_word(reference_data, secret, valid):
    data = person(secret=secret)
    if valid:
        assert person_payload_validate(data)["secret"] == secret
    else:
        assert list(refusal(person_payload_validate, data)) == ["secret"]


def test_unknown_members_are_refused_at_their_path(reference_data):
    assert refusal(person_payload_validate, person(nickname="Петрусь")) == {"nickname": ["unknown_field"]}
    data = person()
    data["emergency_contact"]["age"] = 40
    assert refusal(person_payload_validate, data) == {"emergency_contact.age": ["unknown_field"]}


def test_a_request_needs_the_patient_consent_unsigned_and_the_family_doctor_scope(reference_data):
    assert declaration_request_payload_validate(request())["overlimit"] is False
    signed = request(person=person(patient_signed=True))
    assert refusal(declaration_request_payload_validate, signed) == {"person.patient_signed": ["enum"]}
    no_consent = request(person=person(process_disclosure_data_consent=False))
    assert refusal(declaration_request_payload_validate, no_consent) == {
        "person.process_disclosure_data_consent": ["enum"]
    }
    missing = person()
    missing.pop("patient_signed")
    assert refusal(declaration_request_payload_validate, request(person=missing)) == {
        "person.patient_signed": ["required"]
    }
    assert refusal(declaration_request_payload_validate, request(scope="pediatrician")) == {
        "scope": ["invalid_choice"]
    }
    assert refusal(declaration_request_payload_validate, request(employee_id="doctor")) == {
        "employee_id": ["invalid"]
    }


def test_the_server_sets_the_dates_and_the_nonce(reference_data):
    """eHealth 2018's `start_date` and `seed` are accepted and dropped: the server sets them."""
    data = declaration_request_payload_validate(request(start_date="2020-01-01", seed="abc"))
    assert "start_date" not in data and "seed" not in data
