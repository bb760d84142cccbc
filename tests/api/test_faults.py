"""Abusive requests get a 4xx in the eHealth envelope, never a 500 or an HTML page (issue 9, item 11)."""

import pytest

from registry.models import RegistrationApplication
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(SuperuserFactory())


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["meta"]["code"] == status
    return body["error"]


def nested(depth: int, leaf: str = '"x"') -> str:
    return '{"signed_content": ' + "[" * (depth - 1) + leaf + "]" * (depth - 1) + "}"


@pytest.mark.parametrize(
    ("method", "url"), [("put", "/api/legal_entities"), ("post", "/api/digital_signatures")]
)
@pytest.mark.parametrize("body", [nested(5000), "[" * 100_000, '{"a": ' * 2000 + "1" + "}" * 2000])
def test_json_nested_too_deep_is_refused_as_malformed_before_parsing(client, operator, method, url, body):
    response = getattr(client, method)(url, body, content_type="application/json")
    refusal = error(response, 400)
    assert refusal["type"] == "request_malformed"
    assert "32" in refusal["message"]
    assert not RegistrationApplication.objects.exists()


def test_json_as_deep_as_allowed_reaches_validation(client, operator):
    response = client.post("/api/digital_signatures", nested(32), content_type="application/json")
    entries = {entry["entry"] for entry in error(response, 422)["invalid"]}
    assert entries == {"$.signed_content", "$.signed_content_encoding"}


def test_brackets_inside_strings_do_not_count_as_nesting(client, operator):
    body = '{"signed_content": "' + "[{" * 100 + '\\"[", "signed_content_encoding": "base64"}'
    response = client.post("/api/digital_signatures", body, content_type="application/json")
    assert [entry["entry"] for entry in error(response, 422)["invalid"]] == ["$.signed_content"]


@pytest.mark.parametrize(
    ("url", "request_kwargs", "status", "error_type"),
    [
        ("/api/schema/", {"HTTP_ACCEPT": "text/html"}, 406, "not_acceptable"),
        ("/api/schema/", {"data": {"format": "xml"}}, 404, "not_found"),
        ("/api/schema/", {"HTTP_AUTHORIZATION": "Api-Key abc.def"}, 401, "access_denied"),
        ("/api/docs/", {"HTTP_ACCEPT": "application/json"}, 406, "not_acceptable"),
        ("/api/docs/", {"HTTP_AUTHORIZATION": "Api-Key abc.def"}, 401, "access_denied"),
    ],
)
def test_schema_and_docs_errors_are_in_the_envelope(client, url, request_kwargs, status, error_type):
    assert error(client.get(url, **request_kwargs), status)["type"] == error_type


def test_the_schema_and_its_docs_are_still_served(client):
    assert client.get("/api/schema/").content.startswith(b"openapi: 3.0.3")
    assert b"swagger-ui" in client.get("/api/docs/", HTTP_ACCEPT="text/html").content
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["openapi"] == "3.0.3"


def test_an_unacceptable_accept_header_is_a_406_on_any_endpoint(client):
    assert error(client.get("/api/dictionaries", HTTP_ACCEPT="text/html"), 406)["type"] == "not_acceptable"


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("url", ["/api/", "/api/nothing", "/api/legal_entities/", "/api/dictionaries/x/y"])
def test_an_unknown_url_under_api_is_the_envelope_404(client, method, url):
    response = getattr(client, method)(url)
    assert error(response, 404)["type"] == "not_found"
    assert response.json()["meta"]["url"] == f"http://testserver{url}"


@pytest.mark.parametrize("headers", [{"HTTP_AUTHORIZATION": "Api-Key abc.def"}, {"HTTP_ACCEPT": "text/html"}])
def test_an_unknown_url_is_a_404_whatever_the_headers(client, headers):
    assert error(client.get("/api/nothing", **headers), 404)["type"] == "not_found"


def test_outside_the_api_a_404_is_still_the_portal_page_and_slashes_are_appended(client):
    page = client.get("/nothing-here/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert client.get("/api/docs").headers["Location"] == "/api/docs/"
