"""The eHealth division (place of service) payload (ehealth-api.md §5)."""

from rest_framework import serializers

from .common import (
    AddressSerializer,
    DictionaryKeyField,
    LocationSerializer,
    LowerEmailField,
    PhoneSerializer,
    StrictSerializer,
    _exactly_one_address,
    validate_organisation_name,
)

MSP_DIVISION_TYPES = ("CLINIC", "AMBULANT_CLINIC", "FAP")  # eHealth :legal_entity_division_types


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
