"""Facility registration, steps 1–3: the facility, its addresses and first place of service, the licence.

Step 4 (the head) is `registration_head`; the review, the steps' order and the payload built from them
are `registration`.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.validators import is_valid_passport_number, validate_edrpou, validate_rnokpp

from .. import payloads
from ..addresses import AREAS
from ..selectors import legal_entity_active_exists
from .fields import (
    CheckboxList,
    CodeField,
    CoordinateField,
    NameField,
    PhoneField,
    compact,
    date_field,
    dictionary_field_choices,
    iso_date,
)
from .steps import StepForm

STEP_FACILITY = "facility"
STEP_ADDRESSES = "addresses"
STEP_LICENCE = "licence"
STEP_HEAD = "head"
STEP_REVIEW = "review"

NO_ACCREDITATION = "NO_ACCREDITATION"

# Ukraine's bounding box, roughly: a point outside it is a slip of the mouse or swapped coordinates.
LATITUDE_RANGE = (Decimal(44), Decimal(53))
LONGITUDE_RANGE = (Decimal(22), Decimal(41))

# A code registered once: said on step 1 and, for a facility registered meanwhile, on submission.
ALREADY_REGISTERED = _(
    "A facility with this code is already registered. If you are its head, sign in to the portal: "
    "the facility's cabinet is there. If not, ask the facility's head to add you as an employee."
)


def phones_part(mobile: str | None, landline: str | None) -> list[dict]:
    """The `phones` of a payload block: the mobile one, then the landline if given."""
    numbers = (("MOBILE", mobile), ("LAND_LINE", landline))
    return [{"type": kind, "number": number} for kind, number in numbers if number]


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
            "Tick every code registered for the facility; at least one must be 86.10 or 86.21 (primary care)."
        ),
        widget=CheckboxList(
            container_attrs={
                "data-checkbox-filter": "",
                "data-filter-label": _("Find a code: type digits or words"),
                "data-chosen-label": _("Chosen:"),
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
        (_("Legal details"), ["legal_form", "owner_property_type", "edrpou", "kveds"], {"wide": ["kveds"]}),
        (_("Contacts"), ["email", "phone_mobile", "phone_landline", "website"]),
    ]
    payload_keys = (
        "type",
        "name",
        "short_name",
        "public_name",
        "legal_form",
        "owner_property_type",
        "edrpou",
        "kveds",
        "email",
        "phones",
        "website",
    )

    @property
    def already_registered(self) -> bool:
        """The code has an active facility: the step says what to do instead of registering it again."""
        return self.is_bound and self.has_error("edrpou", "legal_entity_exists")

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
        if edrpou and "edrpou" not in self.errors and legal_entity_active_exists(edrpou=edrpou):
            self.add_error("edrpou", ValidationError(ALREADY_REGISTERED, code="legal_entity_exists"))
        for name in ("name", "short_name", "public_name"):
            if cleaned.get(name) and name not in self.errors:
                try:
                    payloads.validate_organisation_name(cleaned[name])
                except ValidationError as error:
                    self.add_error(name, error)
        return cleaned

    def payload_part(self) -> dict:
        data = self.cleaned_data
        return compact(
            {
                "type": payloads.MSP,
                **{name: data.get(name) for name in ("name", "short_name", "public_name", "legal_form")},
                **{name: data.get(name) for name in ("owner_property_type", "edrpou", "email", "website")},
                "kveds": list(data.get("kveds") or []),
                "phones": phones_part(data.get("phone_mobile"), data.get("phone_landline")),
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
    return compact(
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
    payload_keys = ("addresses", "division")

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
        phone, latitude, longitude = (
            data.get(f"division_{name}") for name in ("phone", "latitude", "longitude")
        )
        division = compact(
            {
                "name": data.get("division_name"),
                "type": data.get("division_type"),
                "addresses": [_address(data, self._division_address_prefix(), "RESIDENCE")],
                "phones": [{"type": data.get("division_phone_type"), "number": phone}] if phone else [],
                "email": data.get("division_email"),
                "location": {"latitude": float(latitude), "longitude": float(longitude)}
                if latitude is not None and longitude is not None
                else None,
            }
        )
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
    payload_keys = ("medical_service_provider",)
    # The order that granted an accreditation: needed for every category but "not accredited".
    required_unless = {
        "accreditation_order_no": ("accreditation_category", (NO_ACCREDITATION,)),
        "accreditation_order_date": ("accreditation_category", (NO_ACCREDITATION,)),
    }

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
            return compact(
                {
                    key: iso_date(data.get(name)) if "date" in key else data.get(name)
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
