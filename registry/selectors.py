"""Reads of reference data: dictionaries for APIs and forms, typed global parameters."""

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from .models import Dictionary, DictionaryValue, GlobalParameter, TermUnit

# --- Dictionaries ---------------------------------------------------------------------------------


def dictionary_list(*, name: str | None = None, is_active: bool | None = None) -> QuerySet[Dictionary]:
    """Dictionaries with their active values prefetched as `active_values` (eHealth's list filters)."""
    queryset = Dictionary.objects.prefetch_related(
        Prefetch("values", queryset=DictionaryValue.objects.filter(is_active=True), to_attr="active_values")
    )
    if name is not None:
        queryset = queryset.filter(name=name)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("name")


def dictionary_values_map(*, dictionary: Dictionary) -> dict[str, str]:
    """`{key: label}` of the active values in display order, as eHealth's `values` object."""
    values = getattr(dictionary, "active_values", None)
    if values is None:
        values = dictionary.values.filter(is_active=True)
    return {value.key: value.label for value in values}


def dictionary_choices(*, name: str) -> list[tuple[str, str]]:
    """(key, label) pairs of the active values, for form fields. Unknown dictionary: no choices.

    The dictionary's own `is_active` is only a listing filter, as in eHealth: keys stay usable.
    """
    return list(
        DictionaryValue.objects.filter(dictionary__name=name, is_active=True)
        .order_by("position", "key")
        .values_list("key", "label")
    )


def dictionary_value_label(*, name: str, key: str) -> str | None:
    """The label of a key (active or not, so old records still display), or None."""
    return (
        DictionaryValue.objects.filter(dictionary__name=name, key=key).values_list("label", flat=True).first()
    )


def dictionary_has_key(*, name: str, key: str) -> bool:
    """Whether `key` is an active value of dictionary `name`: the check for incoming codes."""
    return DictionaryValue.objects.filter(dictionary__name=name, key=key, is_active=True).exists()


# --- Global parameters ----------------------------------------------------------------------------


class GlobalParameterMissing(LookupError):
    """A parameter the code needs is not in the database (run `manage.py load_dictionaries`)."""


@dataclass(frozen=True)
class Term:
    """A period such as declaration_term + declaration_term_unit (365 DAYS)."""

    amount: int
    unit: TermUnit

    def after(self, start: datetime.datetime) -> datetime.datetime:
        """The moment `amount` units after `start`; months and years keep the day, clamped to the month end."""
        if self.unit in (TermUnit.MONTHS, TermUnit.YEARS):
            months = self.amount * (12 if self.unit == TermUnit.YEARS else 1)
            year, month = divmod(start.month - 1 + months, 12)
            year += start.year
            day = min(start.day, calendar.monthrange(year, month + 1)[1])
            return start.replace(year=year, month=month + 1, day=day)
        unit_argument = {TermUnit.SECONDS: "seconds", TermUnit.HOURS: "hours", TermUnit.DAYS: "days"}[
            self.unit
        ]
        return start + datetime.timedelta(**{unit_argument: self.amount})


def global_parameters_as_dict() -> dict[str, str]:
    """All parameters as eHealth's `GET /api/global_parameters` returns them: name → text value."""
    return dict(GlobalParameter.objects.order_by("name").values_list("name", "value"))


def global_parameter_get(*, name: str, default: str | None = None) -> str:
    value = GlobalParameter.objects.filter(name=name).values_list("value", flat=True).first()
    if value is None:
        if default is None:
            raise GlobalParameterMissing(f"Global parameter {name!r} is not set; run load_dictionaries.")
        return default
    return value


def global_parameter_int(*, name: str, default: int | None = None) -> int:
    value = global_parameter_get(name=name, default=None if default is None else str(default))
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Global parameter {name!r} is not a whole number: {value!r}.") from None


def global_parameter_term(*, name: str, unit_name: str) -> Term:
    """E.g. `global_parameter_term(name="declaration_term", unit_name="declaration_term_unit")`."""
    unit = global_parameter_get(name=unit_name)
    if unit not in TermUnit.values:
        raise ValueError(f"Global parameter {unit_name!r} is not a TERM_UNIT: {unit!r}.")
    return Term(amount=global_parameter_int(name=name), unit=TermUnit(unit))


def global_parameter_declaration_limit(*, speciality_type: str) -> int | None:
    """The most active declarations a doctor of this SPECIALITY_TYPE may hold; None when unlimited.

    Stored as `declaration_limit_<speciality in lower case>`: therapist, pediatrician, family_doctor.
    """
    name = f"declaration_limit_{speciality_type.lower()}"
    value = GlobalParameter.objects.filter(name=name).values_list("value", flat=True).first()
    return None if value is None else global_parameter_int(name=name)
