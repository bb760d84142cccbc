import datetime

import pytest
from django.core.exceptions import ValidationError

from registry.models import TermUnit
from registry.selectors import (
    GlobalParameterMissing,
    Term,
    dictionary_choices,
    dictionary_has_key,
    dictionary_value_label,
    global_parameter_declaration_limit,
    global_parameter_get,
    global_parameter_int,
    global_parameter_term,
    global_parameters_as_dict,
)
from registry.services import global_parameter_set
from tests.factories import DictionaryFactory, DictionaryValueFactory, GlobalParameterFactory

pytestmark = pytest.mark.django_db


def test_global_parameter_int():
    GlobalParameterFactory(name="adult_age", value="18")
    assert global_parameter_int(name="adult_age") == 18


def test_missing_global_parameter():
    with pytest.raises(GlobalParameterMissing, match="adult_age"):
        global_parameter_int(name="adult_age")
    assert global_parameter_int(name="adult_age", default=18) == 18
    assert global_parameter_get(name="anything", default="x") == "x"


def test_global_parameter_int_rejects_text():
    GlobalParameterFactory(name="free_text", value="abc")
    with pytest.raises(ValueError, match="free_text"):
        global_parameter_int(name="free_text")


def test_global_parameter_term():
    GlobalParameterFactory(name="declaration_term", value="365")
    GlobalParameterFactory(name="declaration_term_unit", value="DAYS")
    term = global_parameter_term(name="declaration_term", unit_name="declaration_term_unit")
    assert term == Term(amount=365, unit=TermUnit.DAYS)
    start = datetime.datetime(2025, 1, 1, 12, tzinfo=datetime.UTC)
    assert term.after(start) == datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("amount", "unit", "expected"),
    [
        (90, TermUnit.SECONDS, datetime.datetime(2024, 1, 31, 10, 1, 30)),
        (24, TermUnit.HOURS, datetime.datetime(2024, 2, 1, 10)),
        (1, TermUnit.MONTHS, datetime.datetime(2024, 2, 29, 10)),  # clamped to the month end
        (13, TermUnit.MONTHS, datetime.datetime(2025, 2, 28, 10)),
        (1, TermUnit.YEARS, datetime.datetime(2025, 1, 31, 10)),
    ],
)
def test_term_after(amount, unit, expected):
    assert Term(amount=amount, unit=unit).after(datetime.datetime(2024, 1, 31, 10)) == expected


def test_declaration_limit_by_speciality():
    GlobalParameterFactory(name="declaration_limit_therapist", value="2000")
    assert global_parameter_declaration_limit(speciality_type="THERAPIST") == 2000
    assert global_parameter_declaration_limit(speciality_type="PHARMACIST") is None


def test_global_parameters_as_dict():
    GlobalParameterFactory(name="b_parameter", value="2")
    GlobalParameterFactory(name="a_parameter", value="1")
    assert global_parameters_as_dict() == {"a_parameter": "1", "b_parameter": "2"}


def test_global_parameter_set_validates_known_parameters():
    global_parameter_set(name="adult_age", value="18", description="Вік повноліття")
    parameter = global_parameter_set(name="adult_age", value="21")
    assert (parameter.value, parameter.description) == ("21", "Вік повноліття")
    with pytest.raises(ValidationError) as excinfo:
        global_parameter_set(name="adult_age", value="-1")
    assert "value" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        global_parameter_set(name="declaration_term_unit", value="WEEKS")
    with pytest.raises(ValidationError):
        global_parameter_set(name="Bad Name", value="1")
    assert global_parameter_int(name="adult_age") == 21


def test_dictionary_choices_and_keys():
    gender = DictionaryFactory(name="GENDER")
    DictionaryValueFactory(dictionary=gender, key="FEMALE", label="Жіноча", position=2)
    DictionaryValueFactory(dictionary=gender, key="MALE", label="Чоловіча", position=1)
    DictionaryValueFactory(dictionary=gender, key="UNKNOWN", label="Невідома", position=3, is_active=False)

    assert dictionary_choices(name="GENDER") == [("MALE", "Чоловіча"), ("FEMALE", "Жіноча")]
    assert dictionary_choices(name="NO_SUCH") == []
    assert dictionary_has_key(name="GENDER", key="MALE")
    assert not dictionary_has_key(name="GENDER", key="UNKNOWN")  # deactivated
    assert not dictionary_has_key(name="POSITION", key="MALE")
    assert dictionary_value_label(name="GENDER", key="UNKNOWN") == "Невідома"  # old records still display
    assert dictionary_value_label(name="GENDER", key="OTHER") is None
