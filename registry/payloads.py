"""The eHealth legal-entity payload (ehealth-api.md §2.2): its rules in one place.

The web wizard and `PUT /api/legal_entities` both validate through `legal_entity_payload_validate`,
and the head signs `legal_entity_payload_canonical` of the validated data. Errors are one Django
`ValidationError` whose keys are JSON paths without the leading `$.` ("owner.tax_id",
"addresses[0].zip"); the API prefixes `$.`, a form maps them to its fields.

Differences from eHealth, on purpose:
* `owner.no_tax_id` may be true (a head who refused an RNOKPP gives a passport number): issue 3.
* `division` is ours: the first place of service, needed for the map (optional here).
* `settlement_id` is optional (there is no settlement registry yet); `security` is optional
  (OAuth clients come with the MIS-access issue); `country` must be UA.
* `medical_service_provider.accreditation` is required (its `order_no` may be left out for
  NO_ACCREDITATION); phones are +380XXXXXXXXX (the project's phone validator).
"""

import datetime
import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.error_paths import error_paths
from ehealth_portal.serializers import SharedFieldsSerializer
from ehealth_portal.validators import (
    validate_edrpou,
    validate_person_name,
    validate_phone,
    validate_tax_id,
)

from .selectors import dictionary_has_key, global_parameter_int

SOLE_PROPRIETOR_LEGAL_FORM = "910"  # LEGAL_FORM: ФОП
MSP = "MSP"
MSP_DIVISION_TYPES = ("CLINIC", "AMBULANT_CLINIC", "FAP")  # eHealth :legal_entity_division_types
MAX_AGE = 150

# eHealth's legal-entity name pattern forbids these; person names have their own validator.
_NAME_FORBIDDEN_RE = re.compile(r"[ЫЪЭЁыъэё@%&$^#]")
_WEBSITE_RE = re.compile(r"\A(https?://)?([a-z0-9][a-z0-9\-]*\.)+[a-z0-9][a-z0-9\-]*\Z")
_ZIP_RE = re.compile(r"\A[0-9]{5}\Z")
_BUILDING_RE = re.compile(r"\A[1-9]")
_DIGITS_RE = re.compile(r"\A[0-9]+\Z")


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
        super().__init__(max_length=100, **kwargs)

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


class OwnerSerializer(StrictSerializer):
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
    position = DictionaryKeyField("POSITION")

    def validate_tax_id(self, value):
        return value.upper()

    def validate_position(self, value):
        if value not in settings.OWNER_POSITIONS:
            raise serializers.ValidationError(
                _("This position cannot be the head of a facility."), code="owner_position"
            )
        return value

    def validate_birth_date(self, value):
        adult_age = global_parameter_int(name="adult_age", default=18)
        age = _age(value, timezone.localdate())
        if not adult_age <= age <= MAX_AGE:
            raise serializers.ValidationError(
                _("The head must be %(min)s to %(max)s years old.") % {"min": adult_age, "max": MAX_AGE},
                code="owner_age",
            )
        return value

    def validate(self, attrs):
        try:
            validate_tax_id(attrs["tax_id"], no_tax_id=attrs["no_tax_id"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"tax_id": _drf_details(error)}) from error
        return attrs


class LicenseSerializer(StrictSerializer):
    license_number = serializers.CharField(max_length=50, required=False)
    issued_by = serializers.CharField(max_length=255)
    issued_date = PastDateField()
    active_from_date = serializers.DateField()
    expiry_date = serializers.DateField(required=False)
    what_licensed = serializers.CharField(max_length=500, required=False)
    order_no = serializers.CharField(max_length=50)

    def validate(self, attrs):
        expiry = attrs.get("expiry_date")
        if expiry and expiry < attrs["active_from_date"]:
            raise serializers.ValidationError(
                {"expiry_date": _("The licence cannot expire before it is active.")}, code="date_order"
            )
        return attrs


class AccreditationSerializer(StrictSerializer):
    category = DictionaryKeyField("ACCREDITATION_CATEGORY")
    order_no = serializers.CharField(max_length=50, required=False)
    order_date = PastDateField(required=False)
    issued_date = PastDateField(required=False)
    expiry_date = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs["category"] != "NO_ACCREDITATION" and not attrs.get("order_no"):
            raise serializers.ValidationError(
                {"order_no": _("Enter the number of the accreditation order.")}, code="required"
            )
        if (
            attrs.get("issued_date")
            and attrs.get("expiry_date")
            and attrs["expiry_date"] < attrs["issued_date"]
        ):
            raise serializers.ValidationError(
                {"expiry_date": _("The accreditation cannot expire before it is issued.")}, code="date_order"
            )
        return attrs


class MedicalServiceProviderSerializer(StrictSerializer):
    licenses = LicenseSerializer(many=True, min_length=1, max_length=1)
    accreditation = AccreditationSerializer()


class SecuritySerializer(StrictSerializer):
    redirect_uri = serializers.URLField(max_length=255)

    def validate_redirect_uri(self, value):
        if not value.startswith("https://"):
            raise serializers.ValidationError(_("The address must start with https://."), code="format")
        return value


class PublicOfferSerializer(StrictSerializer):
    consent = serializers.BooleanField()
    consent_text = serializers.CharField(max_length=5000, required=False)

    def validate_consent(self, value):
        if value is not True:
            raise serializers.ValidationError(
                _("You must accept the public offer to register the facility."), code="consent_required"
            )
        return value


class ArchiveSerializer(StrictSerializer):
    date = PastDateField()
    place = serializers.CharField(max_length=500)


class LocationSerializer(StrictSerializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)

    def validate(self, attrs):
        # The model keeps 6 decimals (about 10 cm); round here so the signed document matches the data.
        return {name: round(value, 6) for name, value in attrs.items()}


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


class LegalEntityPayloadSerializer(StrictSerializer):
    # Set by the server in eHealth; accepted and dropped.
    ignored_fields = ("status", "mis_verified")

    name = serializers.CharField(max_length=500, validators=[validate_organisation_name])
    short_name = serializers.CharField(
        max_length=255, required=False, validators=[validate_organisation_name]
    )
    public_name = serializers.CharField(
        max_length=255, required=False, validators=[validate_organisation_name]
    )
    type = DictionaryKeyField("LEGAL_ENTITY_TYPE")
    owner_property_type = DictionaryKeyField("OWNER_PROPERTY_TYPE")
    legal_form = DictionaryKeyField("LEGAL_FORM")
    edrpou = serializers.CharField(max_length=10)
    kveds = serializers.ListField(child=serializers.CharField(max_length=10), min_length=1, max_length=100)
    addresses = AddressSerializer(many=True, min_length=1)
    phones = PhoneSerializer(many=True, min_length=1)
    email = LowerEmailField()
    website = serializers.CharField(max_length=255, required=False)
    receiver_funds_code = serializers.CharField(max_length=20, required=False)
    beneficiary = serializers.CharField(max_length=255, required=False, validators=[validate_person_name])
    owner = OwnerSerializer()
    medical_service_provider = MedicalServiceProviderSerializer()
    archive = ArchiveSerializer(many=True, required=False)
    security = SecuritySerializer(required=False)
    public_offer = PublicOfferSerializer()
    division = DivisionSerializer(required=False)

    def validate_type(self, value):
        if value != MSP:
            raise serializers.ValidationError(
                _("Only medical service providers (MSP) can be registered here."), code="legal_entity_type"
            )
        return value

    def validate_kveds(self, value):
        if len(value) != len(set(value)):
            raise serializers.ValidationError(_("Each KVED code may be listed only once."), code="unique")
        return value

    def validate_addresses(self, value):
        _exactly_one_address(value, "REGISTRATION")
        return value

    def validate_website(self, value):
        value = value.lower()
        if not _WEBSITE_RE.match(value):
            raise serializers.ValidationError(
                _("Enter a website address such as clinic.com.ua."), code="format"
            )
        return value

    def validate_receiver_funds_code(self, value):
        if not _DIGITS_RE.match(value):
            raise serializers.ValidationError(_("The treasury code has digits only."), code="format")
        return value

    def validate(self, attrs):
        edrpou, owner = attrs["edrpou"], attrs["owner"]
        if attrs["legal_form"] == SOLE_PROPRIETOR_LEGAL_FORM:
            # A ФОП is the person: its code is the head's RNOKPP (or passport number).
            try:
                validate_tax_id(edrpou, no_tax_id=owner["no_tax_id"])
            except DjangoValidationError as error:
                raise serializers.ValidationError({"edrpou": _drf_details(error)}) from error
            if edrpou != owner["tax_id"]:
                raise serializers.ValidationError(
                    {
                        "edrpou": serializers.ErrorDetail(
                            str(_("For a sole proprietor the code must be the head's RNOKPP.")),
                            code="sole_proprietor_code",
                        )
                    }
                )
        else:
            try:
                validate_edrpou(edrpou)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"edrpou": _drf_details(error)}) from error
        return attrs


# --- Public functions -------------------------------------------------------------------------------


def legal_entity_payload_validate(data: Any) -> dict:
    """Validate an eHealth legal-entity payload; return it normalised and JSON-ready.

    Normalised: strings trimmed, emails and the website in lower case, dates as YYYY-MM-DD, optional
    members that were not given left out, `status`/`mis_verified` dropped. Validating the result again
    returns it unchanged, so its canonical form is stable.
    Raises ValidationError({"owner.tax_id": [ValidationError(message, code)], ...}).
    """
    if not isinstance(data, dict):
        raise DjangoValidationError(
            {NON_FIELD_ERRORS: [DjangoValidationError(_("Expected a JSON object."), code="type")]}
        )
    serializer = LegalEntityPayloadSerializer(data=data)
    if not serializer.is_valid():
        raise DjangoValidationError(payload_errors_flatten(serializer.errors))
    # `.data` renders validated_data through the fields: dates become ISO strings, UUIDs text.
    return json.loads(json.dumps(serializer.data))


def legal_entity_payload_canonical(data: dict) -> bytes:
    """THE document the head signs: canonical JSON (sorted keys, no spaces, UTF-8)."""
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
