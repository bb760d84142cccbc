"""The eHealth division (place of service) payload (ehealth-api.md §5).

`DivisionSerializer` is the registration's first place of service (inside the signed legal-entity
payload); `DivisionPayloadSerializer` is eHealth's `division_create_request` of `POST /api/divisions`
and the cabinet's pages, with the members the registration does not take.

Differences from eHealth, on purpose:
* `legal_entity_id` may be left out: it is always the caller's facility (eHealth overwrites it too).
* `working_hours` are checked, not only displayed: each time is HH.MM (24.00 may end a day), each
  interval starts before it ends, and a day's intervals do not overlap (they are stored in order).
"""

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .common import (
    AddressSerializer,
    DictionaryKeyField,
    LocationSerializer,
    LowerEmailField,
    PhoneSerializer,
    StrictSerializer,
    _exactly_one_address,
    payload_validate,
    validate_organisation_name,
)

MSP_DIVISION_TYPES = ("CLINIC", "AMBULANT_CLINIC", "FAP")  # eHealth :legal_entity_division_types
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"\A(?:(?:[01][0-9]|2[0-3])\.[0-5][0-9]|24\.00)\Z")


class DivisionSerializer(StrictSerializer):
    name = serializers.CharField(max_length=255, validators=[validate_organisation_name])
    type = DictionaryKeyField("DIVISION_TYPE", allowed=MSP_DIVISION_TYPES)
    addresses = AddressSerializer(many=True, min_length=1)
    phones = PhoneSerializer(many=True, min_length=1)
    email = LowerEmailField()
    location = LocationSerializer(required=False)

    def validate_addresses(self, value):
        _exactly_one_address(value, "RESIDENCE")
        return value


class TimeField(serializers.CharField):
    """A time of day as eHealth writes it: "08.00" (24.00 only ends a day)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=5, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not _TIME_RE.match(value):
            raise serializers.ValidationError(
                _("Write a time as hours and minutes with a dot, from 00.00 to 24.00, e.g. 08.00."),
                code="time_format",
            )
        return value


class IntervalField(serializers.ListField):
    """One opening interval: ["08.00", "12.00"], starting before it ends."""

    def __init__(self, **kwargs):
        super().__init__(child=TimeField(), min_length=2, max_length=2, **kwargs)

    def to_internal_value(self, data):
        times = super().to_internal_value(data)
        self.run_validators(times)  # its length, before the order is read
        start, end = times
        if start >= end:  # zero-padded HH.MM strings compare as times
            raise serializers.ValidationError(
                _("An interval must start before it ends: %(start)s–%(end)s.") % {"start": start, "end": end},
                code="interval_order",
            )
        return [start, end]


class DayField(serializers.ListField):
    """A weekday's intervals, in order, none overlapping another (touching is fine: 12.00–13.00, 13.00–…)."""

    def __init__(self, **kwargs):
        super().__init__(child=IntervalField(), max_length=10, required=False, **kwargs)

    def to_internal_value(self, data):
        intervals = sorted(super().to_internal_value(data))
        for previous, current in zip(intervals, intervals[1:], strict=False):
            if current[0] < previous[1]:
                raise serializers.ValidationError(
                    _("The intervals %(first)s and %(second)s overlap.")
                    % {"first": "–".join(previous), "second": "–".join(current)},
                    code="intervals_overlap",
                )
        return intervals


class WorkingHoursSerializer(StrictSerializer):
    """{"mon": [["08.00", "12.00"], ["13.00", "17.00"]], ...}: a day left out (or empty) is closed."""

    mon = DayField()
    tue = DayField()
    wed = DayField()
    thu = DayField()
    fri = DayField()
    sat = DayField()
    sun = DayField()

    def validate(self, attrs):
        return {day: attrs[day] for day in WEEKDAYS if attrs.get(day)}  # in week order, closed days left out


class DivisionPayloadSerializer(DivisionSerializer):
    """eHealth's `division_create_request` (API19 json_schemas/division/division_create_request.json)."""

    legal_entity_id = serializers.UUIDField(required=False)
    external_id = serializers.CharField(max_length=100, required=False)
    working_hours = WorkingHoursSerializer(required=False)


def division_payload_validate(data: Any) -> dict:
    """Validate eHealth's division payload; return it normalised (intervals in order, closed days out)."""
    return payload_validate(DivisionPayloadSerializer, data)
