import pytest
from django.urls import reverse

from registry.models import GlobalParameter
from tests.factories import (
    DictionaryFactory,
    DictionaryValueFactory,
    GlobalParameterFactory,
    SuperuserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(SuperuserFactory())
    return client


@pytest.fixture
def gender():
    dictionary = DictionaryFactory(name="GENDER")
    DictionaryValueFactory(dictionary=dictionary, key="MALE", label="Чоловіча")
    DictionaryValueFactory(dictionary=dictionary, key="FEMALE", label="Жіноча")
    return dictionary


@pytest.mark.parametrize("model", ["dictionary", "dictionaryvalue", "globalparameter"])
def test_changelist_and_add_pages_load(superuser_client, gender, model):
    GlobalParameterFactory(name="adult_age", value="18")
    assert superuser_client.get(reverse(f"admin:registry_{model}_changelist")).status_code == 200
    assert superuser_client.get(reverse(f"admin:registry_{model}_add")).status_code == 200


def test_dictionary_change_page_shows_values_inline(superuser_client, gender):
    response = superuser_client.get(reverse("admin:registry_dictionary_change", args=[gender.pk]))
    assert response.status_code == 200
    assert "Чоловіча" in response.content.decode()


def test_dictionary_search_by_value_key_or_label(superuser_client, gender):
    DictionaryFactory(name="POSITION")
    url = reverse("admin:registry_dictionary_changelist")
    for query in ("FEMALE", "Жіноча", "GENDER"):
        response = superuser_client.get(url, {"q": query})
        assert [d.name for d in response.context["cl"].result_list] == ["GENDER"]


def test_value_and_parameter_change_pages_load(superuser_client, gender):
    parameter = GlobalParameterFactory(name="adult_age", value="18")
    value = gender.values.first()
    assert (
        superuser_client.get(reverse("admin:registry_dictionaryvalue_change", args=[value.pk])).status_code
        == 200
    )
    assert (
        superuser_client.get(
            reverse("admin:registry_globalparameter_change", args=[parameter.pk])
        ).status_code
        == 200
    )


def test_admin_rejects_a_non_numeric_integer_parameter(superuser_client):
    parameter = GlobalParameterFactory(name="adult_age", value="18")
    url = reverse("admin:registry_globalparameter_change", args=[parameter.pk])

    response = superuser_client.post(url, {"name": "adult_age", "value": "вісімнадцять", "description": ""})

    assert response.status_code == 200  # the form is shown again with the error
    assert response.context["adminform"].form.errors["value"]
    assert GlobalParameter.objects.get(pk=parameter.pk).value == "18"


def test_admin_is_closed_to_users_who_are_not_operators(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:registry_dictionary_changelist"))
    assert response.status_code == 302
