"""The staff API in eHealth's shape: employee requests (create, list, read; the invitee's approve and
reject) and employees (list, read, deactivate) — with its refusals, their status codes and JSON paths."""

import base64
import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone, translation

from ehealth_portal.caching import local_caches_clear
from ehealth_portal.models import ApiKey, Email
from registry.apis.staff import CONFLICTS, EXPIRED, STATUS_NOT_NEW
from registry.models import Employee, EmployeeRequest, Party
from registry.services import employee_request_create
from tests import staff_data
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory

from .conftest import HEAD

pytestmark = pytest.mark.usefixtures("reference_data")

EXAMPLES = Path(__file__).parent / "data" / "ehealth_examples"
REQUESTS, EMPLOYEES = "/api/employee_requests", "/api/employees"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def uk(message, **values) -> str:
    with translation.override("uk"):
        text = str(message)
    return text % values if values else text


def api(user) -> Client:
    """A MIS calling as `user` with their API key."""
    _key, key = ApiKey.objects.create_key(name="mis", user=user)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def worker(clinic, role="DOCTOR", *, division=None, **party) -> Employee:
    return EmployeeFactory(
        legal_entity=clinic,
        party=PartyFactory(user=UserFactory(), **party),
        employee_type=role,
        position="P7" if role == "DOCTOR" else "P14",
        division=division,
    )


def warm(client, url):
    """A call after which the next costs only its own queries: the process has re-read the caller's key
    (new users replace the keys' version, noticed within a second) and the reference data."""
    local_caches_clear()
    client.get(url)


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


def error(response, code: int) -> dict:
    assert response.status_code == code, response.content
    return response.json()["error"]


def state() -> dict:
    return {
        "requests": EmployeeRequest.objects.count(),
        "employees": Employee.objects.count(),
        "parties": Party.objects.count(),
        "emails": Email.objects.count(),
        "history": EmployeeRequest.history.count() + Employee.history.count(),
    }


@pytest.fixture
def clinic():
    return LegalEntityFactory()


@pytest.fixture
def division(clinic):
    return DivisionFactory(legal_entity=clinic)


@pytest.fixture
def head(clinic):
    party = PartyFactory(user=UserFactory(email="head@clinic.example"), tax_id=HEAD["drfo"])
    return EmployeeFactory(legal_entity=clinic, party=party, employee_type="OWNER")


@pytest.fixture
def mis(head) -> Client:
    return api(head.party.user)


def doctor_example(clinic, division) -> dict:
    body = example("employee_request_doctor.json")
    body["employee_request"].update(legal_entity_id=str(clinic.pk), division_id=str(division.pk))
    return body


def post(client, body):
    return client.post(REQUESTS, body, content_type="application/json")


# --- Create: eHealth's examples ---------------------------------------------------------------------


def test_the_doctor_example_made_valid_is_accepted(
    mis, clinic, division, head, django_capture_on_commit_callbacks, outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(mis, doctor_example(clinic, division))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["meta"]["code"] == 201 and body["meta"]["type"] == "object"
    data = body["data"]
    request = EmployeeRequest.objects.get()
    assert (data["id"], data["status"], data["legal_entity_id"], data["division_id"]) == (
        str(request.pk),
        "NEW",
        str(clinic.pk),
        str(division.pk),
    )
    assert (data["edrpou"], data["employee_type"], data["position"]) == (clinic.edrpou, "DOCTOR", "P7")
    assert data["party"]["email"] == "p.ivanenko@clinic.example"  # normalised
    assert data["doctor"]["science_degree"]["degree"] == "PHD"
    assert [s["speciality"] for s in data["doctor"]["specialities"]] == ["PEDIATRICIAN", "THERAPIST"]
    assert request.created_by == head.party.user
    assert [message.to for message in outbox] == [["p.ivanenko@clinic.example"]]
    assert "/invite/" in outbox[0].body


def test_the_hr_example_is_accepted_without_a_facility_id(mis, clinic):
    response = post(mis, example("employee_request_hr.json"))
    assert response.status_code == 201, response.content
    assert response.json()["data"]["legal_entity_id"] == str(clinic.pk)
    assert "doctor" not in response.json()["data"] and "division_id" in response.json()["data"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "employee_request_doctor_as_published.json",
            {
                "$.employee_request.position": ["inclusion"],
                "$.employee_request.party.phones[0].number": ["phone_format"],
                "$.employee_request.party.about_myself": ["unknown_field"],
                "$.employee_request.party.working_experience": ["unknown_field"],
                "$.employee_request.doctor.specialities[0].qualification_type": ["inclusion"],
                "$.employee_request.doctor.science_degree.degree": ["inclusion"],
            },
        ),
        (
            "employee_request_hr_as_published.json",
            {
                "$.employee_request.position": ["inclusion"],
                "$.employee_request.status": ["invalid_choice"],
                "$.employee_request.party.tax_id": ["rnokpp_checksum"],
                "$.employee_request.doctor.educations": ["min_length"],
                "$.employee_request.doctor.specialities": ["min_length"],
            },
        ),
    ],
)
def test_the_examples_as_published_are_refused_at_their_paths_and_nothing_is_stored(
    mis, head, name, expected
):
    before = state()
    assert invalid(post(mis, example(name))) == expected
    assert state() == before


# --- Create: the signed form (eHealth's v2) --------------------------------------------------------------


def signed_body(pki, document: bytes, person=None) -> dict:
    envelope = pki.openssl_sign(person or pki.person(), document)
    return {"signed_content": base64.b64encode(envelope).decode(), "signed_content_encoding": "base64"}


def test_a_signed_request_is_accepted_and_kept_as_evidence(mis, clinic, division, head, pki):
    document = json.dumps(doctor_example(clinic, division), ensure_ascii=False, indent=2).encode()
    response = post(mis, signed_body(pki, document))
    assert response.status_code == 201, response.content
    request = EmployeeRequest.objects.get()
    assert bytes(request.signed_content) == document  # the MIS's own JSON, as signed
    assert request.signer["drfo"] == HEAD["drfo"]
    assert request.data["party"]["email"] == "p.ivanenko@clinic.example"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("someone else signs", {"$.signed_content": ["signer_not_expected"]}),
        ("not JSON", {"$.signed_content": ["content_not_json"]}),
        ("no employee_request", {"$.employee_request": ["required"]}),
        ("another facility", {"$.employee_request.legal_entity_id": ["legal_entity_mismatch"]}),
        ("a bad position", {"$.employee_request.position": ["inclusion"]}),
        ("another facility's place", {"$.employee_request.division_id": ["division_not_found"]}),
        ("not base64", {"$.signed_content": ["base64"]}),
        ("an unknown encoding", {"$.signed_content_encoding": ["invalid_choice"]}),
    ],
)
def test_a_signed_request_is_refused_at_the_right_path(mis, clinic, division, head, pki, change, expected):
    body = doctor_example(clinic, division)
    request = body["employee_request"]
    person = None
    if change == "someone else signs":
        person = pki.person(drfo="2904501273", surname="Шевчук", given_names="Андрій Іванович")
    elif change == "another facility":
        request["legal_entity_id"] = str(LegalEntityFactory().pk)
    elif change == "a bad position":
        request["position"] = "лікар"
    elif change == "another facility's place":
        request["division_id"] = str(DivisionFactory().pk)
    document = json.dumps(body, ensure_ascii=False).encode()
    if change == "not JSON":
        document = b"employee_request: yes"
    elif change == "no employee_request":
        document = json.dumps(request, ensure_ascii=False).encode()  # the inside without its wrapper
    signed = signed_body(pki, document, person)
    if change == "not base64":
        signed["signed_content"] = "not base64!"
    elif change == "an unknown encoding":
        signed["signed_content_encoding"] = "hex"
    before = state()
    assert invalid(post(mis, signed)) == expected
    assert state() == before


# --- Create: other refusals ----------------------------------------------------------------------------


def test_create_refusals(client, mis, clinic, division, head):
    doctor, stranger = api(worker(clinic).party.user), api(UserFactory())
    before = state()
    assert invalid(post(mis, {})) == {"$.employee_request": ["required"]}
    assert invalid(post(mis, {"employee_request": "x"})) == {"$.employee_request": ["type"]}
    assert invalid(post(mis, {**example("employee_request_hr.json"), "extra": 1})) == {
        "$.extra": ["unknown_field"]
    }
    owner = example("employee_request_hr.json")
    owner["employee_request"]["employee_type"] = "OWNER"
    assert invalid(post(mis, owner)) == {"$.employee_request.employee_type": ["owner_forbidden"]}
    # A role without the right (a doctor), somebody who works nowhere, nobody: refused before anything.
    assert post(doctor, example("employee_request_hr.json")).status_code == 403
    assert post(stranger, example("employee_request_hr.json")).status_code == 403
    assert post(client, example("employee_request_hr.json")).status_code == 401
    assert state() == before


def test_changing_a_dismissed_employee_is_a_conflict(mis, clinic, division, head):
    dismissed = worker(clinic, "HR", tax_id="3311843210")
    Employee.objects.filter(pk=dismissed.pk).update(status=Employee.Status.DISMISSED, is_active=False)
    body = example("employee_request_hr.json")
    body["employee_request"]["employee_id"] = str(dismissed.pk)
    before = state()
    assert error(post(mis, body), 409) == {
        "type": "request_conflict",
        "message": uk(CONFLICTS["employee_dismissed"]),
    }
    assert state() == before


# --- List and read ----------------------------------------------------------------------------------


def invite(clinic, head, count: int, **overrides) -> list[EmployeeRequest]:
    return [
        employee_request_create(
            legal_entity=clinic,
            actor=head.party.user,
            data=staff_data.employee_request("ASSISTANT", **overrides),
        )[0]
        for _ in range(count)
    ]


def test_the_request_list_is_the_facilitys_newest_first_in_a_constant_number_of_queries(
    mis, clinic, head, django_assert_num_queries
):
    invite(LegalEntityFactory(), head, 2)  # another facility's: never listed
    requests = invite(clinic, head, 3)
    warm(mis, REQUESTS)
    with django_assert_num_queries(4):  # facility, rights, count, page
        response = mis.get(REQUESTS)
    body = response.json()
    assert [row["id"] for row in body["data"]] == [str(r.pk) for r in reversed(requests)]
    first = body["data"][0]
    assert set(first) == {
        "id",
        "status",
        "inserted_at",
        "edrpou",
        "legal_entity_name",
        "first_name",
        "last_name",
        "second_name",
        "no_tax_id",
    }
    assert (first["edrpou"], first["last_name"], first["no_tax_id"]) == (clinic.edrpou, "Шевченко", False)
    assert body["paging"] == {"page_number": 1, "page_size": 50, "total_entries": 3, "total_pages": 1}

    invite(clinic, head, 27)
    warm(mis, REQUESTS)
    with django_assert_num_queries(4):
        assert len(mis.get(REQUESTS).json()["data"]) == 30


def test_the_request_list_filters_by_status_and_pages(mis, clinic, head):
    waiting, withdrawn = invite(clinic, head, 2)
    EmployeeRequest.objects.filter(pk=withdrawn.pk).update(status=EmployeeRequest.Status.REJECTED)
    assert [row["id"] for row in mis.get(REQUESTS, {"status": "NEW"}).json()["data"]] == [str(waiting.pk)]
    page = mis.get(REQUESTS, {"page": 2, "page_size": 1}).json()
    assert [row["id"] for row in page["data"]] == [str(waiting.pk)] and page["paging"]["total_pages"] == 2
    assert invalid(mis.get(REQUESTS, {"status": "DONE"})) == {"$.status": ["invalid_choice"]}


def test_one_request_in_full_and_another_facilitys_is_404(mis, clinic, head):
    (request,) = invite(clinic, head, 1)
    data = mis.get(f"{REQUESTS}/{request.pk}").json()["data"]
    assert (data["id"], data["status"], data["party"]["tax_id"]) == (
        str(request.pk),
        "NEW",
        request.data["party"]["tax_id"],
    )
    assert "urgent" not in mis.get(f"{REQUESTS}/{request.pk}").json()
    (foreign,) = invite(LegalEntityFactory(), head, 1)
    assert error(mis.get(f"{REQUESTS}/{foreign.pk}"), 404)["type"] == "not_found"


# --- The invitee approves or rejects --------------------------------------------------------------------


@pytest.fixture
def invitation(clinic, division, head):
    request, _token = employee_request_create(
        legal_entity=clinic,
        actor=head.party.user,
        data=staff_data.employee_request(division_id=division.pk, party={"email": "doc@clinic.example"}),
    )
    return request


@pytest.fixture
def invitee(invitation) -> Client:
    return api(UserFactory(email="Doc@Clinic.example"))  # the email in another case is the same address


def test_the_invitee_approves_and_becomes_an_employee(invitee, invitation, clinic, division):
    response = invitee.post(f"{REQUESTS}/{invitation.pk}/approve")
    assert response.status_code == 200, response.content
    employee = Employee.objects.get(legal_entity=clinic, employee_type="DOCTOR")
    assert response.json()["data"]["status"] == "APPROVED"
    assert response.json()["data"]["employee_id"] == str(employee.pk)
    assert (employee.status, employee.division, employee.speciality["speciality"]) == (
        "APPROVED",
        division,
        "FAMILY_DOCTOR",
    )
    assert employee.party.user.email == "Doc@Clinic.example"
    # Answered: a second approve or a reject is a conflict naming the status.
    for action in ("approve", "reject"):
        assert error(invitee.post(f"{REQUESTS}/{invitation.pk}/{action}"), 409) == {
            "type": "request_conflict",
            "message": uk(STATUS_NOT_NEW, status="APPROVED"),
        }


def test_the_invitee_rejects(invitee, invitation):
    response = invitee.post(f"{REQUESTS}/{invitation.pk}/reject")
    assert response.status_code == 200 and response.json()["data"]["status"] == "REJECTED"
    assert not Employee.objects.filter(employee_type="DOCTOR").exists()
    assert error(invitee.post(f"{REQUESTS}/{invitation.pk}/approve"), 409)["message"] == uk(
        STATUS_NOT_NEW, status="REJECTED"
    )


def test_only_the_invitee_may_answer_and_an_expired_request_is_403(mis, invitee, invitation):
    before = state()
    for action in ("approve", "reject"):
        # The facility's head is not the invitee, nor is a stranger: 403, whatever the status.
        assert error(mis.post(f"{REQUESTS}/{invitation.pk}/{action}"), 403)["type"] == "forbidden"
        assert api(UserFactory()).post(f"{REQUESTS}/{invitation.pk}/{action}").status_code == 403
    assert invitee.post(f"{REQUESTS}/00000000-0000-0000-0000-000000000000/approve").status_code == 404
    EmployeeRequest.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    for action in ("approve", "reject"):
        assert error(invitee.post(f"{REQUESTS}/{invitation.pk}/{action}"), 403) == {
            "type": "forbidden",
            "message": uk(EXPIRED),
        }
    assert state() == before
    invitation.refresh_from_db()
    assert invitation.status == EmployeeRequest.Status.NEW


# --- Employees ------------------------------------------------------------------------------------------


def test_the_employee_list_filters_in_a_constant_number_of_queries(
    mis, clinic, division, head, django_assert_num_queries
):
    doctors = [worker(clinic, "DOCTOR", division=division) for _ in range(2)]
    hr = worker(clinic, "HR", tax_id="3311843210")
    worker(LegalEntityFactory(), "DOCTOR")  # another facility's
    dismissed = doctors[0]
    Employee.objects.filter(pk=dismissed.pk).update(status=Employee.Status.DISMISSED, is_active=False)
    Party.objects.filter(pk=doctors[1].party_id).update(no_tax_id=True)

    def ids(**filters) -> set[str]:
        return {row["id"] for row in mis.get(EMPLOYEES, filters).json()["data"]}

    assert ids() == {str(e.pk) for e in (head, hr, *doctors)}
    assert ids(employee_type="DOCTOR") == {str(e.pk) for e in doctors}
    assert ids(status="DISMISSED") == {str(dismissed.pk)}
    assert ids(division_id=str(division.pk)) == {str(e.pk) for e in doctors}
    assert ids(tax_id="3311843210") == {str(hr.pk)}
    assert ids(no_tax_id="true") == {str(doctors[1].pk)}
    assert invalid(mis.get(EMPLOYEES, {"division_id": "x"})) == {"$.division_id": ["invalid"]}

    row = next(row for row in mis.get(EMPLOYEES).json()["data"] if row["id"] == str(doctors[1].pk))
    assert row["doctor"] == {"specialities": []} and row["division"]["id"] == str(division.pk)
    assert row["party"]["declaration_limit"] == 0 and row["party"]["declaration_count"] == 0
    assert row["legal_entity"]["edrpou"] == clinic.edrpou
    assert "doctor" not in next(r for r in mis.get(EMPLOYEES).json()["data"] if r["id"] == str(hr.pk))

    warm(mis, EMPLOYEES)
    with django_assert_num_queries(4):  # facility, rights, count, page
        assert len(mis.get(EMPLOYEES).json()["data"]) == 4
    for _ in range(26):
        worker(clinic, "DOCTOR", division=division)
    warm(mis, EMPLOYEES)
    with django_assert_num_queries(4):
        assert len(mis.get(EMPLOYEES).json()["data"]) == 30


def test_an_employee_in_full_with_the_doctor_block(mis, clinic, division, head):
    block = example("employee_request_doctor.json")["employee_request"]["doctor"]
    doctor = worker(clinic, "DOCTOR", division=division)
    Employee.objects.filter(pk=doctor.pk).update(additional_info=block, speciality=block["specialities"][0])
    data = mis.get(f"{EMPLOYEES}/{doctor.pk}").json()["data"]
    assert data["doctor"] == block
    assert data["party"]["tax_id"] == doctor.party.tax_id and data["party"]["declaration_count"] == 0
    assert (data["employee_type"], data["status"], data["division"]["name"]) == (
        "DOCTOR",
        "APPROVED",
        division.name,
    )
    assert "doctor" not in mis.get(f"{EMPLOYEES}/{head.pk}").json()["data"]
    assert mis.get(f"{EMPLOYEES}/{worker(LegalEntityFactory()).pk}").status_code == 404


def test_deactivation_dismisses_and_takes_the_rights_at_once(mis, clinic, head):
    hr = worker(clinic, "HR")
    hr_api = api(hr.party.user)
    assert hr_api.get(EMPLOYEES).status_code == 200
    response = mis.patch(f"{EMPLOYEES}/{hr.pk}/actions/deactivate")
    assert response.status_code == 200, response.content
    assert (response.json()["data"]["status"], response.json()["data"]["end_date"]) == (
        "DISMISSED",
        timezone.localdate().isoformat(),
    )
    assert Employee.history.filter(id=hr.pk).latest("history_date").history_user == head.party.user
    assert hr_api.get(EMPLOYEES).status_code == 403

    before = state()
    assert error(mis.patch(f"{EMPLOYEES}/{hr.pk}/actions/deactivate"), 409)["message"] == uk(
        CONFLICTS["employee_not_active"]
    )
    assert error(mis.patch(f"{EMPLOYEES}/{head.pk}/actions/deactivate"), 409)["message"] == uk(
        CONFLICTS["owner_deactivate"]
    )
    assert state() == before


def test_deactivation_needs_the_right_in_the_same_facility(mis, clinic, head):
    doctor = worker(clinic, "DOCTOR")
    url = f"{EMPLOYEES}/{doctor.pk}/actions/deactivate"
    accountant, stranger_hr = (
        api(worker(clinic, "ACCOUNTANT").party.user),
        api(worker(LegalEntityFactory(), "HR").party.user),
    )
    before = state()
    assert accountant.patch(url).status_code == 403  # reads the staff, does not dismiss
    assert stranger_hr.patch(url).status_code == 404  # not an employee of their facility
    assert stranger_hr.patch(f"{url}?legal_entity_id={clinic.pk}").status_code == 403  # not their facility
    doctor.refresh_from_db()
    assert doctor.status == Employee.Status.APPROVED
    assert state() == before
