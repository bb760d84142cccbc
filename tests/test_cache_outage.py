"""The cache (Redis) down: reads are still served, rate-limited writes are refused with a 503, never a 500.

The cache points at a Redis address where nothing listens: a real client and a real refused connection.
"""

import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext

from tests.accounts.helpers import create_account
from tests.factories import AppealFactory, CnapFactory, CnapSystemFactory, DictionaryFactory, UserFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = ("127.0.0.1", 6390)


@pytest.fixture(autouse=True)
def cache_down(settings):
    with socket.socket() as probe:
        if probe.connect_ex(DEAD_REDIS) == 0:
            pytest.skip(f"something listens on {DEAD_REDIS}: the cache would not be down")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{DEAD_REDIS[0]}:{DEAD_REDIS[1]}/0",
        }
    }


def unavailable_text() -> str:
    with translation.override("uk"):
        return gettext("The service is temporarily unavailable. Please try again in a few minutes.")


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert unavailable_text() in response.content.decode()
    assert "Сервіс тимчасово недоступний" in response.content.decode()  # Ukrainian, not the source


def test_login_page_is_served(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_signing_in_is_refused_with_503_and_signs_nobody_in(client):
    user = create_account("doctor@clinic.example")
    response = client.post("/accounts/login/", {"login": user.email, "password": "correct-horse-battery-17"})
    assert_unavailable_page(response)
    assert "_auth_user_id" not in client.session


def test_signature_check_page_is_served_and_a_check_is_refused_with_503(client):
    assert client.get("/signatures/check/").status_code == 200
    upload = SimpleUploadedFile("doc.p7s", b"not a signature", content_type="application/octet-stream")
    assert_unavailable_page(client.post("/signatures/check/", {"signature": upload}))


def test_regional_summary_is_computed_without_the_cache(client):
    system = CnapSystemFactory(cnap=CnapFactory(code="1001", name="ЦНАП Бучі", region="Київська область"))
    AppealFactory(system=system)
    response = client.get("/monitoring/regions/", {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert response.status_code == 200
    assert response.context["figures"].total.appeals == 1


def test_api_read_is_served(client):
    DictionaryFactory(name="GENDER", labels=["SYSTEM"])
    response = client.get("/api/dictionaries")
    assert response.status_code == 200
    assert response.json()["data"][0]["name"] == "GENDER"


def test_api_write_is_refused_with_the_envelope_503(client):
    client.force_login(UserFactory())
    response = client.post(
        "/api/digital_signatures",
        {"signed_content": "AAAA", "signed_content_encoding": "base64"},
        content_type="application/json",
    )
    assert response.status_code == 503
    body = response.json()
    assert body["meta"]["code"] == 503
    assert body["error"]["type"] == "service_unavailable"
    assert body["error"]["message"] == unavailable_text()
