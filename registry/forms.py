"""Forms of the facility registration wizard and of the public pages.

Each wizard step form builds its part of the eHealth legal-entity payload (`payload_part`) and checks
it with the matching serializer of `registry.payloads`, so a rule lives in one place and its error
shows next to the field it concerns. `wizard_payload` joins the parts; `wizard_step_data` does the
reverse, to reopen a rejected application for correction.
"""

import datetime
import re
from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.forms import SignatureInputMixin
from ehealth_portal.validators import (
    is_valid_passport_number,
    validate_edrpou,
    validate_phone,
    validate_rnokpp,
)

from . import payloads
from .selectors import dictionary_choices

STEP_FACILITY = "facility"
STEP_ADDRESSES = "addresses"
STEP_LICENCE = "licence"
STEP_HEAD = "head"
STEP_REVIEW = "review"

NO_ACCREDITATION = "NO_ACCREDITATION"

# Ukraine's bounding box, roughly: a point outside it is a slip of the mouse or swapped coordinates.
LATITUDE_RANGE = (Decimal(44), Decimal(53))
LONGITUDE_RANGE = (Decimal(22), Decimal(41))

# Regions (the `area` of an eHealth address) as the address register names them, with their labels.
AREAS = [
    ("АВТОНОМНА РЕСПУБЛІКА КРИМ", "Автономна Республіка Крим"),
    ("ВІННИЦЬКА", "Вінницька область"),
    ("ВОЛИНСЬКА", "Волинська область"),
    ("ДНІПРОПЕТРОВСЬКА", "Дніпропетровська область"),
    ("ДОНЕЦЬКА", "Донецька область"),
    ("ЖИТОМИРСЬКА", "Житомирська область"),
    ("ЗАКАРПАТСЬКА", "Закарпатська область"),
    ("ЗАПОРІЗЬКА", "Запорізька область"),
    ("ІВАНО-ФРАНКІВСЬКА", "Івано-Франківська область"),
    ("КИЇВСЬКА", "Київська область"),
    ("КІРОВОГРАДСЬКА", "Кіровоградська область"),
    ("ЛУГАНСЬКА", "Луганська область"),
    ("ЛЬВІВСЬКА", "Львівська область"),
    ("МИКОЛАЇВСЬКА", "Миколаївська область"),
    ("ОДЕСЬКА", "Одеська область"),
    ("ПОЛТАВСЬКА", "Полтавська область"),
    ("РІВНЕНСЬКА", "Рівненська область"),
    ("СУМСЬКА", "Сумська область"),
    ("ТЕРНОПІЛЬСЬКА", "Тернопільська область"),
    ("ХАРКІВСЬКА", "Харківська область"),
    ("ХЕРСОНСЬКА", "Херсонська область"),
    ("ХМЕЛЬНИЦЬКА", "Хмельницька область"),
    ("ЧЕРКАСЬКА", "Черкаська область"),
    ("ЧЕРНІВЕЦЬКА", "Чернівецька область"),
    ("ЧЕРНІГІВСЬКА", "Чернігівська область"),
    ("М.КИЇВ", "м. Київ"),
    ("М.СЕВАСТОПОЛЬ", "м. Севастополь"),
]

# The offer the head accepts; its text goes into the signed document, so it stays in Ukrainian.
PUBLIC_OFFER_TEXT = (
    "Я, керівник закладу охорони здоров'я, приєднуюся до договору публічної оферти про підключення "
    "закладу до електронної системи охорони здоров'я: підтверджую, що дані заявки достовірні, що я є "
    "офіційним підписантом закладу згідно з Єдиним державним реєстром, і погоджуюся на обробку "
    "персональних даних, потрібну для реєстрації закладу та його працівників."
)

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


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _compact(data: dict) -> dict:
    """Leave out empty optional members, as the payload does."""
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


class StepForm(forms.Form):
    """A wizard step: its fields shown in titled groups, its part of the payload checked by `payloads`.

    `groups`: [(title, [field names])]. `payload_checks`: [(payload key, serializer, {path: field})]
    — the part under that key is validated by the serializer and its errors are put on the fields
    (a path not in the map becomes an error of the whole form).
    """

    groups: list[tuple] = []
    template_name = "registry/wizard/step_form.html"

    def field_groups(self) -> list[dict]:
        """The groups for the template: title, fields, and the options of the group's third element —
        `toggle` (a checkbox that hides the other fields when ticked), `grid` (fields side by side),
        `map` (the location picker under the fields), `wide` (fields across the whole grid)."""
        result = []
        for title, names, *options in self.groups:
            options = options[0] if options else {}
            toggle = options.get("toggle")
            result.append(
                {
                    "title": title,
                    "toggle": self[toggle] if toggle else None,
                    "fields": [self[name] for name in names if name != toggle],
                    "grid": options.get("grid", False),
                    "wide": options.get("wide", ()),
                    "map": options.get("map", False),
                }
            )
        return result

    @property
    def map_settings(self) -> dict:
        return {"tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}

    def payload_part(self) -> dict:
        raise NotImplementedError

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        """The form's values (as `cleaned_data` holds them) that produce this part of `payload`."""
        raise NotImplementedError

    def payload_checks(self) -> list[tuple[str, type[serializers.Serializer], dict[str, str]]]:
        return []

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        part = self.payload_part()
        for key, serializer_class, field_map in self.payload_checks():
            value = part.get(key)
            if value is None:
                continue
            serializer = serializer_class(data=value, many=isinstance(value, list))
            if not serializer.is_valid():
                for path, errors in payloads.payload_errors_flatten(serializer.errors).items():
                    field = _field_for_path(path, field_map)
                    field = field if field in self.fields else None
                    for error in errors:
                        if error.message not in self.errors.get(field or NON_FIELD_ERRORS, []):
                            self.add_error(field, error)
        return cleaned


def _field_for_path(path: str, field_map: dict[str, str]) -> str | None:
    """The field of a payload path, or of its nearest mapped parent ("phones[0].number" → "phones")."""
    while path:
        if path in field_map:
            return field_map[path]
        parent = re.sub(r"(\.[^.\[]*|\[[0-9]+\])\Z", "", path)
        if parent == path:
            return None
        path = parent
    return None


class CoordinateField(forms.DecimalField):
    """Degrees with 6 decimals (about 10 cm): a map click's longer fraction is rounded, not refused."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=9, decimal_places=6, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **kwargs
        )

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else value.quantize(Decimal("0.000001"))


# --- Step 1: the facility ---------------------------------------------------------------------------


class FacilityForm(StepForm):
    name = NameField(
        label=_("Full name"),
        max_length=500,
        help_text=_("As in the state register (ЄДР)."),
        widget=forms.TextInput(attrs={"class": "input-wide"}),
    )
    short_name = NameField(label=_("Short name"), max_length=255, required=False)
    public_name = NameField(
        label=_("Public name"),
        max_length=255,
        required=False,
        help_text=_("The name patients see on the map and in the list of facilities."),
    )
    legal_form = forms.ChoiceField(label=_("Legal form"), choices=dictionary_field_choices("LEGAL_FORM"))
    owner_property_type = forms.ChoiceField(
        label=_("Ownership"),
        choices=dictionary_field_choices("OWNER_PROPERTY_TYPE", blank=False),
        widget=forms.RadioSelect,
    )
    edrpou = CodeField(
        label=_("EDRPOU"),
        max_length=10,
        help_text=_("8 digits. For a sole proprietor (ФОП): the owner's RNOKPP, 10 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    kveds = forms.MultipleChoiceField(
        label=_("Types of economic activity (KVED)"),
        choices=dictionary_field_choices("KVEDS", blank=False, show_key=True),
        help_text=_(
            "Choose every code registered for the facility; at least one must be 86.10 or 86.21 "
            "(primary care). Hold Ctrl (⌘ on a Mac) to choose several."
        ),
        widget=forms.SelectMultiple(
            attrs={
                "data-kved-filter": "",
                "data-filter-label": _("Find a code: type digits or words"),
                "data-chosen-label": _("Chosen:"),
                "size": 12,
            }
        ),
    )
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone_mobile = PhoneField(label=_("Mobile phone"), help_text=_("For example, +380501234567."))
    phone_landline = PhoneField(label=_("Landline phone"), required=False)
    website = forms.CharField(
        label=_("Website"),
        max_length=255,
        required=False,
        help_text=_("For example, clinic.com.ua."),
    )

    groups = [
        (_("Names"), ["name", "short_name", "public_name"]),
        (_("Legal details"), ["legal_form", "owner_property_type", "edrpou", "kveds"]),
        (_("Contacts"), ["email", "phone_mobile", "phone_landline", "website"]),
    ]

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean_website(self):
        website = self.cleaned_data["website"].lower()
        if website:
            try:
                payloads.LegalEntityPayloadSerializer().validate_website(website)
            except serializers.ValidationError as error:
                raise ValidationError(error.detail) from error
        return website

    def clean(self):
        cleaned = super().clean()
        edrpou, legal_form = cleaned.get("edrpou"), cleaned.get("legal_form")
        if edrpou and legal_form and "edrpou" not in self.errors:
            try:
                if legal_form != payloads.SOLE_PROPRIETOR_LEGAL_FORM:
                    validate_edrpou(edrpou)
                elif not is_valid_passport_number(edrpou):  # a head who refused an RNOKPP
                    validate_rnokpp(edrpou)
            except ValidationError as error:
                self.add_error("edrpou", error)
        for name in ("name", "short_name", "public_name"):
            if cleaned.get(name) and name not in self.errors:
                try:
                    payloads.validate_organisation_name(cleaned[name])
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned

    def payload_part(self) -> dict:
        data = self.cleaned_data
        phones = [{"type": "MOBILE", "number": data["phone_mobile"]}]
        if data.get("phone_landline"):
            phones.append({"type": "LAND_LINE", "number": data["phone_landline"]})
        return _compact(
            {
                "type": payloads.MSP,
                "name": data["name"],
                "short_name": data.get("short_name"),
                "public_name": data.get("public_name"),
                "legal_form": data["legal_form"],
                "owner_property_type": data["owner_property_type"],
                "edrpou": data["edrpou"],
                "kveds": list(data["kveds"]),
                "email": data["email"],
                "phones": phones,
                "website": data.get("website"),
            }
        )

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        phones = {phone["type"]: phone["number"] for phone in payload.get("phones", [])}
        names = ("name", "short_name", "public_name", "legal_form", "owner_property_type", "edrpou", "email")
        return {
            **{name: payload.get(name, "") for name in names},
            "kveds": payload.get("kveds", []),
            "phone_mobile": phones.get("MOBILE", ""),
            "phone_landline": phones.get("LAND_LINE", ""),
            "website": payload.get("website", ""),
        }


# --- Step 2: addresses and the first place of service -----------------------------------------------

ADDRESS_PARTS = ("area", "region", "settlement_type", "settlement", "street_type", "street", "building")
ADDRESS_PARTS += ("apartment", "zip")
ADDRESS_OPTIONAL_PARTS = ("region", "apartment")
ADDRESS_GROUPS = ("registration", "residence", "division")


def address_fields(prefix: str) -> dict[str, forms.Field]:
    """The fields of one address, all optional: the form decides when a group is required."""
    return {
        f"{prefix}_area": forms.ChoiceField(
            label=_("Region (oblast)"), choices=[("", _("Choose…")), *AREAS], required=False
        ),
        f"{prefix}_region": NameField(label=_("District"), max_length=100, required=False),
        f"{prefix}_settlement_type": forms.ChoiceField(
            label=_("Settlement type"), choices=dictionary_field_choices("SETTLEMENT_TYPE"), required=False
        ),
        f"{prefix}_settlement": NameField(label=_("Settlement"), max_length=100, required=False),
        f"{prefix}_street_type": forms.ChoiceField(
            label=_("Street type"), choices=dictionary_field_choices("STREET_TYPE"), required=False
        ),
        f"{prefix}_street": NameField(label=_("Street"), max_length=255, required=False),
        f"{prefix}_building": NameField(label=_("Building"), max_length=20, required=False),
        f"{prefix}_apartment": NameField(label=_("Apartment or office"), max_length=20, required=False),
        f"{prefix}_zip": forms.CharField(
            label=_("Postal code"),
            max_length=5,
            required=False,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
        ),
    }


def _address(data: dict, prefix: str, address_type: str) -> dict:
    return _compact(
        {
            "type": address_type,
            "country": "UA",
            **{part: data.get(f"{prefix}_{part}") for part in ADDRESS_PARTS},
        }
    )


def _address_values(address: dict | None, prefix: str) -> dict:
    return {f"{prefix}_{part}": (address or {}).get(part, "") for part in ADDRESS_PARTS}


def _address_field_map(prefix: str, path: str) -> dict[str, str]:
    return {f"{path}.{part}": f"{prefix}_{part}" for part in ADDRESS_PARTS}


class AddressesForm(StepForm):
    same_as_registration = forms.BooleanField(
        label=_("The actual address is the same as the registration address"), required=False, initial=True
    )
    division_name = NameField(
        label=_("Name of the place of service"),
        max_length=255,
        help_text=_("For example: Амбулаторія загальної практики сімейної медицини № 1."),
    )
    division_type = forms.ChoiceField(
        label=_("Type of the place of service"),
        choices=dictionary_field_choices("DIVISION_TYPE", keys=lambda: list(payloads.MSP_DIVISION_TYPES)),
    )
    division_phone_type = forms.ChoiceField(
        label=_("Phone type"), choices=dictionary_field_choices("PHONE_TYPE", blank=False)
    )
    division_phone = PhoneField(label=_("Phone"))
    division_email = forms.EmailField(label=_("Email"))
    division_same_as_actual = forms.BooleanField(
        label=_("The place of service is at the facility's actual address"), required=False, initial=True
    )
    division_latitude = CoordinateField(label=_("Latitude"), help_text=_("For example, 50.450100."))
    division_longitude = CoordinateField(label=_("Longitude"), help_text=_("For example, 30.523400."))

    groups = [
        (_("Registration address"), [f"registration_{part}" for part in ADDRESS_PARTS], {"grid": True}),
        (
            _("Actual address"),
            ["same_as_registration", *(f"residence_{part}" for part in ADDRESS_PARTS)],
            {"grid": True, "toggle": "same_as_registration"},
        ),
        (
            _("The first place of service"),
            ["division_name", "division_type", "division_phone_type", "division_phone", "division_email"],
            {"grid": True, "wide": ["division_name"]},
        ),
        (
            _("Address of the place of service"),
            ["division_same_as_actual", *(f"division_{part}" for part in ADDRESS_PARTS)],
            {"grid": True, "toggle": "division_same_as_actual"},
        ),
        (_("Location on the map"), ["division_latitude", "division_longitude"], {"grid": True, "map": True}),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prefix in ADDRESS_GROUPS:
            self.fields.update(address_fields(prefix))
        self._require_address("registration")

    def _require_address(self, prefix: str) -> None:
        for part in ADDRESS_PARTS:
            if part not in ADDRESS_OPTIONAL_PARTS:
                self.fields[f"{prefix}_{part}"].required = True

    def full_clean(self):
        # The actual address and the division's own address are required unless "same as" is ticked.
        if self.is_bound:
            for checkbox, prefix in (
                ("same_as_registration", "residence"),
                ("division_same_as_actual", "division"),
            ):
                if not self.fields[checkbox].widget.value_from_datadict(
                    self.data, self.files, self.add_prefix(checkbox)
                ):
                    self._require_address(prefix)
        super().full_clean()

    def clean_division_email(self):
        return self.cleaned_data["division_email"].lower()

    def clean_division_latitude(self):
        return self._in_ukraine("division_latitude", LATITUDE_RANGE)

    def clean_division_longitude(self):
        return self._in_ukraine("division_longitude", LONGITUDE_RANGE)

    def _in_ukraine(self, name: str, bounds: tuple[Decimal, Decimal]) -> Decimal:
        value = self.cleaned_data[name]
        if not bounds[0] <= value <= bounds[1]:
            raise ValidationError(
                _("The point is outside Ukraine: enter a value from %(low)s to %(high)s."),
                code="out_of_ukraine",
                params={"low": bounds[0], "high": bounds[1]},
            )
        return value

    def _actual_address_prefix(self) -> str:
        return "registration" if self.cleaned_data.get("same_as_registration") else "residence"

    def _division_address_prefix(self) -> str:
        return (
            self._actual_address_prefix() if self.cleaned_data.get("division_same_as_actual") else "division"
        )

    def payload_checks(self):
        return [
            (
                "addresses",
                payloads.AddressSerializer,
                {**_address_field_map("registration", "[0]"), **_address_field_map("residence", "[1]")},
            ),
            (
                "division",
                payloads.DivisionSerializer,
                {
                    "name": "division_name",
                    "type": "division_type",
                    "email": "division_email",
                    "phones": "division_phone",
                    "location": "division_latitude",
                    # A copied address reports its errors on the fields it was copied from.
                    **_address_field_map(self._division_address_prefix(), "addresses[0]"),
                },
            ),
        ]

    def payload_part(self) -> dict:
        data = self.cleaned_data
        addresses = [_address(data, "registration", "REGISTRATION")]
        if self._actual_address_prefix() == "residence":
            addresses.append(_address(data, "residence", "RESIDENCE"))
        division = {
            "name": data["division_name"],
            "type": data["division_type"],
            "addresses": [_address(data, self._division_address_prefix(), "RESIDENCE")],
            "phones": [{"type": data["division_phone_type"], "number": data["division_phone"]}],
            "email": data["division_email"],
            "location": {
                "latitude": float(data["division_latitude"]),
                "longitude": float(data["division_longitude"]),
            },
        }
        return {"addresses": addresses, "division": division}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        addresses = {address.get("type"): address for address in payload.get("addresses", [])}
        division = payload.get("division") or {}
        division_address = (division.get("addresses") or [None])[0]
        actual = addresses.get("RESIDENCE") or addresses.get("REGISTRATION")
        phone = (division.get("phones") or [{}])[0]
        location = division.get("location") or {}
        same_as_actual = bool(division_address) and _same_place(division_address, actual)
        return {
            **_address_values(addresses.get("REGISTRATION"), "registration"),
            "same_as_registration": "RESIDENCE" not in addresses,
            **_address_values(addresses.get("RESIDENCE"), "residence"),
            "division_name": division.get("name", ""),
            "division_type": division.get("type", ""),
            "division_phone_type": phone.get("type", ""),
            "division_phone": phone.get("number", ""),
            "division_email": division.get("email", ""),
            "division_same_as_actual": same_as_actual,
            **_address_values(None if same_as_actual else division_address, "division"),
            "division_latitude": location.get("latitude", ""),
            "division_longitude": location.get("longitude", ""),
        }


def _same_place(first: dict, second: dict | None) -> bool:
    return second is not None and all(first.get(part) == second.get(part) for part in ADDRESS_PARTS)


# --- Step 3: licence and accreditation --------------------------------------------------------------

LICENCE_FIELDS = {
    "license_number": "license_number",
    "issued_by": "license_issued_by",
    "issued_date": "license_issued_date",
    "active_from_date": "license_active_from_date",
    "expiry_date": "license_expiry_date",
    "order_no": "license_order_no",
}
ACCREDITATION_FIELDS = {
    "category": "accreditation_category",
    "order_no": "accreditation_order_no",
    "order_date": "accreditation_order_date",
    "issued_date": "accreditation_issued_date",
    "expiry_date": "accreditation_expiry_date",
}


class LicenceForm(StepForm):
    license_number = forms.CharField(label=_("Licence number"), max_length=50, required=False)
    license_issued_by = forms.CharField(
        label=_("Issued by"),
        max_length=255,
        help_text=_("For example: Міністерство охорони здоров'я України."),
    )
    license_issued_date = date_field(_("Date of issue"))
    license_active_from_date = date_field(_("Valid from"))
    license_expiry_date = date_field(
        _("Valid until"), required=False, help_text=_("Leave empty for a licence with no end date.")
    )
    license_order_no = forms.CharField(label=_("Number of the order that granted it"), max_length=50)

    accreditation_category = forms.ChoiceField(
        label=_("Accreditation category"), choices=dictionary_field_choices("ACCREDITATION_CATEGORY")
    )
    accreditation_order_no = forms.CharField(label=_("Order number"), max_length=50, required=False)
    accreditation_order_date = date_field(_("Order date"), required=False)
    accreditation_issued_date = date_field(_("Date of issue"), required=False)
    accreditation_expiry_date = date_field(_("Valid until"), required=False)

    groups = [
        (_("Licence for medical practice"), list(LICENCE_FIELDS.values()), {"grid": True}),
        (_("Accreditation"), list(ACCREDITATION_FIELDS.values()), {"grid": True}),
    ]

    def clean(self):
        cleaned = super().clean()
        issued, active_from = cleaned.get("license_issued_date"), cleaned.get("license_active_from_date")
        expiry = cleaned.get("license_expiry_date")
        if issued and active_from and active_from < issued and "license_active_from_date" not in self.errors:
            self.add_error("license_active_from_date", _("A licence cannot be valid before it was issued."))
        if active_from and expiry and expiry <= active_from and "license_expiry_date" not in self.errors:
            self.add_error("license_expiry_date", _("The licence must end after the date it is valid from."))
        if expiry and expiry < timezone.localdate() and "license_expiry_date" not in self.errors:
            self.add_error("license_expiry_date", _("The licence has expired."))
        accredited = cleaned.get("accreditation_category") not in (None, "", NO_ACCREDITATION)
        if (
            accredited
            and not cleaned.get("accreditation_order_date")
            and "accreditation_order_date" not in self.errors
        ):
            self.add_error("accreditation_order_date", _("Enter the date of the accreditation order."))
        return cleaned

    def payload_checks(self):
        return [
            (
                "medical_service_provider",
                payloads.MedicalServiceProviderSerializer,
                {
                    **{f"licenses[0].{key}": name for key, name in LICENCE_FIELDS.items()},
                    **{f"accreditation.{key}": name for key, name in ACCREDITATION_FIELDS.items()},
                },
            )
        ]

    def payload_part(self) -> dict:
        data = self.cleaned_data

        def block(fields: dict[str, str]) -> dict:
            return _compact(
                {
                    key: _iso(data.get(name)) if "date" in key else data.get(name)
                    for key, name in fields.items()
                }
            )

        return {
            "medical_service_provider": {
                "licenses": [block(LICENCE_FIELDS)],
                "accreditation": block(ACCREDITATION_FIELDS),
            }
        }

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        provider = payload.get("medical_service_provider") or {}
        licence = (provider.get("licenses") or [{}])[0]
        accreditation = provider.get("accreditation") or {}
        return {
            **{name: licence.get(key, "") for key, name in LICENCE_FIELDS.items()},
            **{name: accreditation.get(key, "") for key, name in ACCREDITATION_FIELDS.items()},
        }


# --- Step 4: the head -------------------------------------------------------------------------------

DOCUMENT_PARTS = ("type", "number", "issued_by", "issued_at")


class HeadForm(StepForm):
    last_name = NameField(label=_("Surname"), max_length=100)
    first_name = NameField(label=_("First name"), max_length=100)
    second_name = NameField(label=_("Patronymic"), max_length=100, required=False)
    no_tax_id = forms.BooleanField(
        label=_("I refused an RNOKPP for religious reasons and give my passport number instead"),
        required=False,
    )
    tax_id = CodeField(
        label=_("RNOKPP (individual tax number)"),
        max_length=10,
        help_text=_(
            "10 digits; it must be the one in your qualified signature. If you refused an RNOKPP: the "
            "passport number — 9 digits of the ID card, or 2 Cyrillic letters and 6 digits."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birth_date = date_field(_("Date of birth"))
    gender = forms.ChoiceField(
        label=_("Gender"), choices=dictionary_field_choices("GENDER", blank=False), widget=forms.RadioSelect
    )
    document_type = forms.ChoiceField(label=_("Document"), choices=dictionary_field_choices("DOCUMENT_TYPE"))
    document_number = CodeField(label=_("Series and number"), max_length=30)
    document_issued_by = forms.CharField(label=_("Issued by"), max_length=255)
    document_issued_at = date_field(_("Date of issue"))
    document2_type = forms.ChoiceField(
        label=_("Document"), choices=dictionary_field_choices("DOCUMENT_TYPE"), required=False
    )
    document2_number = CodeField(label=_("Series and number"), max_length=30, required=False)
    document2_issued_by = forms.CharField(label=_("Issued by"), max_length=255, required=False)
    document2_issued_at = date_field(_("Date of issue"), required=False)
    phone_mobile = PhoneField(label=_("Mobile phone"), help_text=_("For example, +380501234567."))
    phone_landline = PhoneField(label=_("Landline phone"), required=False)
    email = forms.EmailField(
        label=_("Work email"),
        help_text=_("The invitation is sent here; it becomes your login to the portal."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    position = forms.ChoiceField(
        label=_("Position"),
        choices=dictionary_field_choices("POSITION", keys=lambda: list(settings.OWNER_POSITIONS)),
    )

    groups = [
        (_("Surname, first name and patronymic"), ["last_name", "first_name", "second_name"]),
        (_("Identification"), ["no_tax_id", "tax_id", "birth_date", "gender"]),
        (_("Identity document"), [f"document_{part}" for part in DOCUMENT_PARTS], {"grid": True}),
        (
            _("Another identity document (optional)"),
            [f"document2_{part}" for part in DOCUMENT_PARTS],
            {"grid": True},
        ),
        (_("Contacts and position"), ["phone_mobile", "phone_landline", "email", "position"]),
    ]

    def __init__(self, *args, sole_proprietor_code: str | None = None, **kwargs):
        # A sole proprietor's code (step 1) is the head's own RNOKPP: the two must be the same.
        self.sole_proprietor_code = sole_proprietor_code
        super().__init__(*args, **kwargs)

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("document2_type") or cleaned.get("document2_number"):
            for name in ("document2_type", "document2_number"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("Fill in the type and the number of the second document."))
        tax_id = cleaned.get("tax_id")
        if (
            self.sole_proprietor_code
            and tax_id
            and tax_id != self.sole_proprietor_code
            and "tax_id" not in self.errors
        ):
            self.add_error(
                "tax_id",
                _(
                    "A sole proprietor's code (%(code)s, step 1) is the head's own RNOKPP: they must be the same."
                )
                % {"code": self.sole_proprietor_code},
            )
        return cleaned

    def payload_checks(self):
        field_map = {name: name for name in ("last_name", "first_name", "second_name", "tax_id", "no_tax_id")}
        field_map |= {name: name for name in ("birth_date", "gender", "email", "position")}
        field_map |= {f"documents[0].{part}": f"document_{part}" for part in DOCUMENT_PARTS}
        field_map |= {f"documents[1].{part}": f"document2_{part}" for part in DOCUMENT_PARTS}
        field_map |= {
            "documents[1]": "document2_type",
            "documents": "document_type",
            "phones": "phone_mobile",
        }
        return [("owner", payloads.OwnerSerializer, field_map)]

    def payload_part(self) -> dict:
        data = self.cleaned_data
        documents = [
            _compact({part: data.get(f"{prefix}_{part}") for part in DOCUMENT_PARTS})
            for prefix in ("document", "document2")
            if data.get(f"{prefix}_type")
        ]
        for document in documents:
            if "issued_at" in document:
                document["issued_at"] = _iso(document["issued_at"])
        phones = [{"type": "MOBILE", "number": data["phone_mobile"]}]
        if data.get("phone_landline"):
            phones.append({"type": "LAND_LINE", "number": data["phone_landline"]})
        owner = {
            "last_name": data["last_name"],
            "first_name": data["first_name"],
            "second_name": data.get("second_name"),
            "tax_id": data["tax_id"],
            "birth_date": _iso(data["birth_date"]),
            "gender": data["gender"],
            "email": data["email"],
            "documents": documents,
            "phones": phones,
            "position": data["position"],
        }
        return {"owner": {**_compact(owner), "no_tax_id": bool(data.get("no_tax_id"))}}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        owner = payload.get("owner") or {}
        documents = [*owner.get("documents", []), {}, {}]
        phones = {phone["type"]: phone["number"] for phone in owner.get("phones", [])}
        names = (
            "last_name",
            "first_name",
            "second_name",
            "tax_id",
            "birth_date",
            "gender",
            "email",
            "position",
        )
        return {
            **{name: owner.get(name, "") for name in names},
            "no_tax_id": bool(owner.get("no_tax_id")),
            **{f"document_{part}": documents[0].get(part, "") for part in DOCUMENT_PARTS},
            **{f"document2_{part}": documents[1].get(part, "") for part in DOCUMENT_PARTS},
            "phone_mobile": phones.get("MOBILE", ""),
            "phone_landline": phones.get("LAND_LINE", ""),
        }


# --- Step 5: review and sign ------------------------------------------------------------------------


class ReviewForm(SignatureInputMixin, forms.Form):
    """Consent and the signature: an uploaded .p7s, or one made in the browser (base64 DER)."""

    public_offer_consent = forms.BooleanField(
        label=_("I have read the public offer and accept it"),
        error_messages={"required": _("Accept the public offer to register the facility.")},
    )
    signature = forms.FileField(
        label=_("Signature file (.p7s)"),
        required=False,
        help_text=_(
            "The document above signed with your qualified signature by any tool: an attached or a "
            "detached signature, in DER, PEM or base64."
        ),
    )
    signature_base64 = forms.CharField(required=False, widget=forms.HiddenInput)
    # The SHA-256 of the document shown: a submission refers to exactly that document.
    document_sha256 = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if "signature" in self.errors or "signature_base64" in self.errors:
            return cleaned
        uploaded, signed_here = cleaned.get("signature"), cleaned.get("signature_base64")
        if uploaded and signed_here:
            self.add_error(
                "signature", _("Give one signature: upload a file or sign in the browser, not both.")
            )
        elif not uploaded and not signed_here:
            self.add_error(
                "signature",
                _("Sign the document: upload a signature file, or sign with your key file below."),
            )
        else:
            cleaned["signed_envelope"] = uploaded or signed_here
        return cleaned


WIZARD_STEPS = [
    (STEP_FACILITY, FacilityForm),
    (STEP_ADDRESSES, AddressesForm),
    (STEP_LICENCE, LicenceForm),
    (STEP_HEAD, HeadForm),
    (STEP_REVIEW, ReviewForm),
]
DATA_STEPS = [(step, form_class) for step, form_class in WIZARD_STEPS if step != STEP_REVIEW]


def public_offer() -> dict:
    return {"consent": True, "consent_text": PUBLIC_OFFER_TEXT}


def wizard_payload(cleaned_data_by_step: dict[str, dict]) -> dict:
    """The eHealth legal-entity payload from the steps' cleaned data (before `payloads` normalises it)."""
    payload = {}
    for step, form_class in DATA_STEPS:
        form = form_class()
        form.cleaned_data = cleaned_data_by_step[step]
        payload.update(form.payload_part())
    payload["public_offer"] = public_offer()
    return payload


def wizard_step_data(payload: dict) -> dict[str, dict[str, list[str]]]:
    """The wizard's stored step data (as if typed in) that reproduces `payload`."""
    return {
        step: _raw_data(form_class, step, form_class.values_from_payload(payload))
        for step, form_class in DATA_STEPS
    }


def _raw_data(form_class: type[forms.Form], prefix: str, values: dict) -> dict[str, list[str]]:
    data = {}
    for name, value in values.items():
        if value in (None, "", False, []):
            continue
        if value is True:
            value = ["on"]
        elif isinstance(value, list):
            value = [str(item) for item in value]
        else:
            value = [str(value)]
        data[f"{prefix}-{name}"] = value
    for name in form_class.base_fields:
        data.setdefault(f"{prefix}-{name}", [])  # unticked boxes stay unticked, not their initial value
    return data


# --- Review -----------------------------------------------------------------------------------------


def review_sections(forms_by_step: dict[str, StepForm]) -> list[dict]:
    """What the user entered, by step and group: [{step, groups: [(title, [(label, text)])]}].

    Empty optional fields are left out; ticked boxes and chosen codes show their labels.
    """
    sections = []
    for step, form in forms_by_step.items():
        if not form.is_valid():
            sections.append({"step": step, "groups": [], "incomplete": True})
            continue
        groups = []
        for group in form.field_groups():
            fields = [group["toggle"], *group["fields"]] if group["toggle"] else group["fields"]
            if group["toggle"] and form.cleaned_data.get(group["toggle"].name):
                fields = [group["toggle"]]  # "same as …": the hidden fields are not used
            rows = [(field.label, text) for field in fields if (text := _display(field)) is not None]
            if rows:
                groups.append((group["title"], rows))
        sections.append({"step": step, "groups": groups, "incomplete": False})
    return sections


def _display(bound_field) -> str | None:
    field, value = bound_field.field, bound_field.form.cleaned_data.get(bound_field.name)
    if value in (None, "", []) or value is False:
        return None
    if isinstance(field, forms.BooleanField):
        return str(_("Yes"))
    if isinstance(field, forms.MultipleChoiceField):
        labels = dict(field.choices)
        return "; ".join(labels.get(code, code) for code in value)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


# Payload paths in words, for errors the payload rules report on the review step (longest first).
PAYLOAD_PATH_LABELS = [
    ("owner.tax_id", _("Head: RNOKPP")),
    ("owner.birth_date", _("Head: date of birth")),
    ("owner.position", _("Head: position")),
    ("owner.documents", _("Head: identity document")),
    ("owner", _("Head")),
    ("medical_service_provider.accreditation", _("Accreditation")),
    ("medical_service_provider", _("Licence")),
    ("division", _("Place of service")),
    ("addresses", _("Addresses")),
    ("edrpou", _("EDRPOU")),
    ("kveds", _("KVED")),
    ("public_offer", _("Public offer")),
    ("signed_legal_entity_request", _("Signature")),
]


# --- Public pages -----------------------------------------------------------------------------------


class FacilitySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or EDRPOU"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    area = forms.ChoiceField(label=_("Region"), required=False, choices=[("", _("All regions")), *AREAS])
    settlement = forms.CharField(label=_("Settlement"), required=False, max_length=100)


class InvitationAcceptForm(forms.Form):
    """A new password, twice, checked by the portal's password validators against the login email."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first, user=get_user_model()(email=self.email))
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
