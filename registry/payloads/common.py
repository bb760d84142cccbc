"""What the eHealth payloads share: fields, strict serializers, addresses, phones, documents, people.

Errors are one Django `ValidationError` whose keys are JSON paths without the leading `$.`
("owner.tax_id", "addresses[0].zip"); the API prefixes `$.`, a form maps them to its fields.
"""

import datetime
import json
import re
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.error_paths import error_paths
from ehealth_portal.serializers import SharedFieldsSerializer
from ehealth_portal.validators import validate_person_name, validate_phone, validate_tax_id

from ..selectors import dictionary_has_key, global_parameter_int

MAX_AGE = 150

# eHealth's legal-entity name pattern forbids these; person names have their own validator.
_NAME_FORBIDDEN_RE = re.compile(r"[ЫЪЭЁыъэё@%&$^#]")
_ZIP_RE = re.compile(r"\A[0-9]{5}\Z")
_BUILDING_RE = re.compile(r"\A[1-9]")


def validate_organisation_name(value: str) -> None:
    if _NAME_FORBIDDEN_RE.search(value):
        raise DjangoValidationError(
            _("The name cannot contain the letters Ы, Ъ, Э, Ё or the characters @%&$^#."),
            code="name_forbidden_characters",
        )


# --- Fields -----------------------------------------------------------------------------------------


class DictionaryKeyField(serializers.CharField):
    """A code that must be an active key of a dictionary (eHealth's `inclusion` rule)."""

    def __init__(self, dictionary: str, *, allowed: tuple[str, ...] | None = None, **kwargs):
        self.dictionary = dictionary
        self.allowed = allowed
        # A key is a code: " MOBILE" is not one (refused as not in the dictionary, not trimmed to one).
        super().__init__(max_length=100, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if (self.allowed is not None and value not in self.allowed) or not dictionary_has_key(
            name=self.dictionary, key=value
        ):
            raise serializers.ValidationError(
                _("“%(value)s” is not a value of the %(dictionary)s dictionary.")
                % {"value": value, "dictionary": self.dictionary},
                code="inclusion",
            )
        return value


class LowerEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class PersonNameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=100, validators=[validate_person_name], **kwargs)


class PastDateField(serializers.DateField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The date cannot be in the future."), code="future_date")
        return value


# --- Serializers ------------------------------------------------------------------------------------


class StrictSerializer(SharedFieldsSerializer):
    """Refuses keys it does not know, like eHealth's `additionalProperties: false` schemas."""

    ignored_fields: tuple[str, ...] = ()
    refuses_unknown_keys = True  # the OpenAPI schema says additionalProperties: false

    def to_internal_value(self, data):
        unknown = (
            sorted(set(data) - set(self.fields) - set(self.ignored_fields)) if isinstance(data, dict) else []
        )
        errors = {
            key: [serializers.ErrorDetail(str(_("Unknown field.")), code="unknown_field")] for key in unknown
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from error
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _unique_by_type(items: list[dict]) -> None:
    types = [item["type"] for item in items]
    if len(types) != len(set(types)):
        raise serializers.ValidationError(_("Each type may be listed only once."), code="unique_by_type")


class TypedListSerializer(serializers.ListSerializer):
    """A list of objects with a `type`, each type at most once (eHealth's array uniqueness)."""

    def validate(self, attrs):
        _unique_by_type(attrs)
        return attrs


class AddressSerializer(StrictSerializer):
    type = DictionaryKeyField("ADDRESS_TYPE")
    country = serializers.ChoiceField(choices=["UA"])
    area = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False)
    settlement = serializers.CharField(max_length=100)
    settlement_type = DictionaryKeyField("SETTLEMENT_TYPE")
    settlement_id = serializers.UUIDField(required=False)
    street_type = DictionaryKeyField("STREET_TYPE", required=False)
    street = serializers.CharField(max_length=255, required=False)
    building = serializers.CharField(max_length=20, required=False)
    apartment = serializers.CharField(max_length=20, required=False)
    zip = serializers.CharField(max_length=5, required=False)

    class Meta:
        list_serializer_class = TypedListSerializer

    def validate_building(self, value):
        if not _BUILDING_RE.match(value):
            raise serializers.ValidationError(_("A building number starts with a digit 1–9."), code="format")
        return value

    def validate_zip(self, value):
        if not _ZIP_RE.match(value):
            raise serializers.ValidationError(_("A postal code is 5 digits."), code="format")
        return value


class PhoneSerializer(StrictSerializer):
    type = DictionaryKeyField("PHONE_TYPE")
    number = serializers.CharField(max_length=13, validators=[validate_phone])

    class Meta:
        list_serializer_class = TypedListSerializer


class DocumentSerializer(StrictSerializer):
    type = DictionaryKeyField("DOCUMENT_TYPE")
    number = serializers.CharField(max_length=30)
    issued_by = serializers.CharField(max_length=255, required=False)
    issued_at = PastDateField(required=False)

    class Meta:
        list_serializer_class = TypedListSerializer


class PartySerializer(StrictSerializer):
    """A person as eHealth's `party` (and a facility's `owner`): working age, RNOKPP or passport."""

    last_name = PersonNameField()
    first_name = PersonNameField()
    second_name = PersonNameField(required=False)
    tax_id = serializers.CharField(max_length=10)
    no_tax_id = serializers.BooleanField(default=False)
    birth_date = PastDateField()
    gender = DictionaryKeyField("GENDER")
    email = LowerEmailField()
    documents = DocumentSerializer(many=True, min_length=1)
    phones = PhoneSerializer(many=True, min_length=1)

    age_message = _("The person must be %(min)s to %(max)s years old.")
    age_code = "party_age"

    def validate_tax_id(self, value):
        return value.upper()

    def validate_birth_date(self, value):
        adult_age = global_parameter_int(name="adult_age", default=18)
        age = _age(value, timezone.localdate())
        if not adult_age <= age <= MAX_AGE:
            raise serializers.ValidationError(
                self.age_message % {"min": adult_age, "max": MAX_AGE}, code=self.age_code
            )
        return value

    def validate(self, attrs):
        try:
            validate_tax_id(attrs["tax_id"], no_tax_id=attrs["no_tax_id"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"tax_id": _drf_details(error)}) from error
        return attrs


class LocationSerializer(StrictSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)

    def validate(self, attrs):
        # The model keeps 6 decimals (about 10 cm); round here so the signed document matches the data.
        return {name: round(value, 6) for name, value in attrs.items()}


def payload_validate(serializer_class, data: Any, **context) -> dict:
    """Validate a payload with its serializer; return it normalised and JSON-ready.

    Normalised: strings trimmed, emails in lower case, dates as YYYY-MM-DD, optional members that were
    not given left out. Validating the result again returns it unchanged, so its canonical form is stable.
    Raises ValidationError({"party.tax_id": [ValidationError(message, code)], ...}).
    """
    if not isinstance(data, dict):
        raise DjangoValidationError(
            {NON_FIELD_ERRORS: [DjangoValidationError(_("Expected a JSON object."), code="type")]}
        )
    serializer = serializer_class(data=data, context=context)
    if not serializer.is_valid():
        raise DjangoValidationError(payload_errors_flatten(serializer.errors))
    # `.data` renders validated_data through the fields: dates become ISO strings, UUIDs text.
    return json.loads(json.dumps(serializer.data))


def payload_canonical(data: dict) -> bytes:
    """The document a person signs: canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def payload_errors_flatten(errors: Any) -> dict[str, list[DjangoValidationError]]:
    """DRF's nested errors → {"owner.tax_id": [ValidationError(message, code)], ...} (codes kept)."""
    return {
        path or NON_FIELD_ERRORS: [
            DjangoValidationError(str(item), code=getattr(item, "code", None) or "invalid") for item in items
        ]
        for path, items in error_paths(errors).items()
    }


def payload_full_name(person: dict) -> str:
    """ "Прізвище Ім'я По батькові" of an owner block, as the state register writes names."""
    return " ".join(
        filter(None, [person.get("last_name"), person.get("first_name"), person.get("second_name")])
    )


def _exactly_one_address(addresses: list[dict], address_type: str) -> None:
    count = sum(1 for address in addresses if address["type"] == address_type)
    if count != 1:
        raise serializers.ValidationError(
            _("Exactly one address of type %(type)s is required, got %(count)s.")
            % {"type": address_type, "count": count},
            code="address_type_count",
        )


def _drf_details(error: DjangoValidationError) -> list[serializers.ErrorDetail]:
    return [serializers.ErrorDetail(message, code=item.code) for item in error.error_list for message in item]


def _age(birth_date: datetime.date, today: datetime.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
