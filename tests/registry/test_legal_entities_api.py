"""PUT/GET /api/legal_entities: the MIS path of facility registration, on `openssl cms -sign` signatures."""

import base64
import copy
import json

import pytest

from registry.models import (
    Division,
    Employee,
    EmployeeRequest,
    LegalEntity,
    Party,
    RegistrationApplication,
)
from tests.factories import SuperuserFactory, UserFactory

from .conftest import CLINIC_EDRPOU, FOP_HEAD, HEAD_EMAIL, PAYLOAD

pytestmark = pytest.mark.django_db

URL = "/api/legal_entities"
FACILITY_MODELS = (LegalEntity, Division, Party, Employee, EmployeeRequest)
NOTHING = {model.__name__: 0 for model in FACILITY_MODELS}


def created():
    return {model.__name__: model.objects.count() for model in FACILITY_MODELS}


@pytest.fixture
def operator(client):
    user = SuperuserFactory()
    client.force_login(user)
    return user


def mis_document(**changes) -> bytes:
    """The payload as a MIS sends it: pretty-printed, not normalised (mixed-case email)."""
    data = copy.deepcopy(PAYLOAD)
    data.update(changes)
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def put(client, signature: bytes, **body):
    body = {
        "signed_legal_entity_request": base64.b64encode(signature).decode(),
        "signed_content_encoding": "base64",
        **body,
    }
    return client.put(URL, body, content_type="application/json")


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


def test_a_payload_signed_by_openssl_registers_the_facility(
    client, operator, registration, pki, outbox, run_on_commit
):
    registration.register_clinic()
    signature = pki.openssl_sign(pki.person(), mis_document())
    response = run_on_commit(put, client, signature)

    assert response.status_code == 201, response.content
    body = response.json()
    facility = LegalEntity.objects.get()
    request = EmployeeRequest.objects.get()
    assert body["meta"]["code"] == 201
    assert body["urgent"] == {"employee_request_id": str(request.pk)}
    data = body["data"]
    assert (data["id"], data["edrpou"], data["status"], data["nhs_verified"]) == (
        str(facility.pk),
        CLINIC_EDRPOU,
        "ACTIVE",
        False,
    )
    assert data["email"] == "clinic@clinic.example"
    assert data["medical_service_provider"]["licenses"][0]["order_no"] == "15-Л"
    assert data["addresses"][0]["type"] == "REGISTRATION"
    assert data["inserted_by"] == operator.pk
    assert created() == {**NOTHING, "LegalEntity": 1, "Division": 1, "EmployeeRequest": 1}
    application = RegistrationApplication.objects.get()
    assert (application.channel, application.status, application.submitted_by) == (
        "API",
        "APPROVED",
        operator,
    )
    assert bytes(application.signed_envelope) == signature
    # The API answers with the outcome: the only email is the head's invitation.
    assert [message.to for message in outbox] == [[HEAD_EMAIL]]
    assert "/invite/" in outbox[0].body


def test_a_detached_signature_is_refused_the_payload_travels_inside(client, operator, registration, pki):
    signature = pki.openssl_sign(pki.person(), mis_document(), detached=True)
    assert invalid(put(client, signature)) == {"$.signed_legal_entity_request": ["content_missing"]}
    assert not RegistrationApplication.objects.exists()


def test_one_changed_byte_is_refused_and_nothing_is_stored(client, operator, registration, pki):
    registration.register_clinic()
    signature = pki.openssl_sign(pki.person(), mis_document())
    index = signature.index(b"38782323")  # the EDRPOU inside the signed content
    tampered = signature[:index] + b"9" + signature[index + 1 :]
    entries = invalid(put(client, tampered))
    assert list(entries) == ["$.signed_legal_entity_request"]
    assert entries["$.signed_legal_entity_request"][0] in ("content_mismatch", "bad_signature")
    assert created() == NOTHING
    assert not RegistrationApplication.objects.exists()


@pytest.mark.parametrize(
    ("signer", "document", "record", "expected"),
    [
        ({"drfo": "2904501273"}, {}, True, {"$.owner.tax_id": ["signer_not_head"]}),
        ({"edrpou": "14360570"}, {}, True, {"$.edrpou": ["signer_edrpou_mismatch"]}),
        ({}, {"kveds": ["86.90"]}, True, {"$.kveds": ["kved_primary_care_missing"]}),
        ({}, {"kveds": ["86.21", "99.99"]}, True, {"$.kveds": ["kved_unknown"]}),
        ({}, {}, False, {"$.edrpou": ["edr_not_found"]}),
    ],
    ids=["wrong RNOKPP", "other organisation", "no primary-care KVED", "unknown KVED", "not in the register"],
)
def test_a_refused_application_answers_422_with_the_rule_and_leaves_nothing_behind(
    client, operator, registration, pki, outbox, run_on_commit, signer, document, record, expected
):
    if record:
        registration.register_clinic()
    response = run_on_commit(put, client, pki.openssl_sign(pki.person(**signer), mis_document(**document)))
    assert invalid(response) == expected
    assert response.json()["error"]["invalid"][0]["rules"][0]["description"]
    assert created() == NOTHING
    if signer:  # not the head's signature: nothing is stored and nobody is mailed
        assert not RegistrationApplication.objects.exists()
        assert outbox == []
        return
    # The refused application is kept as evidence, with its reasons; the head is told by email.
    application = RegistrationApplication.objects.get()
    assert application.status == "REJECTED"
    assert [reason["code"] for reason in application.reasons] == [
        rule for rules in expected.values() for rule in rules
    ]
    assert len(outbox) == 1 and "/register/status/" in outbox[0].body


def test_an_invalid_payload_answers_422_with_json_paths(client, operator, registration, pki):
    owner = {**PAYLOAD["owner"], "tax_id": "3185409129"}
    addresses = [{**PAYLOAD["addresses"][0], "zip": "0100"}]
    response = put(client, pki.openssl_sign(pki.person(), mis_document(owner=owner, addresses=addresses)))
    assert invalid(response) == {"$.owner.tax_id": ["rnokpp_checksum"], "$.addresses[0].zip": ["format"]}
    assert not RegistrationApplication.objects.exists()


@pytest.mark.parametrize(
    ("body", "entry", "rule"),
    [
        ({"signed_legal_entity_request": "not base64!"}, "$.signed_legal_entity_request", "base64"),
        ({"signed_content_encoding": "hex"}, "$.signed_content_encoding", "invalid_choice"),
        (
            {"signed_legal_entity_request": base64.b64encode(b"garbage").decode()},
            "$.signed_legal_entity_request",
            "not_a_signature",
        ),
    ],
)
def test_a_malformed_request_answers_422(client, operator, registration, pki, body, entry, rule):
    signature = pki.openssl_sign(pki.person(), mis_document())
    assert invalid(put(client, signature, **body)) == {entry: [rule]}


def test_signed_content_that_is_not_json_answers_422(client, operator, registration, pki):
    response = put(client, pki.openssl_sign(pki.person(), b"\xff not json"))
    assert invalid(response) == {"$.signed_legal_entity_request": ["content_not_json"]}


def test_a_code_with_an_active_facility_answers_409(client, operator, registration, pki):
    registration.register_clinic()
    signature = pki.openssl_sign(pki.person(), mis_document())
    assert put(client, signature).status_code == 201
    response = put(client, signature)
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "request_conflict"
    assert created()["LegalEntity"] == 1
    assert RegistrationApplication.objects.count() == 1


def test_a_sole_proprietor_the_register_cannot_identify_answers_202(client, operator, registration, pki):
    data = registration.fop_payload()
    response = put(client, pki.openssl_sign(pki.person(**FOP_HEAD), json.dumps(data).encode()))
    assert response.status_code == 202, response.content
    body = response.json()["data"]
    application = RegistrationApplication.objects.get()
    assert (body["id"], body["status"]) == (str(application.pk), "WAITING_OPERATOR")
    assert [check["step"] for check in body["checks"]] == ["SIGNATURE", "KVEDS", "STATE_REGISTER"]
    assert created() == NOTHING


@pytest.mark.parametrize(("user", "status"), [(None, 401), ("user", 403)])
def test_only_operators_may_use_the_legal_entities_api(client, registration, pki, user, status):
    if user:
        client.force_login(UserFactory())
    signature = pki.openssl_sign(pki.person(), mis_document())
    assert put(client, signature).status_code == status
    assert client.get(URL).status_code == status
    assert not RegistrationApplication.objects.exists()


# --- GET ------------------------------------------------------------------------------------------------------


@pytest.fixture
def facility(client, operator, registration, pki):
    registration.register_clinic()
    assert put(client, pki.openssl_sign(pki.person(), mis_document())).status_code == 201
    return LegalEntity.objects.get()


def test_list_in_ehealth_shape_with_paging(client, facility):
    body = client.get(URL).json()
    assert body["meta"]["type"] == "list"
    assert body["paging"] == {"page_number": 1, "page_size": 50, "total_entries": 1, "total_pages": 1}
    assert [item["id"] for item in body["data"]] == [str(facility.pk)]
    assert set(body["data"][0]) >= {
        "name",
        "edrpou",
        "kveds",
        "addresses",
        "medical_service_provider",
        "status",
    }


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"edrpou": CLINIC_EDRPOU}, True),
        ({"edrpou": "14360570"}, False),
        ({"status": "ACTIVE"}, True),
        ({"status": "CLOSED"}, False),
        ({"nhs_verified": "false"}, True),
        ({"nhs_verified": "true"}, False),
        ({"type": "MSP", "owner_property_type": "PRIVATE"}, True),
        ({"settlement": "Київ"}, True),
        ({"settlement": "Одеса"}, False),
    ],
)
def test_list_filters(client, facility, query, found):
    body = client.get(URL, query).json()
    assert [item["id"] for item in body["data"]] == ([str(facility.pk)] if found else [])


def test_list_filter_by_id_and_bad_filters(client, facility):
    assert client.get(URL, {"legal_entity_id": str(facility.pk)}).json()["paging"]["total_entries"] == 1
    assert invalid(client.get(URL, {"legal_entity_id": "nope", "status": "GONE"})) == {
        "$.legal_entity_id": ["invalid"],
        "$.status": ["invalid_choice"],
    }
    assert invalid(client.get(URL, {"page_size": "500"})) == {"$.page_size": ["max_value"]}


@pytest.mark.parametrize(
    ("query", "rule"),
    [
        ({"page": "99999999999999999999"}, "max_value"),  # was a bigint overflow in the OFFSET (500)
        ({"page": "²"}, "invalid"),  # a digit to str.isdigit, not to int() (500)
        ({"page": "1" * 5000}, "max_string_length"),
        ({"page_size": "0"}, "min_value"),
    ],
)
def test_a_page_out_of_range_is_a_422_on_that_parameter(client, facility, query, rule):
    assert invalid(client.get(URL, query)) == {f"$.{next(iter(query))}": [rule]}


def test_a_page_past_the_last_is_empty_and_the_largest_page_does_not_overflow(client, facility):
    for page in (2, 2**31 - 1):
        body = client.get(URL, {"page": page, "page_size": 100}).json()
        assert body["data"] == []
        assert body["paging"]["page_number"] == page
        assert body["paging"]["total_entries"] == 1


def test_an_empty_filter_is_no_filter_as_in_ehealth(client, facility):
    query = dict.fromkeys(["edrpou", "nhs_verified", "status", "settlement", "page", "page_size"], "")
    body = client.get(URL, query).json()
    assert [item["id"] for item in body["data"]] == [str(facility.pk)]
    assert body["paging"]["page_size"] == 50


def test_detail_and_not_found(client, facility):
    body = client.get(f"{URL}/{facility.pk}").json()
    assert body["meta"]["type"] == "object"
    assert body["data"]["id"] == str(facility.pk)
    assert body["data"]["name"] == facility.name
    missing = client.get(f"{URL}/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize("path", ["null,null", "nope", f"{'0' * 32}/more", ""])
def test_an_id_that_is_not_a_uuid_is_the_envelope_404(client, operator, path):
    response = client.get(f"{URL}/{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "not_found"


def test_signed_content_nested_too_deep_is_refused_not_a_server_error(client, operator, registration, pki):
    """Even a valid signature's content is not parsed into a RecursionError."""
    document = b"[" * 5000 + b"]" * 5000
    entries = invalid(put(client, pki.openssl_sign(pki.person(), document)))
    assert entries == {"$.signed_legal_entity_request": ["content_not_json"]}
    assert not RegistrationApplication.objects.exists()


def test_list_and_detail_keep_a_constant_number_of_queries_and_follow_changes(
    client, facility, django_assert_num_queries
):
    fields = {
        field.attname: getattr(facility, field.attname)
        for field in LegalEntity._meta.concrete_fields
        if field.name not in ("id", "created_at", "updated_at")
    }
    for number in range(30):
        LegalEntity.objects.create(**{**fields, "edrpou": f"{10000000 + number}"})
    client.get(f"{URL}?page_size=50")  # renders and caches each facility's JSON
    # Warm: only the session, its user and their second factor; the page comes from the cache.
    with django_assert_num_queries(3):
        body = client.get(f"{URL}?page_size=50").json()
    assert len(body["data"]) == 31
    client.get(f"{URL}/{facility.pk}")
    with django_assert_num_queries(3):
        assert client.get(f"{URL}/{facility.pk}").json()["data"]["email"] == facility.email
    other_page = client.get(f"{URL}?page_size=10&page=2").json()["data"]
    assert len(other_page) == 10  # another page, another key
    facility.email = "new@clinic.example"
    facility.save()
    assert client.get(f"{URL}/{facility.pk}").json()["data"]["email"] == "new@clinic.example"
    listed = {item["id"]: item for item in client.get(f"{URL}?page_size=50").json()["data"]}
    assert listed[str(facility.pk)]["email"] == "new@clinic.example"
