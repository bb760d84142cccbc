"""Operators' API keys: created in the admin, shown once, stored hashed, refused when wrong or revoked."""

import re

import pytest

from ehealth_portal.models import ApiKey
from tests.factories import SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/legal_entities"


def key_for(user, **fields):
    _api_key, key = ApiKey.objects.create_key(name="script", user=user, **fields)
    return key


def test_an_operator_creates_a_key_in_the_admin_and_sees_it_once(client):
    operator = SuperuserFactory()
    client.force_login(operator)
    response = client.post(
        "/admin/portal/apikey/add/", {"name": "MIS test", "user": operator.pk}, follow=True
    )
    shown = re.search(r"The API key for MIS test is: ([\w.]+)\.", response.content.decode()).group(1)
    stored = ApiKey.objects.get(name="MIS test")
    assert shown not in stored.hashed_key and stored.hashed_key.startswith("sha512$$")
    assert shown not in client.get(f"/admin/portal/apikey/{stored.pk}/change/").content.decode()


def test_a_valid_key_calls_the_api_as_its_user(client):
    key = key_for(SuperuserFactory())
    response = client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200
    assert response.json()["meta"]["type"] == "list"


@pytest.mark.parametrize("mutate", ["wrong", "revoked", "inactive user"])
def test_a_bad_key_is_a_401(client, mutate):
    user = SuperuserFactory()
    key = key_for(user)
    if mutate == "wrong":
        key = key[:-2] + ("aa" if not key.endswith("aa") else "bb")
    elif mutate == "revoked":
        ApiKey.objects.filter(user=user).update(revoked=True)
    else:
        user.is_active = False
        user.save(update_fields=["is_active"])
    response = client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_key_of_a_non_operator_is_refused_by_operator_endpoints(client):
    response = client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {key_for(UserFactory())}")
    assert response.status_code == 403
