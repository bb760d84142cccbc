"""The declarations API in eHealth's shape: the facility's list and one declaration, termination on the
doctor's request, a patient's current declaration — and what another facility may not see or do."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from declarations.apis.declarations import OTHER_FACILITY
from declarations.apis.requests import INVALID_TRANSITION
from declarations.models import Declaration
from ehealth_portal.models import ApiKey
from tests.declaration_data import adult
from tests.factories import EmployeeFactory, UserFactory

from .conftest import declaration_signed, party_make

DECLARATIONS = "/api/declarations"


def uk(message) -> str:
    with translation.override("uk"):
        return str(message)


def api(user) -> Client:
    _key, key = ApiKey.objects.create_key(name="mis", user=user)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def error(response, code: int) -> dict:
    assert response.status_code == code, response.content
    return response.json()["error"]


def terminate(client, declaration, body=None):
    return client.patch(
        f"{DECLARATIONS}/{declaration.pk}/actions/terminate", body or {}, content_type="application/json"
    )


def state() -> list:
    return list(
        Declaration.objects.order_by("pk").values_list(
            "pk", "status", "reason", "reason_description", "updated_at"
        )
    )


@pytest.fixture
def declaration(clinic, patient, pki) -> Declaration:
    return declaration_signed(clinic, pki)


@pytest.fixture
def front_desk(clinic) -> Client:
    return api(clinic.receptionist)


@pytest.fixture
def assistant(clinic) -> Client:
    user = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Савченко", first_name="Ірина", gender="FEMALE", user=user),
        employee_type="ASSISTANT",
        position="P14",
        start_date=datetime.date(2020, 1, 1),
    )
    return api(user)


# --- List and read --------------------------------------------------------------------------------------


def test_the_list_shows_the_facilitys_active_declarations_by_default(
    clinic, other_clinic, declaration, pki, front_desk
):
    ended = declaration_signed(clinic, pki, adult(21), doctor=clinic.therapist)
    Declaration.objects.filter(pk=ended.pk).update(status="terminated")
    declaration_signed(other_clinic, pki, adult(22))

    active = front_desk.get(DECLARATIONS).json()
    terminated = front_desk.get(DECLARATIONS, {"status": "terminated"}).json()
    by_number = front_desk.get(DECLARATIONS, {"declaration_number": declaration.declaration_number}).json()
    by_doctor = front_desk.get(DECLARATIONS, {"employee_id": clinic.therapist.pk, "status": "active"}).json()

    assert [row["id"] for row in active["data"]] == [str(declaration.pk)]
    assert active["paging"]["total_entries"] == 1
    assert [row["id"] for row in terminated["data"]] == [str(ended.pk)]
    assert [row["id"] for row in by_number["data"]] == [str(declaration.pk)]
    assert by_doctor["data"] == []
    row = active["data"][0]
    assert row["person"]["last_name"] == "Іваненко" and row["person"]["birth_date"] == "1990-04-12"
    assert row["employee"]["id"] == str(clinic.family_doctor.pk)
    assert row["division"]["id"] == str(clinic.division.pk)
    assert row["legal_entity"]["id"] == str(clinic.legal_entity.pk)
    assert row["declaration_request_id"] == str(declaration.declaration_request_id)


def test_a_page_costs_the_same_queries_however_many_rows(clinic, declaration, pki, front_desk):
    front_desk.get(DECLARATIONS)  # warm: the caller's key and the reference data read
    with CaptureQueriesContext(connection) as one_row:
        assert len(front_desk.get(DECLARATIONS).json()["data"]) == 1
    for serial in (31, 32, 33):
        declaration_signed(clinic, pki, adult(serial), doctor=clinic.therapist)
    front_desk.get(DECLARATIONS)

    with CaptureQueriesContext(connection) as four_rows:
        assert len(front_desk.get(DECLARATIONS).json()["data"]) == 4

    assert len(four_rows) == len(one_row)


def test_a_declaration_is_read_in_full_without_the_secret_word(declaration, assistant, patient):
    response = assistant.get(f"{DECLARATIONS}/{declaration.pk}")

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (
        data["id"] == str(declaration.pk) and data["status"] == "active" and data["scope"] == "family_doctor"
    )
    assert data["person"]["id"] == str(patient.pk) and data["person"]["tax_id"] == patient.tax_id
    assert data["employee"]["party"]["last_name"] == "Шевченко"
    assert data["legal_entity"]["edrpou"] == declaration.legal_entity.edrpou
    assert patient.secret not in response.content.decode()
    assert "secret" not in data["person"]


def test_another_facilitys_declaration_is_not_found(other_clinic, declaration):
    theirs = api(other_clinic.receptionist)
    before = state()

    assert error(theirs.get(f"{DECLARATIONS}/{declaration.pk}"), 404)
    assert error(terminate(theirs, declaration), 404)
    assert theirs.get(DECLARATIONS).json()["data"] == []
    assert state() == before


def test_reading_needs_a_right_in_a_facility(declaration):
    outsider = api(UserFactory())

    assert error(outsider.get(DECLARATIONS), 403)
    assert error(outsider.get(f"{DECLARATIONS}/{declaration.pk}"), 403)
    assert error(Client().get(DECLARATIONS), 401)


# --- Terminate -----------------------------------------------------------------------------------------


def test_the_facility_terminates_a_declaration_with_its_reason(declaration, front_desk, clinic):
    response = terminate(front_desk, declaration, {"reason_description": "Пацієнт переїхав до Львова"})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["status"] == "terminated" and data["reason"] == "manual_employee"
    assert data["reason_description"] == "Пацієнт переїхав до Львова"
    declaration.refresh_from_db()
    assert declaration.status == "terminated" and declaration.updated_by == clinic.receptionist


def test_an_ended_declaration_cannot_be_terminated_again(declaration, front_desk):
    assert terminate(front_desk, declaration).status_code == 200
    before = state()

    assert error(terminate(front_desk, declaration), 409)["message"] == uk(INVALID_TRANSITION)
    assert state() == before


def test_terminating_needs_the_right_and_a_short_reason(declaration, assistant, front_desk):
    before = state()

    assert error(terminate(assistant, declaration), 403)  # an assistant reads declarations only
    too_long = terminate(front_desk, declaration, {"reason_description": "х" * 501})
    unknown = terminate(front_desk, declaration, {"reason": "manual_person"})

    assert [entry["entry"] for entry in error(too_long, 422)["invalid"]] == ["$.reason_description"]
    assert [entry["entry"] for entry in error(unknown, 422)["invalid"]] == ["$.reason"]
    assert state() == before


# --- A patient's current declaration --------------------------------------------------------------------


def test_a_patients_current_declaration_in_the_callers_facility(declaration, front_desk, patient):
    response = front_desk.get(f"/api/persons/{patient.pk}/declaration")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["id"] == str(declaration.pk)


def test_another_facilitys_current_declaration_is_forbidden_and_not_shown(declaration, other_clinic, patient):
    response = api(other_clinic.receptionist).get(f"/api/persons/{patient.pk}/declaration")

    assert error(response, 403)["message"] == uk(OTHER_FACILITY)
    assert str(declaration.pk) not in response.content.decode()


def test_a_patient_without_a_current_declaration_is_not_found(declaration, front_desk, patient):
    assert terminate(front_desk, declaration).status_code == 200

    assert error(front_desk.get(f"/api/persons/{patient.pk}/declaration"), 404)
    assert error(front_desk.get("/api/persons/d290f1ee-6c54-4b01-90e6-d701748f0851/declaration"), 404)
