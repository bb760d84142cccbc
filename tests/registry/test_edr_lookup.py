"""Lookups in the local state register and the name comparison used by the registration checks."""

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.edr import (
    LocalStateRegister,
    RegisterSubject,
    edr_import,
    name_key,
    person_names_match,
    state_register,
)

DATA = Path(__file__).resolve().parent / "data" / "edr"


@pytest.fixture
def register(db):
    edr_import([DATA / "a_uo.xml", DATA / "uo_fop.zip", DATA / "a_fop.xml"])
    return LocalStateRegister()


def test_find_by_code_returns_registered_and_terminated_entities(register):
    (registered,) = register.find_by_code("43770021")
    (terminated,) = register.find_by_code(" 43770037 ")

    assert registered == RegisterSubject(
        kind="UO",
        code="43770021",
        name='ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ "КЛІНІКА ТЕСТ"',
        short_name='ТОВ "КЛІНІКА ТЕСТ"',
        legal_form="",
        address="01001, м.Київ, Шевченківський район, ВУЛИЦЯ ТЕСТОВА, будинок 1",
        state="зареєстровано",
        is_registered=True,
        heads=("ПЕТРЕНКО ПЕТРО ПЕТРОВИЧ",),
        kveds=("86.10",),
    )
    assert (terminated.state, terminated.is_registered) == ("припинено", False)


def test_find_by_code_lists_every_record_of_a_code_registered_first(register):
    subjects = register.find_by_code("21456038")

    assert [(s.is_registered, s.heads) for s in subjects] == [
        (True, ("ЗАЇКА ЮРІЙ ОЛЕКСІЙОВИЧ",)),
        (False, ("СТЕПАНЕНКО-ГРИЦАЙ ОЛЬГА МИКОЛАЇВНА",)),
    ]


@pytest.mark.parametrize("code", ["", "   ", "99999997", "2145601"])
def test_find_by_code_unknown(register, code):
    assert register.find_by_code(code) == []


@pytest.mark.parametrize(
    "typed",
    [
        "Д'ЯЧЕНКО НАТАЛІЯ ЮРІЇВНА",
        "д’яченко наталія юріївна",
        "Дʼяченко  Наталія\tЮріївна ",
        "Д`ЯЧЕНКО НАТАЛІЯ ЮРІЇВНА",
    ],
)
def test_find_sole_proprietors_tolerates_case_apostrophes_and_spacing(register, typed):
    (found,) = register.find_sole_proprietors(typed)

    assert (found.kind, found.code, found.is_registered) == ("FOP", "", True)
    assert found.heads == ("Д'ЯЧЕНКО НАТАЛІЯ ЮРІЇВНА",)
    assert found.kveds == ("86.21", "62.01")


def test_find_sole_proprietors_returns_namesakes_registered_first(register):
    found = register.find_sole_proprietors("Гончарук Віктор Сергійович")

    assert [(s.state, s.is_registered) for s in found] == [("зареєстровано", True), ("припинено", False)]


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ДЯЧЕНКО НАТАЛІЯ ЮРІЇВНА",  # no apostrophe is another spelling, not a variant
        "Д'ЯЧЕНКО НАТАЛІЯ",
        "ПЕТРЕНКО ПЕТРО ПЕТРОВИЧ",  # the head of a legal entity is not a sole proprietor
        "ҐОНЧАРУК ВІКТОР СЕРГІЙОВИЧ",  # Ґ is not Г
    ],
)
def test_find_sole_proprietors_no_match(register, typed):
    assert register.find_sole_proprietors(typed) == []


def test_state_register_is_the_configured_backend(settings):
    assert isinstance(state_register(), LocalStateRegister)

    settings.STATE_REGISTER_BACKEND = "tests.registry.test_edr_lookup.EmptyRegister"

    assert isinstance(state_register(), EmptyRegister)


class EmptyRegister:
    def find_by_code(self, code: str) -> list[RegisterSubject]:
        return []

    def find_sole_proprietors(self, full_name: str) -> list[RegisterSubject]:
        return []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ДЕМ'ЯНЕНКО ОЛЕНА ІВАНІВНА", "Демʼяненко Олена Іванівна"),
        ("ДЕМ'ЯНЕНКО ОЛЕНА ІВАНІВНА", "ДЕМ’ЯНЕНКО ОЛЕНА ІВАНІВНА"),
        ("ДЕМ'ЯНЕНКО ОЛЕНА ІВАНІВНА", "ДЕМ`ЯНЕНКО ОЛЕНА ІВАНІВНА"),
        ("КОВАЛЕНКО ОЛЕНА ПЕТРІВНА", "  Коваленко   Олена\u00a0Петрівна "),
        ("СТЕПАНЕНКО-ГРИЦАЙ ОЛЬГА", "Степаненко – Грицай Ольга"),
        ("СТЕПАНЕНКО-ГРИЦАЙ ОЛЬГА", "СТЕПАНЕНКО\u2011ГРИЦАЙ ОЛЬГА"),
        ("ЗАЇКА ЮРІЙ", unicodedata.normalize("NFD", "Заїка Юрій")),  # Ї and Й typed as letter + mark
        ("ҐЕОРҐІЙ", "ґеорґій"),
    ],
)
def test_person_names_match(a, b):
    assert person_names_match(a, b)
    assert person_names_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ҐЕОРҐІЙ", "ГЕОРГІЙ"),  # different letters are different names
        ("ІГОР", "ИГОР"),
        ("ЄВА", "ЕВА"),
        ("ЇЖАК", "ІЖАК"),
        ("ДЕМ'ЯНЕНКО", "ДЕМЯНЕНКО"),
        ("СТЕПАНЕНКО-ГРИЦАЙ", "СТЕПАНЕНКО ГРИЦАЙ"),
        ("КОВАЛЕНКО ОЛЕНА", "КОВАЛЕНКО ОЛЕНА ПЕТРІВНА"),
        ("", ""),
        ("   ", " "),
    ],
)
def test_person_names_do_not_match(a, b):
    assert not person_names_match(a, b)


@given(
    st.text(st.sampled_from("ГҐгґИІЇЙЄЕОЛНА'ʼ’`´- –—\u00ad\u200b\u0301\u0308\u1fef\u0149ΐ \t\n\u2000"))
    | st.text()
)
def test_name_key_is_idempotent(value):
    key = name_key(value)

    assert name_key(key) == key
    assert person_names_match(value, key) == bool(key)
