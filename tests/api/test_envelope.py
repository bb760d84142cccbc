import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls")]

VALID = {
    "edrpou": "38782323",
    "owner": {"last_name": "Шевченко", "phones": [{"type": "MOBILE", "number": "+380501234567"}]},
}


def post(client, body, **extra):
    return client.post("/api/echo", body, content_type="application/json", **extra)


def test_a_success_is_wrapped_with_meta_and_data(client):
    response = post(client, VALID, HTTP_X_REQUEST_ID="req-12345678")
    body = response.json()
    assert response.status_code == 201
    assert body["meta"] == {
        "code": 201,
        "url": "http://testserver/api/echo",
        "type": "object",
        "request_id": "req-12345678",
    }
    assert body["data"]["owner"]["last_name"] == "Шевченко"
    assert response["X-Request-ID"] == "req-12345678"


def test_validation_errors_are_422_with_the_json_path_of_each_failing_field(client):
    body = {
        "edrpou": "123456789",
        "owner": {
            "phones": [{"type": "MOBILE", "number": "+380501234567"}, {"type": "FAX", "number": "123"}]
        },
    }
    response = post(client, body)
    error = response.json()["error"]
    assert response.status_code == 422
    assert error["type"] == "validation_failed"
    entries = {entry["entry"]: [rule["rule"] for rule in entry["rules"]] for entry in error["invalid"]}
    assert entries == {
        "$.edrpou": ["max_length"],
        "$.owner.last_name": ["required"],
        "$.owner.phones[1].type": ["invalid_choice"],
        "$.owner.phones[1].number": ["invalid"],
    }


def test_a_service_validation_error_is_422_too(client):
    response = post(client, {**VALID, "edrpou": "00000000"})
    assert response.status_code == 422
    assert response.json()["error"]["invalid"][0]["entry"] == "$.edrpou"


def test_a_status_conflict_is_409(client):
    response = post(client, {**VALID, "edrpou": "99999999"})
    assert response.status_code == 409
    assert response.json()["error"] == {
        "type": "request_conflict",
        "message": "LegalEntity is CLOSED and cannot be updated.",
    }


def test_malformed_json_is_a_clear_400_not_a_500(client):
    response = client.post("/api/echo", '{"edrpou": "1234', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "request_malformed"


def test_an_oversized_body_is_refused_with_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, {**VALID, "owner": {**VALID["owner"], "last_name": "Ш" * 2000}})
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"


def test_anonymous_access_to_a_protected_endpoint_is_refused(client):
    response = client.get("/api/protected")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "access_denied"
    assert "data" not in response.json()


def test_lists_are_paged_the_ehealth_way(client):
    body = client.get("/api/numbers", {"page": 3, "page_size": 50}).json()
    assert body["meta"]["type"] == "list"
    assert body["data"] == list(range(101, 121))
    assert body["paging"] == {"page_number": 3, "page_size": 50, "total_entries": 120, "total_pages": 3}


@pytest.mark.parametrize("params", [{"page_size": 101}, {"page_size": 0}, {"page": "x"}])
def test_a_bad_paging_parameter_is_a_422_on_that_parameter(client, params):
    response = client.get("/api/numbers", params)
    assert response.status_code == 422
    assert response.json()["error"]["invalid"][0]["entry"] == f"$.{next(iter(params))}"


def test_urgent_secrets_travel_beside_the_data(client):
    body = client.get("/api/urgent").json()
    assert body["data"] == {"id": 1}
    assert body["urgent"] == {"security": {"secret_key": "shown once"}}
