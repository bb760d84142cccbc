"""The public signature check page and POST /api/digital_signatures, on real OpenSSL signatures."""

import base64
import re
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import UserFactory

from .conftest import CONTENT, openssl_sign

pytestmark = pytest.mark.django_db

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_page_shows_whose_signature_it_is(client, test_pki, tmp_path):
    signature = openssl_sign(test_pki["rsa"], tmp_path=tmp_path)
    html = client.post("/signatures/check/", {"signature": upload("doc.p7s", signature)}).content.decode()
    assert "Підпис дійсний" in html
    assert "Шевченко Тарас Григорович" in html
    assert "3067305998" in html and "37367387" in html


def test_a_detached_signature_is_checked_against_the_uploaded_document(client, test_pki, tmp_path):
    signature = openssl_sign(test_pki["ec"], detached=True, tmp_path=tmp_path)
    ok = client.post(
        "/signatures/check/", {"signature": upload("d.p7s", signature), "content": upload("d.json", CONTENT)}
    )
    assert "Підпис дійсний" in ok.content.decode()
    changed = client.post(
        "/signatures/check/",
        {"signature": upload("d.p7s", signature), "content": upload("d.json", CONTENT.replace(b"42", b"43"))},
    )
    assert changed.context["form"].errors["signature"] == ["Підписаний вміст не відповідає підпису."]


@pytest.mark.parametrize(
    ("person", "code"),
    [("unknown", "unknown_ca"), ("expired", "certificate_expired"), ("revoked", "certificate_revoked")],
)
def test_a_refused_signature_gets_its_specific_reason_next_to_the_field(
    client, test_pki, tmp_path, person, code
):
    signature = openssl_sign(test_pki[person], tmp_path=tmp_path)
    response = client.post("/signatures/check/", {"signature": upload("doc.p7s", signature)})
    form = response.context["form"]
    assert form.errors.as_data()["signature"][0].code == code
    assert "Підпис дійсний" not in response.content.decode()


def test_an_oversized_upload_is_refused_before_parsing(client, settings):
    settings.SIGNATURE_MAX_BYTES = 1000
    response = client.post("/signatures/check/", {"signature": upload("big.p7s", b"0" * 5000)})
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["signature"][0].code == "too_large"


def test_a_file_that_is_not_a_signature_is_a_form_error_not_a_500(client):
    response = client.post(
        "/signatures/check/", {"signature": upload("photo.jpg", b"\xff\xd8\xff\xe0 not cms")}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["signature"][0].code == "not_a_signature"


def test_checking_is_rate_limited(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signature_check": "3/m/ip"}
    codes = [
        client.post("/signatures/check/", {"signature": upload("x.p7s", b"x")}).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def api_post(client, signed, **extra):
    body = {"signed_content": base64.b64encode(signed).decode(), "signed_content_encoding": "base64", **extra}
    return client.post("/api/digital_signatures", body, content_type="application/json")


def test_the_api_returns_the_content_and_the_signer(client, test_pki, tmp_path):
    client.force_login(UserFactory())
    response = api_post(client, openssl_sign(test_pki["p384"], tmp_path=tmp_path))
    data = response.json()["data"]
    assert response.status_code == 200
    assert base64.b64decode(data["content"]) == CONTENT
    assert data["signers"][0]["drfo"] == "3067305998"


def test_the_api_refuses_a_tampered_signature_with_422_on_signed_content(client, test_pki, tmp_path):
    client.force_login(UserFactory())
    signed = bytearray(openssl_sign(test_pki["rsa"], tmp_path=tmp_path))
    signed[signed.find(b'"id": 42') + 7] ^= 0x01  # 42 -> 43 inside the attached content
    response = api_post(client, bytes(signed))
    entry = response.json()["error"]["invalid"][0]
    assert response.status_code == 422
    assert entry["entry"] == "$.signed_content"
    assert entry["rules"][0]["rule"] == "content_mismatch"


def test_the_api_refuses_bad_base64_and_anonymous_callers(client):
    assert client.post("/api/digital_signatures", {}, content_type="application/json").status_code == 401
    client.force_login(UserFactory())
    response = client.post(
        "/api/digital_signatures",
        {"signed_content": "%%%", "signed_content_encoding": "base64"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["invalid"][0]["rules"][0]["rule"] == "base64"


@pytest.mark.parametrize(
    "text", ["0", "00", "000", "A===", "AAAA", "AA==", "AAA=", "AAAAAA==", "AA=A", "%%%%"]
)
def test_the_schema_declares_exactly_the_base64_the_api_accepts(client, text):
    """docs/openapi.yaml's pattern for signed_content: what it allows is never refused as bad base64."""
    pattern = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]["InputRequest"]["properties"][
        "signed_content"
    ]["pattern"]
    client.force_login(UserFactory())
    response = client.post(
        "/api/digital_signatures",
        {"signed_content": text, "signed_content_encoding": "base64"},
        content_type="application/json",
    )
    rules = {rule["rule"] for entry in response.json()["error"]["invalid"] for rule in entry["rules"]}
    assert ("base64" not in rules) == bool(re.fullmatch(pattern, text))
