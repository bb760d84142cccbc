"""Form fields shared by the registry's forms: dictionary choices, phones, codes, names, dates, regions."""

import datetime
import re
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from ehealth_portal.validators import validate_phone

from ..selectors import dictionary_choices

_PHONE_NOISE_RE = re.compile(r"[\s()\-]")


def dictionary_field_choices(
    name: str, *, keys: Callable[[], list[str]] | None = None, blank: bool = True, show_key: bool = False
):
    """Lazy choices from a dictionary, read when a form is shown, so operators' edits apply at once.

    `show_key`: the option reads "86.21 Загальна медична практика" (codes people know by number)."""

    def choices():
        values = dictionary_choices(name=name)
        if show_key:
            values = [(key, f"{key} {label}") for key, label in values]
        if keys is not None:
            allowed = keys()
            values = sorted((v for v in values if v[0] in allowed), key=lambda v: allowed.index(v[0]))
        return [("", _("Choose…")), *values] if blank else values

    return choices


class PhoneField(forms.CharField):
    """A Ukrainian phone: spaces, brackets and dashes are dropped; 0XX… and 380… get the +38 prefix."""

    default_validators = [validate_phone]

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _("For example, +380441234567."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        super().__init__(max_length=20, **kwargs)

    def to_python(self, value):
        value = _PHONE_NOISE_RE.sub("", super().to_python(value))
        if re.fullmatch(r"0[0-9]{9}", value):
            return f"+38{value}"
        if re.fullmatch(r"380[0-9]{9}", value):
            return f"+{value}"
        return value


class CodeField(forms.CharField):
    """A code typed with stray spaces (EDRPOU, RNOKPP, document number): spaces go, letters go upper."""

    def to_python(self, value):
        return "".join(super().to_python(value).split()).upper()


class NameField(forms.CharField):
    def to_python(self, value):
        return " ".join(super().to_python(value).split())


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput, **kwargs)


class CoordinateField(forms.DecimalField):
    """Degrees with 6 decimals (about 10 cm): a map click's longer fraction is rounded, not refused."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=9, decimal_places=6, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **kwargs
        )

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else value.quantize(Decimal("0.000001"))


class CheckboxList(forms.CheckboxSelectMultiple):
    """Several choices as a list of checkboxes (no Ctrl-click; long labels wrap), in a box that scrolls.

    `container_attrs` go on the list's box, not on every checkbox: e.g. the filter's data attributes
    (`data-checkbox-filter`, read by static/js/checkbox-filter.js)."""

    template_name = "django/forms/widgets/checkbox_list.html"

    class Media:
        js = ("js/checkbox-filter.js",)

    def __init__(self, attrs=None, choices=(), *, container_attrs=None):
        super().__init__(attrs, choices)
        self.container_attrs = container_attrs or {}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["container_attrs"] = self.container_attrs
        return context


def iso_date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def compact(data: dict) -> dict:
    """Leave out empty optional members, as the payload does."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}
