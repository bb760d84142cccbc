"""factory_boy factories shared by the test suite (one section per app)."""

import factory
from django.contrib.auth import get_user_model

from registry.models import Dictionary, DictionaryValue, GlobalParameter

# --- Accounts -------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


# --- Registry: reference data ---------------------------------------------------------------------


class DictionaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dictionary
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"TEST_DICTIONARY_{n}")
    labels = factory.LazyFunction(lambda: ["SYSTEM", "EXTERNAL"])
    is_active = True


class DictionaryValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DictionaryValue

    dictionary = factory.SubFactory(DictionaryFactory)
    key = factory.Sequence(lambda n: f"KEY_{n}")
    label = factory.Sequence(lambda n: f"Значення {n}")
    position = factory.Sequence(lambda n: n)
    is_active = True


class GlobalParameterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GlobalParameter
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"test_parameter_{n}")
    value = "1"
    description = ""
