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


# --- Registry: state register, facilities and people ----------------------------------------------


def _edr_name_key(record) -> str:
    from registry.edr import name_key  # the register's own normalisation

    return name_key(record.name)


class EdrRecordFactory(factory.django.DjangoModelFactory):
    """A state-register record; registered (зареєстровано) unless told otherwise."""

    class Meta:
        model = "registry.EdrRecord"

    record_key = factory.Sequence(lambda n: f"test-{n:08d}")
    kind = "UO"
    code = factory.Sequence(lambda n: f"{n:08d}")
    name = factory.Sequence(lambda n: f"ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ «КЛІНІКА {n}»")
    short_name = ""
    name_key = factory.LazyAttribute(_edr_name_key)
    state = "зареєстровано"
    is_registered = factory.LazyAttribute(lambda record: record.state == "зареєстровано")
    heads = factory.LazyFunction(list)
    kveds = factory.LazyFunction(list)
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
