"""The eHealth legal-entity payload (ehealth-api.md §2.2): its rules in one place.

The web wizard and `PUT /api/legal_entities` both validate through `legal_entity_payload_validate`,
and the head signs `legal_entity_payload_canonical` of the validated data.

Differences from eHealth, on purpose:
* `owner.no_tax_id` may be true (a head who refused an RNOKPP gives a passport number): issue 3.
* `division` is ours: the first place of service, needed for the map (optional here).
* `settlement_id` is optional (there is no settlement registry yet); `security` is optional
  (OAuth clients come with the MIS-access issue); `country` must be UA.
* `medical_service_provider.accreditation` is required (its `order_no` may be left out for
  NO_ACCREDITATION); phones are +380XXXXXXXXX (the project's phone validator).
"""

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.validators import validate_edrpou, validate_person_name, validate_tax_id

from .common import (
    AddressSerializer,
    DictionaryKeyField,
    LowerEmailField,
    PartySerializer,
    PastDateField,
    PhoneSerializer,
    StrictSerializer,
    _drf_details,
    _exactly_one_address,
    payload_canonical,
    payload_validate,
    validate_organisation_name,
)
from .divisions import DivisionSerializer

SOLE_PROPRIETOR_LEGAL_FORM = "910"  # LEGAL_FORM: ФОП
MSP = "MSP"
_WEBSITE_RE = re.compile(r"\A(https?://)?([a-z0-9][a-z0-9\-]*\.)+[a-z0-9][a-z0-9\-]*\Z")
_DIGITS_RE = re.compile(r"\A[0-9]+\Z")


class OwnerSerializer(PartySerializer):
    """The head: a person of working age in a head's position."""

    position = DictionaryKeyField("POSITION")
    age_message = _("The head must be %(min)s to %(max)s years old.")
    age_code = "owner_age"

    def validate_position(self, value):
        if value not in settings.OWNER_POSITIONS:
            raise serializers.ValidationError(
                _("This position cannot be the head of a facility."), code="owner_position"
            )
        return value


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


def legal_entity_payload_validate(data: Any) -> dict:
    """Validate an eHealth legal-entity payload; return it normalised (`status`/`mis_verified` dropped)."""
    return payload_validate(LegalEntityPayloadSerializer, data)


def legal_entity_payload_canonical(data: dict) -> bytes:
    """THE document the head signs: canonical JSON (sorted keys, no spaces, UTF-8)."""
    return payload_canonical(data)
