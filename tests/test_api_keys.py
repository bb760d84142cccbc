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
    shown = re.search(r"Ключ API «MIS test»: ([\w.]+)\.", response.content.decode()).group(1)
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


def test_a_used_key_revoked_or_its_user_withdrawn_in_the_admin_is_refused_at_once(client):
    """Keys are remembered per process after first use; a change through the admin forgets them."""
    operator = SuperuserFactory()
    key = key_for(operator)
    assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    api_key = ApiKey.objects.get(user=operator)
    api_key.revoked = True
    api_key.save()
    assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 401

    other = SuperuserFactory()
    other_key = key_for(other)
    assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {other_key}").status_code == 200
    other.is_staff = False
    other.save()
    assert client.get(LIST_URL, HTTP_AUTHORIZATION=f"Api-Key {other_key}").status_code == 403


def test_a_read_with_a_known_key_makes_no_query_for_the_key(client, django_assert_num_queries):
    key = key_for(SuperuserFactory())
    url = "/api/legal_entities?page_size=5"
    assert client.get(url, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    with django_assert_num_queries(0):  # key, user and the cached page: nothing from the database
        assert client.get(url, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
