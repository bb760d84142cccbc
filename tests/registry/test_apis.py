import pytest

from registry.services import global_parameter_set
from tests.factories import DictionaryFactory, DictionaryValueFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dictionaries():
    gender = DictionaryFactory(name="GENDER", labels=["SYSTEM", "EXTERNAL"])
    DictionaryValueFactory(dictionary=gender, key="MALE", label="Чоловіча", position=1)
    DictionaryValueFactory(dictionary=gender, key="FEMALE", label="Жіноча", position=2)
    DictionaryValueFactory(dictionary=gender, key="OTHER", label="Інша", position=3, is_active=False)
    DictionaryFactory(name="OLD_DICTIONARY", labels=["SYSTEM"], is_active=False)


def test_dictionaries_list_in_ehealth_shape(client, dictionaries):
    response = client.get("/api/dictionaries")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["code"] == 200
    assert body["meta"]["type"] == "list"
    assert body["meta"]["url"] == "http://testserver/api/dictionaries"
    assert "paging" not in body  # eHealth returns every dictionary at once
    assert body["data"] == [
        {
            "name": "GENDER",
            "values": {"MALE": "Чоловіча", "FEMALE": "Жіноча"},  # deactivated values are omitted
            "labels": ["SYSTEM", "EXTERNAL"],
            "is_active": True,
        },
        {"name": "OLD_DICTIONARY", "values": {}, "labels": ["SYSTEM"], "is_active": False},
    ]
    assert list(body["data"][0]["values"]) == ["MALE", "FEMALE"]  # display order


def test_dictionaries_is_public_for_anonymous_and_signed_in_users(client, dictionaries):
    assert client.get("/api/dictionaries").status_code == 200
    client.force_login(UserFactory())
    assert client.get("/api/dictionaries").status_code == 200


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?name=GENDER", ["GENDER"]),
        ("?name=NO_SUCH", []),
        ("?is_active=true", ["GENDER"]),
        ("?is_active=false", ["OLD_DICTIONARY"]),
        ("?is_active=", ["GENDER", "OLD_DICTIONARY"]),
        ("?name=", ["GENDER", "OLD_DICTIONARY"]),  # empty is no filter, as in eHealth
        ("?name=%20GENDER", []),  # taken as given, not trimmed into a refusal
        ("?name=%09", []),
        ("?name=GENDER&is_active=false", []),
        ("?unknown=1", ["GENDER", "OLD_DICTIONARY"]),
    ],
)
def test_dictionaries_filters(client, dictionaries, query, names):
    response = client.get(f"/api/dictionaries{query}")
    assert response.status_code == 200
    assert [item["name"] for item in response.json()["data"]] == names


def test_dictionaries_bad_filter_is_422(client, dictionaries):
    response = client.get("/api/dictionaries?is_active=maybe")

    assert response.status_code == 422
    body = response.json()
    assert body["meta"]["code"] == 422
    assert body["error"]["type"] == "validation_failed"
    assert [entry["entry"] for entry in body["error"]["invalid"]] == ["$.is_active"]
    assert body["error"]["invalid"][0]["rules"][0]["rule"] == "invalid"


def test_dictionaries_query_count(
    client, dictionaries, django_assert_max_num_queries, django_assert_num_queries
):
    with django_assert_max_num_queries(2):  # dictionaries + their values, however many there are
        client.get("/api/dictionaries")
    with django_assert_num_queries(0):  # then served from the cache until the data changes
        assert client.get("/api/dictionaries?is_active=true").status_code == 200
        assert client.get("/api/dictionaries").status_code == 200


def test_dictionaries_answer_conditional_gets(client, dictionaries):
    first = client.get("/api/dictionaries")
    assert first["Cache-Control"] == "public, max-age=60"
    assert first["ETag"] and first["Last-Modified"]
    again = client.get("/api/dictionaries", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    since = client.get("/api/dictionaries", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_an_operators_change_is_served_at_once_with_a_new_etag(client, dictionaries, admin_client):
    from registry.models import DictionaryValue

    first = client.get("/api/dictionaries?name=GENDER")
    value = DictionaryValue.objects.get(key="FEMALE")
    response = admin_client.post(
        f"/admin/registry/dictionaryvalue/{value.pk}/change/",
        {
            "dictionary": value.dictionary_id,
            "key": "FEMALE",
            "label": "Жіноча стать",
            "position": 2,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    changed = client.get("/api/dictionaries?name=GENDER", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed.json()["data"][0]["values"]["FEMALE"] == "Жіноча стать"
    assert changed["ETag"] != first["ETag"]
    # A bulk change (the loaders, queryset updates) invalidates as well.
    DictionaryValue.objects.filter(key="MALE").update(is_active=False)
    assert list(client.get("/api/dictionaries?name=GENDER").json()["data"][0]["values"]) == ["FEMALE"]


def test_validation_lookups_follow_the_dictionaries(dictionaries, django_assert_num_queries):
    from registry.models import DictionaryValue
    from registry.selectors import dictionary_choices, dictionary_has_key, dictionary_value_label

    assert dictionary_has_key(name="GENDER", key="MALE")
    with django_assert_num_queries(0):
        assert not dictionary_has_key(name="GENDER", key="OTHER")  # deactivated
        assert dictionary_value_label(name="GENDER", key="OTHER") == "Інша"  # still displayed
        assert dictionary_choices(name="GENDER") == [("MALE", "Чоловіча"), ("FEMALE", "Жіноча")]
        assert dictionary_choices(name="NO_SUCH") == []
    DictionaryValue.objects.filter(key="OTHER").update(is_active=True)
    assert dictionary_has_key(name="GENDER", key="OTHER")


def test_global_parameters(client):
    global_parameter_set(name="adult_age", value="18")
    global_parameter_set(name="declaration_term_unit", value="DAYS")

    response = client.get("/api/global_parameters")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["type"] == "object"
    assert body["data"] == {"adult_age": "18", "declaration_term_unit": "DAYS"}


def test_write_methods_are_not_allowed(client):
    assert client.post("/api/dictionaries", {}, content_type="application/json").status_code == 405
    assert client.put("/api/global_parameters", {}, content_type="application/json").status_code == 405


def test_schema_documents_the_endpoints(admin_client):
    response = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    data = paths["/api/dictionaries"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert data["properties"]["data"]["type"] == "array"
    assert "/api/global_parameters" in paths
