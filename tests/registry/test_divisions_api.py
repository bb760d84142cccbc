"""/api/divisions: eHealth's divisions of the caller's facility — list, create, read, change, (de)activate;
422 with JSON paths, 409 for a status it has already, 403/404 for another facility's division."""

import pytest

from ehealth_portal.models import ApiKey
from registry.models import Division

from .divisions_data import clinic_with_people, division_at, division_payload, division_state

pytestmark = pytest.mark.usefixtures("reference_data")

URL = "/api/divisions"
FIELDS = {
    "id",
    "name",
    "type",
    "addresses",
    "phones",
    "email",
    "external_id",
    "location",
    "working_hours",
    "legal_entity_id",
    "status",
    "is_active",
    "mountain_group",
    "inserted_at",
    "updated_at",
}


@pytest.fixture
def clinic():
    return clinic_with_people()


@pytest.fixture
def head_client(client, clinic):
    client.force_login(clinic.head)
    return client


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    assert response.json()["error"]["type"] == "validation_failed"
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


def post(client, data, **headers):
    return client.post(URL, data, content_type="application/json", **headers)


def patch(client, path, data=None):
    return client.patch(f"{URL}/{path}", data or {}, content_type="application/json")


def stored() -> tuple[int, int]:
    return Division.objects.count(), Division.history.count()


# --- Create ----------------------------------------------------------------------------------------------


def test_create_answers_201_in_ehealths_shape(head_client, clinic):
    response = post(head_client, division_payload(legal_entity_id=str(clinic.other_division.legal_entity_id)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["meta"]["code"] == 201 and body["meta"]["type"] == "object"
    data = body["data"]
    assert set(data) == FIELDS
    division = Division.objects.get(pk=data["id"])
    assert data["legal_entity_id"] == str(clinic.legal_entity.pk)  # always the caller's facility
    assert division.legal_entity == clinic.legal_entity
    assert (data["status"], data["is_active"], data["mountain_group"], data["external_id"]) == (
        "ACTIVE",
        True,
        None,
        None,
    )
    assert data["email"] == "ambulatory2@clinic.example"
    assert data["location"] == {"latitude": 50.4472, "longitude": 30.5226}
    assert data["working_hours"] == {
        "mon": [["08.00", "12.00"], ["13.00", "17.00"]],
        "sat": [["09.00", "13.00"]],
    }
    assert data["addresses"][0]["street"] == "Хрещатик"
    assert division.history.get().history_user == clinic.head


def test_a_fap_is_accepted_with_an_external_id(head_client):
    response = post(head_client, division_payload(type="FAP", external_id="fap-7", working_hours={}))
    assert response.status_code == 201
    assert (response.json()["data"]["type"], response.json()["data"]["external_id"]) == ("FAP", "fap-7")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"addresses": [division_payload()["addresses"][0]] * 2},
            {"$.addresses": ["unique_by_type"]},
        ),
        (
            {"addresses": [{**division_payload()["addresses"][0], "type": "REGISTRATION"}]},
            {"$.addresses": ["address_type_count"]},
        ),
        ({"type": "DRUGSTORE"}, {"$.type": ["inclusion"]}),
        (
            {"working_hours": {"mon": [["08.00", "12.00"], ["11.00", "13.00"]]}},
            {"$.working_hours.mon": ["intervals_overlap"]},
        ),
        ({"working_hours": {"tue": [["12.00", "08.00"]]}}, {"$.working_hours.tue[0]": ["interval_order"]}),
        ({"working_hours": {"wed": [["8.00", "12.00"]]}}, {"$.working_hours.wed[0][0]": ["time_format"]}),
        ({"working_hours": {"thu": [["08.00"]]}}, {"$.working_hours.thu[0]": ["min_length"]}),
        ({"working_hours": {"holiday": []}}, {"$.working_hours.holiday": ["unknown_field"]}),
        ({"location": {"latitude": 95, "longitude": 30}}, {"$.location.latitude": ["max_value"]}),
        ({"phones": []}, {"$.phones": ["min_length"]}),
        ({"status": "INACTIVE"}, {"$.status": ["unknown_field"]}),
    ],
)
def test_refusals_are_422_with_json_paths_and_store_nothing(head_client, changes, expected):
    before = stored()
    assert invalid(post(head_client, division_payload(**changes))) == expected
    assert stored() == before


def test_a_body_that_is_not_an_object_is_422(head_client):
    before = stored()
    assert invalid(post(head_client, [division_payload()])) == {"$": ["type"]}
    assert stored() == before


def test_a_doctor_reads_but_cannot_create_or_change(client, clinic):
    client.force_login(clinic.doctor)
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}/{clinic.division.pk}").status_code == 200
    before, state = stored(), division_state(clinic.division)
    response = post(client, division_payload())
    assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"
    assert patch(client, clinic.division.pk, {"name": "Інша"}).status_code == 403
    assert patch(client, f"{clinic.division.pk}/actions/deactivate").status_code == 403
    assert (stored(), division_state(clinic.division)) == (before, state)


def test_an_api_key_records_its_user(client, clinic):
    _key, key = ApiKey.objects.create_key(name="mis", user=clinic.head)
    response = post(client, division_payload(), HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201
    assert Division.objects.get(pk=response.json()["data"]["id"]).history.get().history_user == clinic.head


# --- Read --------------------------------------------------------------------------------------------------


def test_the_list_has_only_the_callers_divisions_with_filters_and_paging(head_client, clinic):
    fap = division_at(clinic.legal_entity, name="ФАП у селі", type="FAP", status="INACTIVE")
    body = head_client.get(URL).json()
    assert body["meta"]["type"] == "list"
    assert [item["name"] for item in body["data"]] == ["Амбулаторія на Хрещатику", "ФАП у селі"]
    assert body["paging"] == {"page_number": 1, "page_size": 50, "total_entries": 2, "total_pages": 1}
    assert set(body["data"][0]) == FIELDS

    def names(**query):
        response = head_client.get(URL, query)
        assert response.status_code == 200, response.content
        return [item["name"] for item in response.json()["data"]]

    assert names(status="INACTIVE") == ["ФАП у селі"]
    assert names(type="CLINIC") == ["Амбулаторія на Хрещатику"]
    assert names(name="хрещат") == ["Амбулаторія на Хрещатику"]
    assert names(ids=f"{fap.pk},{clinic.other_division.pk}") == ["ФАП у селі"]  # never another facility's
    assert names(page_size=1, page=2) == ["ФАП у селі"]
    assert names(status="") == ["Амбулаторія на Хрещатику", "ФАП у селі"]  # empty: no filter
    assert invalid(head_client.get(URL, {"ids": "1,2"})) == {"$.ids": ["format"]}
    assert invalid(head_client.get(URL, {"status": "CLOSED"})) == {"$.status": ["invalid_choice"]}
    assert invalid(head_client.get(URL, {"page_size": 101})) == {"$.page_size": ["max_value"]}


def test_the_list_keeps_a_constant_number_of_queries(
    head_client, clinic, django_assert_num_queries, django_assert_max_num_queries
):
    head_client.get(URL)  # the session and the reference data warmed
    # The session and its user, the caller's facility and roles, the count and the page.
    with django_assert_max_num_queries(7) as few:
        assert len(head_client.get(URL).json()["data"]) == 1
    for number in range(20):
        division_at(
            clinic.legal_entity,
            name=f"Амбулаторія № {number + 10}",
            working_hours={"mon": [["08.00", "12.00"]]},
        )
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(head_client.get(URL).json()["data"]) == 21


def test_detail_and_another_facilitys_division_is_404(head_client, clinic):
    response = head_client.get(f"{URL}/{clinic.division.pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["id"], data["type"], data["location"]) == (
        str(clinic.division.pk),
        "CLINIC",
        {"latitude": 50.4501, "longitude": 30.5234},
    )
    other = head_client.get(f"{URL}/{clinic.other_division.pk}")
    assert other.status_code == 404 and other.json()["error"]["type"] == "not_found"
    assert head_client.get(f"{URL}/not-a-uuid").status_code == 404


# --- Change ------------------------------------------------------------------------------------------------


def test_patch_replaces_the_members_given_and_null_removes_an_optional_one(head_client, clinic):
    response = patch(
        head_client,
        clinic.division.pk,
        {
            "name": "Амбулаторія на Хрещатику, 1",
            "location": None,
            "working_hours": {"fri": [["08.00", "15.00"]]},
            "legal_entity_id": str(clinic.other_division.legal_entity_id),  # ignored: always the facility's
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["name"], data["location"], data["working_hours"]) == (
        "Амбулаторія на Хрещатику, 1",
        None,
        {"fri": [["08.00", "15.00"]]},
    )
    assert data["phones"] == [{"type": "LAND_LINE", "number": "+380441234567"}]  # not given: kept
    division = Division.objects.get(pk=clinic.division.pk)
    assert division.legal_entity == clinic.legal_entity and division.latitude is None
    assert division.history.latest("history_date").history_user == clinic.head


def test_a_refused_patch_is_422_and_changes_nothing(head_client, clinic):
    before = division_state(clinic.division)
    entries = invalid(patch(head_client, clinic.division.pk, {"addresses": [], "type": "DRUGSTORE"}))
    assert entries == {"$.addresses": ["min_length"], "$.type": ["inclusion"]}
    assert invalid(patch(head_client, clinic.division.pk, {"name": None})) == {"$.name": ["null"]}
    assert division_state(clinic.division) == before


def test_changing_another_facilitys_division_is_403_and_changes_nothing(head_client, clinic):
    other = clinic.other_division
    before = division_state(other)
    for path in (other.pk, f"{other.pk}/actions/deactivate", f"{other.pk}/actions/activate"):
        response = patch(head_client, path, {"name": "Захоплена"})
        assert response.status_code == 403, path
        assert response.json()["error"]["type"] == "forbidden"
    assert division_state(other) == before
    assert patch(head_client, "00000000-0000-0000-0000-000000000000", {"name": "Нова"}).status_code == 404


def test_deactivate_and_activate_answer_409_when_it_is_so_already(head_client, clinic):
    url = f"{clinic.division.pk}/actions"
    conflict = patch(head_client, f"{url}/activate")
    assert conflict.status_code == 409 and conflict.json()["error"]["type"] == "request_conflict"

    response = patch(head_client, f"{url}/deactivate")
    assert response.status_code == 200
    assert (response.json()["data"]["status"], response.json()["data"]["is_active"]) == ("INACTIVE", False)
    before = division_state(clinic.division)
    assert patch(head_client, f"{url}/deactivate").status_code == 409
    assert division_state(clinic.division) == before

    response = patch(head_client, f"{url}/activate")
    assert (response.json()["data"]["status"], response.json()["data"]["is_active"]) == ("ACTIVE", True)
    users = {row.history_user for row in Division.objects.get(pk=clinic.division.pk).history.all()[:2]}
    assert users == {clinic.head}


def test_a_patch_that_changes_nothing_adds_no_version(head_client, clinic):
    before = division_state(clinic.division)
    response = patch(head_client, clinic.division.pk, {"name": clinic.division.name, "type": "CLINIC"})
    assert response.status_code == 200
    assert division_state(clinic.division) == before
