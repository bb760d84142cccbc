"""GET /api/persons: eHealth's exact-match person search — required parameters (422 at their paths), an
identifier needed, exact matching, 403 for too many matches or without `person:read`, and results that
echo only what the caller searched by (never the secret word, addresses or other identifiers)."""

import datetime

import pytest
from django.test import Client

from declarations.apis.persons import PersonSearchThrottle
from declarations.selectors.patients import PERSON_SEARCH_LIMIT
from tests.declaration_data import PATIENT_PHONE, child
from tests.declaration_data import person as person_data
from tests.factories import EmployeeFactory, UserFactory
from tests.staff_data import rnokpp

from .conftest import party_make, patient_register

pytestmark = pytest.mark.usefixtures("reference_data")

URL = "/api/persons"
NAMES = {"last_name": "Іваненко", "first_name": "Петро", "birth_date": "1990-04-12"}


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    assert response.json()["error"]["type"] == "validation_failed"
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


@pytest.fixture
def receptionist(client, clinic):
    client.force_login(clinic.receptionist)
    return client


def test_the_patient_is_found_by_their_rnokpp_with_their_identity_only(receptionist, patient):
    response = receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["type"] == "list"
    assert body["data"] == [
        {
            "id": str(patient.pk),
            "first_name": "Петро",
            "last_name": "Іваненко",
            "second_name": "Миколайович",
            "birth_country": "Україна",
            "birth_settlement": "Київ",
            "birth_date": "1990-04-12",
            "tax_id": patient.tax_id,
        }
    ]
    assert patient.secret not in response.content.decode()


def test_by_phone_the_mobile_phones_are_echoed_not_the_rnokpp(receptionist, patient):
    response = receptionist.get(URL, {**NAMES, "first_name": "ПЕТРО", "phone_number": PATIENT_PHONE})
    (found,) = response.json()["data"]
    assert found["phones"] == [{"type": "MOBILE", "number": PATIENT_PHONE}]
    assert (
        "tax_id" not in found and "documents" not in found and patient.tax_id not in response.content.decode()
    )


def test_a_child_is_found_by_the_birth_certificate(receptionist, clinic):
    data = child()
    person = patient_register(data)
    query = {
        "last_name": data["last_name"],
        "first_name": data["first_name"],
        "birth_date": data["birth_date"],
        "birth_certificate": "І-КВ 123456",
    }
    (found,) = receptionist.get(URL, query).json()["data"]
    assert found["id"] == str(person.pk)
    assert found["documents"] == [{"type": "BIRTH_CERTIFICATE", "number": "І-КВ 123456"}]
    # The number of another kind of document is not a birth certificate.
    adult = patient_register(person_data(tax_id=rnokpp(datetime.date(1990, 4, 12), serial=31)))
    assert receptionist.get(URL, {**NAMES, "birth_certificate": "КВ123456"}).json()["data"] == []
    assert adult.documents[0]["number"] == "КВ123456"


@pytest.mark.parametrize(
    "changes",
    [
        {"last_name": "Іваненк"},
        {"first_name": "Пет"},
        {"birth_date": "1990-04-13"},
        {"second_name": "Миколай"},
        {"tax_id": rnokpp(datetime.date(1990, 4, 12), serial=9876)},
    ],
)
def test_a_partial_or_wrong_value_finds_nobody(receptionist, patient, changes):
    response = receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id, **changes})
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_required_parameters_are_refused_at_their_paths(receptionist, patient):
    assert invalid(receptionist.get(URL, {"tax_id": patient.tax_id})) == {
        "$.first_name": ["required"],
        "$.last_name": ["required"],
        "$.birth_date": ["required"],
    }
    assert invalid(
        receptionist.get(URL, {**NAMES, "birth_date": "12.04.1990", "tax_id": patient.tax_id})
    ) == {"$.birth_date": ["invalid"]}
    assert invalid(receptionist.get(URL, {**NAMES, "phone_number": "0671112233"})) == {
        "$.phone_number": ["phone_format"]
    }


def test_a_search_without_an_identifier_is_refused(receptionist, patient):
    assert invalid(receptionist.get(URL, NAMES)) == {"$": ["identifier_required"]}


def test_too_many_matches_are_403(receptionist, clinic):
    for number in range(PERSON_SEARCH_LIMIT + 1):
        patient_register(
            person_data(
                tax_id=rnokpp(datetime.date(1990, 4, 12), serial=200 + number),
                documents=[{"type": "NATIONAL_ID", "number": f"{number:09d}"}],
            )
        )
    response = receptionist.get(URL, {**NAMES, "phone_number": PATIENT_PHONE})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert "exact match" in response.json()["error"]["message"]
    assert (
        len(
            receptionist.get(URL, {**NAMES, "tax_id": rnokpp(datetime.date(1990, 4, 12), serial=201)}).json()[
                "data"
            ]
        )
        == 1
    )


def test_without_person_read_the_search_is_403(client, clinic, patient):
    hr = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Бондар", first_name="Ганна", gender="FEMALE", user=hr),
        employee_type="HR",
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    client.force_login(hr)
    response = client.get(URL, {**NAMES, "tax_id": patient.tax_id})
    assert response.status_code == 403
    assert "data" not in response.json()


def test_another_facility_named_by_the_caller_is_403(client, clinic, other_clinic, patient):
    client.force_login(other_clinic.receptionist)
    response = client.get(
        URL, {**NAMES, "tax_id": patient.tax_id, "legal_entity_id": str(clinic.legal_entity.pk)}
    )
    assert response.status_code == 403


def test_anonymous_callers_are_refused(client, patient):
    assert client.get(URL, {**NAMES, "tax_id": patient.tax_id}).status_code == 401


def test_searches_are_throttled_per_caller(receptionist, clinic, patient, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "person_search": "2/hour",
        },
    }
    for _ in range(2):
        assert receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id}).status_code == 200
    refused = receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id})
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "too_many_requests" and int(refused["Retry-After"]) > 0
    # Another caller has searches of their own.
    other = Client()
    other.force_login(clinic.head)
    assert other.get(URL, {**NAMES, "tax_id": patient.tax_id}).status_code == 200


def test_without_a_rate_in_the_settings_searches_have_one_of_their_own(receptionist, patient, settings):
    rates = {
        name: rate
        for name, rate in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].items()
        if name != "person_search"
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    assert PersonSearchThrottle.default_rate == "120/hour"
    for _ in range(120):
        assert receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id}).status_code == 200
    assert receptionist.get(URL, {**NAMES, "tax_id": patient.tax_id}).status_code == 429
