import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import example, given
from hypothesis import strategies as st

from ehealth_portal.validators import (
    edrpou_check_digit,
    is_valid_edrpou,
    is_valid_passport_number,
    is_valid_person_name,
    is_valid_phone,
    is_valid_rnokpp,
    rnokpp_birth_date,
    rnokpp_check_digit,
    rnokpp_gender,
    validate_edrpou,
    validate_edrpou_format,
    validate_passport_number,
    validate_person_name,
    validate_phone,
    validate_rnokpp,
    validate_tax_id,
)

DIGITS = "0123456789"


def digits(length: int):
    return st.text(alphabet=DIGITS, min_size=length, max_size=length)


def error_code(validator, value, **kwargs) -> str:
    with pytest.raises(ValidationError) as excinfo:
        validator(value, **kwargs)
    return excinfo.value.code


# --- EDRPOU ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("32855961", True),  # stdnum doctest, 30–60M weights
        ("23226362", True),
        ("23246880", True),  # retry with +2 weights, 10 → 0
        ("14360570", True),  # ПриватБанк
        ("01007912", True),  # retry, leading zero kept
        ("12345678", True),  # looks fake, is valid
        ("32855968", False),
        ("32323454", False),  # eHealth api-spec example
        ("14360571", False),
        ("37367387", False),  # eHealth fixture: fails the check digit
    ],
)
def test_edrpou_known_codes(code, valid):
    assert is_valid_edrpou(code) is valid


def test_edrpou_follows_stdnum_range_rule_for_prefix_6000000():
    # The 1C numeric rule would accept 60000009 instead; we document and keep stdnum's first-digit rule.
    assert is_valid_edrpou("60000006")
    assert not is_valid_edrpou("60000009")


@given(body=digits(7))
def test_edrpou_exactly_one_check_digit_per_body(body):
    valid = [d for d in DIGITS if is_valid_edrpou(body + d)]
    assert valid == [edrpou_check_digit(body)]


@pytest.mark.parametrize(
    "value", ["", "3285596", "328559611", "3285596a", " 32855961", "32855961 ", "３２８５５９６１"]
)
def test_edrpou_wrong_shape_is_a_format_error(value):
    assert error_code(validate_edrpou, value) == "edrpou_format"


def test_edrpou_wrong_check_digit_has_its_own_code_and_message():
    with pytest.raises(ValidationError) as excinfo:
        validate_edrpou("32855968")
    assert excinfo.value.code == "edrpou_checksum"
    with translation.override("en"):
        assert excinfo.value.messages == ["EDRPOU check digit is wrong."]


def test_edrpou_format_only_accepts_fixture_codes():
    validate_edrpou_format("37367387")
    assert error_code(validate_edrpou_format, "3736738") == "edrpou_format"


@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=12)))
@example(value=32855961)
def test_edrpou_never_crashes(value):
    assert is_valid_edrpou(value) in (True, False)


# --- RNOKPP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("1759013776", True),
        ("2530414071", True),
        ("3067305998", True),  # eHealth fixture owner
        ("1759013770", False),
        ("3126509816", False),  # api-spec examples all fail the checksum
        ("3015492563", False),
        ("3015492565", False),
        ("0000000000", False),  # passes the checksum, rejected by eHealth
    ],
)
def test_rnokpp_known_codes(code, valid):
    assert is_valid_rnokpp(code) is valid


@given(body=digits(9))
def test_rnokpp_computed_check_digit_is_the_only_valid_one(body):
    check = rnokpp_check_digit(body)
    if body + check == "0000000000":
        return
    assert is_valid_rnokpp(body + check)
    for other in DIGITS.replace(check, ""):
        assert error_code(validate_rnokpp, body + other) == "rnokpp_checksum"


@pytest.mark.parametrize("code", ["1000000000", "9000000002"])
def test_rnokpp_negative_sum_uses_floored_mod(code):
    # eHealth's truncating rem/2 would reject these; we document and use the floored mod.
    assert is_valid_rnokpp(code)


def test_rnokpp_all_zeros_has_its_own_code():
    assert error_code(validate_rnokpp, "0000000000") == "rnokpp_zeros"


@pytest.mark.parametrize("value", ["", "175901377", "17590137760", "175901377x", "1759 13776", None])
def test_rnokpp_wrong_shape_is_a_format_error(value):
    assert error_code(validate_rnokpp, value) == "rnokpp_format"


def test_rnokpp_decoding():
    assert rnokpp_birth_date("1759013776") == datetime.date(1948, 2, 28)
    assert rnokpp_gender("1759013776") == "MALE"
    assert rnokpp_birth_date("3067305998") == datetime.date(1983, 12, 24)


# --- Passport number and tax_id choice ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("123456789", True),  # ID card
        ("КВ123456", True),
        ("ЄҐ000001", True),
        ("ЇЁ123456", True),  # eHealth's class includes Ё
        ("I\u0412123456", True),  # Latin I + Cyrillic В, as eHealth's pattern allows
        ("ІВ123456", True),  # Cyrillic І
        ("кв123456", False),
        ("KB123456", False),  # Latin K and B
        ("КВ12345", False),
        ("КВ1234567", False),
        ("12345678", False),
        ("1234567890", False),
        ("К123456", False),
        ("КВ 123456", False),
    ],
)
def test_passport_numbers(value, valid):
    assert is_valid_passport_number(value) is valid


@given(
    letters=st.text(alphabet="АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ", min_size=2, max_size=2), number=digits(6)
)
def test_passport_any_two_ukrainian_capitals_and_six_digits(letters, number):
    validate_passport_number(letters + number)


@given(number=digits(9))
def test_passport_any_id_card_number(number):
    validate_passport_number(number)


def test_tax_id_choice():
    validate_tax_id("3067305998", no_tax_id=False)
    validate_tax_id("КВ123456", no_tax_id=True)
    assert error_code(validate_tax_id, "КВ123456", no_tax_id=False) == "rnokpp_format"
    assert error_code(validate_tax_id, "3067305998", no_tax_id=True) == "passport_format"


# --- Phone ----------------------------------------------------------------------------------------


@given(number=digits(9))
def test_phone_any_ukrainian_number(number):
    validate_phone("+380" + number)


@pytest.mark.parametrize(
    "value",
    [
        "380501234567",
        "+38050123456",
        "+3805012345678",
        "+381501234567",
        "+380 50 123 4567",
        "+380(50)1234567",
        "0501234567",
        "+380501234567\n",
        "",
    ],
)
def test_phone_wrong_forms(value):
    assert not is_valid_phone(value)
    assert error_code(validate_phone, value) == "phone_format"


# --- Person names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Шевченко",
        "Тарас",
        "Григорович",
        "Д'Артаньян",
        "Мар\u02bcяна",
        "Об\u2019єднаний",
        "Анна-Марія",
        "Ла Рош",
        "Ґудзь",
        "Їжак",
        "Євген",
        "Іван",
        "ь",
    ],
)
def test_valid_person_names(value):
    validate_person_name(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "name_empty"),
        ("Эдуард", "name_forbidden_characters"),
        ("Артём", "name_forbidden_characters"),
        ("Объединённый", "name_forbidden_characters"),
        ("Ныкола", "name_forbidden_characters"),
        ("Іван@", "name_forbidden_characters"),
        ("Ivan", "name_characters"),
        ("Іван1", "name_characters"),
        ("Іван.", "name_characters"),
        ("-Іван", "name_separators"),
        ("Іван-", "name_separators"),
        ("'Іван", "name_separators"),
        (" Іван", "name_separators"),
        ("Іван ", "name_separators"),
        ("Анна--Марія", "name_separators"),
        ("Анна  Марія", "name_separators"),
    ],
)
def test_invalid_person_names(value, code):
    assert error_code(validate_person_name, value) == code


@given(
    parts=st.lists(
        st.text(alphabet="абвгґдеєжзиіїйклмнопрстуфхцчшщьюяАБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ", min_size=1),
        min_size=1,
        max_size=4,
    ),
    separator=st.sampled_from(["'", "\u02bc", "\u2019", "-", " "]),
)
def test_person_name_parts_joined_by_one_separator_are_valid(parts, separator):
    assert is_valid_person_name(separator.join(parts))


@given(name=st.text(min_size=1, max_size=20), bad=st.sampled_from(list("ЫЪЭЁыъэё@%&$^#")))
def test_person_name_with_a_forbidden_character_is_rejected(name, bad):
    assert error_code(validate_person_name, name + bad) == "name_forbidden_characters"
