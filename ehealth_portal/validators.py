"""Validators for Ukrainian identity codes, phones and person names, shared by every app.

Each `validate_*` is a Django validator: it takes the value, returns None, and raises
`django.core.exceptions.ValidationError` with a specific message and `code`, so it works on model
fields, forms and DRF serializers alike (the API exception handler turns it into a 422 `invalid[]`).
The `is_valid_*` helpers return a boolean for code that only needs a yes/no.

References: /work/shared/reference/ua-codes.md (checksums), ehealth-api.md §1 (patterns).
Validators do not normalise: strip spaces or change case in the form or serializer before them.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from stdnum.ua import edrpou as stdnum_edrpou
from stdnum.ua import rntrc as stdnum_rntrc

# `\d` would also match Arabic-Indic and other Unicode digits; these codes are ASCII only.
_EDRPOU_RE = re.compile(r"\A[0-9]{8}\Z")
_RNOKPP_RE = re.compile(r"\A[0-9]{10}\Z")
_PHONE_RE = re.compile(r"\A\+380[0-9]{9}\Z")

# eHealth's pattern for a passport number in place of a tax_id: `^([0-9]{9}|[А-ЯЁЇIЄҐ]{2}\d{6})$`.
# Its `I` is the Latin letter (U+0049) and `А-Я` lacks the Ukrainian `І` (U+0406), so we accept both
# `I`s: everything eHealth accepts still passes, and a series typed with the real Cyrillic letter too.
_PASSPORT_RE = re.compile(r"\A(?:[0-9]{9}|[А-ЯЁЇIІЄҐ]{2}[0-9]{6})\Z")

# Person names: the 33 letters of the Ukrainian alphabet, words joined by ONE separator: an apostrophe
# (ASCII ', modifier letter ʼ U+02BC, right quote ’ U+2019), a hyphen or a space.
_UA_LETTERS = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯабвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_NAME_SEPARATORS = "'\u02bc\u2019\\- "
_NAME_RE = re.compile(rf"\A[{_UA_LETTERS}]+(?:[{_NAME_SEPARATORS}][{_UA_LETTERS}]+)*\Z")
_NAME_FORBIDDEN_RE = re.compile(r"[ЫЪЭЁыъэё@%&$^#]")
_NAME_ALLOWED_CHARS_RE = re.compile(rf"\A[{_UA_LETTERS}{_NAME_SEPARATORS}]*\Z")

RNOKPP_ALL_ZEROS = "0000000000"


# --- EDRPOU (ЄДРПОУ) ------------------------------------------------------------------------------


def edrpou_check_digit(body: str) -> str:
    """The check digit for the first 7 digits of an EDRPOU.

    python-stdnum picks the weights by the first digit (3, 4 or 5 → [7,1,2,3,4,5,6]); the 1C code
    uses the numeric range 30000000..60000000. The two differ only for the prefix 6000000
    (stdnum accepts 60000006, 1C accepts 60000009). We follow stdnum.
    """
    return stdnum_edrpou.calc_check_digit(body)


def validate_edrpou_format(value: str) -> None:
    """8 digits, check digit not verified: eHealth's own spec fixtures (e.g. 37367387) fail it."""
    if not isinstance(value, str) or not _EDRPOU_RE.match(value):
        raise ValidationError(_("EDRPOU must be 8 digits."), code="edrpou_format")


def validate_edrpou(value: str) -> None:
    validate_edrpou_format(value)
    if value[7] != edrpou_check_digit(value[:7]):
        raise ValidationError(_("EDRPOU check digit is wrong."), code="edrpou_checksum")


def is_valid_edrpou(value: str) -> bool:
    return _is_valid(validate_edrpou, value)


# --- RNOKPP (РНОКПП, individual tax number) -------------------------------------------------------


def rnokpp_check_digit(body: str) -> str:
    """The check digit for the first 9 digits: (Σ dᵢ·wᵢ mod 11) mod 10, w = [-1,5,7,9,4,6,10,5,7].

    The mod is floored (Python `%`, as in python-stdnum), so a negative sum such as that of
    1000000000 gives a valid check digit. eHealth's Elixir `rem/2` truncates and rejects those codes;
    no real code has been seen to hit the difference.
    """
    return stdnum_rntrc.calc_check_digit(body)


def validate_rnokpp(value: str) -> None:
    if not isinstance(value, str) or not _RNOKPP_RE.match(value):
        raise ValidationError(_("RNOKPP must be 10 digits."), code="rnokpp_format")
    if value == RNOKPP_ALL_ZEROS:  # passes the checksum; eHealth rejects it explicitly
        raise ValidationError(_("RNOKPP cannot be all zeros."), code="rnokpp_zeros")
    if value[9] != rnokpp_check_digit(value[:9]):
        raise ValidationError(_("RNOKPP check digit is wrong."), code="rnokpp_checksum")


def is_valid_rnokpp(value: str) -> bool:
    return _is_valid(validate_rnokpp, value)


def rnokpp_birth_date(value: str) -> datetime.date:
    """The birth date encoded in digits 1–5 (days since 1899-12-31). Informational only: codes
    issued on request do not follow it, so never reject input because of it."""
    return datetime.date(1899, 12, 31) + datetime.timedelta(days=int(value[:5]))


def rnokpp_gender(value: str) -> str:
    """GENDER dictionary key encoded in digit 9 (odd: MALE). Informational only, like the birth date."""
    return "MALE" if int(value[8]) % 2 else "FEMALE"


# --- Passport number given instead of an RNOKPP ---------------------------------------------------


def validate_passport_number(value: str) -> None:
    """A 9-digit ID card number or an old passport: 2 Cyrillic capitals + 6 digits (КВ123456)."""
    if not isinstance(value, str) or not _PASSPORT_RE.match(value):
        raise ValidationError(
            _("Passport number must be 9 digits (ID card) or 2 Cyrillic capital letters and 6 digits."),
            code="passport_format",
        )


def is_valid_passport_number(value: str) -> bool:
    return _is_valid(validate_passport_number, value)


def validate_tax_id(value: str, *, no_tax_id: bool) -> None:
    """eHealth's `tax_id` + `no_tax_id` pair: people who refused an RNOKPP give a passport number."""
    if no_tax_id:
        validate_passport_number(value)
    else:
        validate_rnokpp(value)


# --- Phone ----------------------------------------------------------------------------------------


@deconstructible
class _PhoneValidator(RegexValidator):
    """A RegexValidator, so the OpenAPI schema shows the pattern (drf-spectacular reads it)."""

    regex = r"^\+380[0-9]{9}$"
    message = _("Phone number must look like +380XXXXXXXXX.")
    code = "phone_format"

    def __call__(self, value):
        if not isinstance(value, str) or not _PHONE_RE.match(value):  # \Z: no trailing newline
            raise ValidationError(self.message, code=self.code)


validate_phone = _PhoneValidator()
"""A Ukrainian number in full international form, +380 and 9 digits, nothing else."""


def is_valid_phone(value: str) -> bool:
    return _is_valid(validate_phone, value)


# --- Person name ----------------------------------------------------------------------------------


def validate_person_name(value: str) -> None:
    """A surname, first name or patronymic in Ukrainian: letters, apostrophe, hyphen and space.

    Ы Ъ Э Ё and @%&$^# are forbidden as in eHealth's schemas; a name starts and ends with a letter
    and has no two separators in a row (Д'Артаньян, Анна-Марія, Ла Рош).
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(_("Enter a name."), code="name_empty")
    if _NAME_FORBIDDEN_RE.search(value):
        raise ValidationError(
            _("A name cannot contain the letters Ы, Ъ, Э, Ё or the characters @%&$^#."),
            code="name_forbidden_characters",
        )
    if not _NAME_ALLOWED_CHARS_RE.match(value):
        raise ValidationError(
            _("A name may contain only Ukrainian letters, an apostrophe, a hyphen and a space."),
            code="name_characters",
        )
    if not _NAME_RE.match(value):
        raise ValidationError(
            _("A name must start and end with a letter, with one separator between its parts."),
            code="name_separators",
        )


def is_valid_person_name(value: str) -> bool:
    return _is_valid(validate_person_name, value)


def _is_valid(validator, value) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True
