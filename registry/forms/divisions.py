"""The cabinet's form of a place of service (division): name, type, address with the map, contacts and
working hours, checked by the eHealth division payload (`payloads.DivisionPayloadSerializer`).

It reuses the registration wizard's address fields and location picker (the fields are named
`division_*`, as on the wizard's step 2, so static/js/location-picker.js finds the address and the
coordinates). Working hours are one text field per weekday: "08.00-12.00, 13.00-17.00".
"""

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .. import payloads
from ..models import Division
from .fields import CoordinateField, NameField, PhoneField, compact, dictionary_field_choices
from .registration_steps import (
    ADDRESS_OPTIONAL_PARTS,
    ADDRESS_PARTS,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    _address,
    _address_field_map,
    _address_values,
    address_fields,
    phones_part,
)
from .steps import StepForm

PREFIX = "division"  # the address fields' prefix the location picker looks for
WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
# "8:00 - 12.00", "08.00–12.00": hours and minutes with a dot or a colon, any dash between.
_INTERVAL_RE = re.compile(r"\A(\d{1,2})[.:](\d{2})\s*[-–—]\s*(\d{1,2})[.:](\d{2})\Z")


def _time(hours: str, minutes: str) -> str:
    return f"{int(hours):02d}.{minutes}"


class WorkingDayField(forms.CharField):
    """A weekday's hours as typed, "08.00-12.00, 13.00-17.00" → [["08.00", "12.00"], ["13.00", "17.00"]].

    Only the shape is checked here; the times, their order and overlaps are the payload's rules.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", _("For example: 08.00-12.00, 13.00-17.00. Leave empty if the place is closed.")
        )
        super().__init__(max_length=200, required=False, **kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        intervals = []
        for part in filter(None, (item.strip() for item in re.split(r"[,;]", text))):
            match = _INTERVAL_RE.match(part)
            if not match:
                raise ValidationError(
                    _("“%(part)s” is not an interval such as 08.00-12.00."),
                    code="interval_format",
                    params={"part": part},
                )
            hours1, minutes1, hours2, minutes2 = match.groups()
            intervals.append([_time(hours1, minutes1), _time(hours2, minutes2)])
        return intervals


def working_hours_text(intervals: list) -> str:
    """The field's text of a weekday's stored intervals."""
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


class DivisionForm(StepForm):
    name = NameField(
        label=_("Name of the place of service"),
        max_length=255,
        help_text=_("For example: Амбулаторія загальної практики сімейної медицини № 1."),
        widget=forms.TextInput(attrs={"class": "input-wide"}),
    )
    type = forms.ChoiceField(
        label=_("Type of the place of service"),
        choices=dictionary_field_choices("DIVISION_TYPE", keys=lambda: list(payloads.MSP_DIVISION_TYPES)),
    )
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone_mobile = PhoneField(
        label=_("Mobile phone"),
        required=False,
        help_text=_("For example, +380501234567. Give a mobile or a landline phone, or both."),
    )
    phone_landline = PhoneField(label=_("Landline phone"), required=False)
    division_latitude = CoordinateField(
        label=_("Latitude"), required=False, help_text=_("For example, 50.450100.")
    )
    division_longitude = CoordinateField(
        label=_("Longitude"), required=False, help_text=_("For example, 30.523400.")
    )

    groups = [
        (_("The place of service"), ["name", "type"], {"grid": True, "wide": ["name"]}),
        (_("Contacts"), ["email", "phone_mobile", "phone_landline"], {"grid": True}),
        (
            _("Address of the place of service"),
            [f"{PREFIX}_{part}" for part in ADDRESS_PARTS],
            {"grid": True},
        ),
        (
            _("Location on the map"),
            ["division_latitude", "division_longitude"],
            {"grid": True, "map": True},
        ),
        (_("Working hours"), [f"hours_{day}" for day in payloads.WEEKDAYS], {"grid": True}),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(address_fields(PREFIX))
        for part in ADDRESS_PARTS:
            if part not in ADDRESS_OPTIONAL_PARTS:
                self.fields[f"{PREFIX}_{part}"].required = True
        for day, label in WEEKDAY_LABELS.items():
            self.fields[f"hours_{day}"] = WorkingDayField(label=label)

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean_division_latitude(self):
        return self._in_ukraine("division_latitude", LATITUDE_RANGE)

    def clean_division_longitude(self):
        return self._in_ukraine("division_longitude", LONGITUDE_RANGE)

    def _in_ukraine(self, name: str, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
        value = self.cleaned_data[name]
        if value is not None and not bounds[0] <= value <= bounds[1]:
            raise ValidationError(
                _("The point is outside Ukraine: enter a value from %(low)s to %(high)s."),
                code="out_of_ukraine",
                params={"low": bounds[0], "high": bounds[1]},
            )
        return value

    def clean(self):
        cleaned = super().clean()
        phones_failed = {"phone_mobile", "phone_landline"} & set(self.errors)
        if not phones_failed and not (cleaned.get("phone_mobile") or cleaned.get("phone_landline")):
            self.add_error("phone_mobile", ValidationError(_("Give at least one phone."), code="required"))
        latitude, longitude = cleaned.get("division_latitude"), cleaned.get("division_longitude")
        coordinates_failed = {"division_latitude", "division_longitude"} & set(self.errors)
        if not coordinates_failed and (latitude is None) != (longitude is None):
            missing = "division_longitude" if longitude is None else "division_latitude"
            self.add_error(
                missing,
                ValidationError(
                    _("Give both coordinates, or click the place on the map."), code="location_incomplete"
                ),
            )
        return cleaned

    def payload_checks(self):
        return [
            (
                "division",
                payloads.DivisionPayloadSerializer,
                {
                    "name": "name",
                    "type": "type",
                    "email": "email",
                    "phones": "phone_mobile",
                    "location": "division_latitude",
                    "location.longitude": "division_longitude",
                    **_address_field_map(PREFIX, "addresses[0]"),
                    **{f"working_hours.{day}": f"hours_{day}" for day in payloads.WEEKDAYS},
                },
            )
        ]

    def division_data(self) -> dict:
        """eHealth's division payload of the form; cleared optional members are null (a PATCH removes them)."""
        data = self.cleaned_data
        latitude, longitude = data.get("division_latitude"), data.get("division_longitude")
        hours = {day: data.get(f"hours_{day}") for day in payloads.WEEKDAYS}
        return {
            **compact(
                {
                    "name": data.get("name"),
                    "type": data.get("type"),
                    "addresses": [_address(data, PREFIX, "RESIDENCE")],
                    "phones": phones_part(data.get("phone_mobile"), data.get("phone_landline")),
                    "email": data.get("email"),
                }
            ),
            "location": {"latitude": float(latitude), "longitude": float(longitude)}
            if latitude is not None and longitude is not None
            else None,
            "working_hours": {day: value for day, value in hours.items() if value} or None,
        }

    def payload_part(self) -> dict:
        return {"division": {key: value for key, value in self.division_data().items() if value is not None}}

    @classmethod
    def initial_from_division(cls, division: Division) -> dict:
        """The form's values of a stored place of service."""
        phones = {phone.get("type"): phone.get("number", "") for phone in division.phones}
        residence = next(
            (address for address in division.addresses if address.get("type") == "RESIDENCE"), None
        )
        return {
            "name": division.name,
            "type": division.type,
            "email": division.email,
            "phone_mobile": phones.get("MOBILE", ""),
            "phone_landline": phones.get("LAND_LINE", ""),
            **_address_values(residence, PREFIX),
            "division_latitude": division.latitude,
            "division_longitude": division.longitude,
            **{
                f"hours_{day}": working_hours_text((division.working_hours or {}).get(day))
                for day in payloads.WEEKDAYS
            },
        }
