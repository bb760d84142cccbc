"""The patient of a declaration request: eHealth 2019's `person` (ehealth-api.md §4.2).

Shared by the patient pages, `declaration_request_create` and the API. Errors are keyed by JSON paths
under the person ("documents[0].number", "confidant_person"); the request's serializer prefixes "person.".

Differences from eHealth, on purpose:
* `patient_signed` and `process_disclosure_data_consent` are optional here (a patient registered in the
  cabinet has neither); a declaration request requires them (`DeclarationPersonSerializer`).
* A patient who refused an RNOKPP (`no_tax_id`) gives no `tax_id`: eHealth 2019's MPI rule.
* `birth_country` is free text: there is no COUNTRY dictionary in the portal.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ehealth_portal.validators import validate_phone, validate_tax_id
from registry.payloads.common import (
    MAX_AGE,
    AddressSerializer,
    DictionaryKeyField,
    LowerEmailField,
    PastDateField,
    PersonNameField,
    PhoneSerializer,
    StrictSerializer,
    TypedListSerializer,
    _age,
    _drf_details,
    _exactly_one_address,
    payload_validate,
)
from registry.selectors import global_parameter_int

OTP = "OTP"
OFFLINE = "OFFLINE"
PRIMARY = "PRIMARY"

# eHealth 2019 document numbers by type (json_schemas/person: documents).
_SERIES_NUMBER_RE = re.compile(r"\A[АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ]{2}[0-9]{6}\Z")
_NATIONAL_ID_RE = re.compile(r"\A[0-9]{9}\Z")
_FREE_NUMBER_RE = re.compile(r"\A[0-9A-Za-zА-ЯҐЄІЇа-яґєії№/.\- ]+\Z")
SERIES_NUMBER_DOCUMENTS = (
    "PASSPORT",
    "PERMANENT_RESIDENCE_PERMIT",
    "REFUGEE_CERTIFICATE",
    "TEMPORARY_CERTIFICATE",
    "COMPLEMENTARY_PROTECTION_CERTIFICATE",
)
_UNZR_RE = re.compile(r"\A[0-9]{8}-[0-9]{5}\Z")
# The secret word: eHealth's `name` pattern (letters, digits, a few signs; never Ы Ъ Э Ё @%&$^#).
_SECRET_RE = re.compile(r"\A[0-9A-Za-zА-ЯҐЄІЇа-яґєії'ʼ’ \-]+\Z")
_SECRET_FORBIDDEN_RE = re.compile(r"[ЫЪЭЁыъэё@%&$^#]")


def document_number_validate(document_type: str, number: str) -> None:
    """eHealth 2019's number rule of each DOCUMENT_TYPE; ValidationError(code="document_number_format")."""
    if document_type in SERIES_NUMBER_DOCUMENTS:
        valid, message = (
            _SERIES_NUMBER_RE.match(number),
            _("The number is two capital Ukrainian letters and six digits, e.g. КВ123456."),
        )
    elif document_type == "NATIONAL_ID":
        valid, message = _NATIONAL_ID_RE.match(number), _("An ID card number is nine digits.")
    else:  # BIRTH_CERTIFICATE, TEMPORARY_PASSPORT and what else the dictionary lists: free text
        valid, message = (
            _FREE_NUMBER_RE.match(number),
            _("The number may contain letters, digits, spaces and the signs № / . -"),
        )
    if not valid:
        raise DjangoValidationError(message, code="document_number_format")


class PersonDocumentSerializer(StrictSerializer):
    type = DictionaryKeyField("DOCUMENT_TYPE")
    number = serializers.CharField(max_length=255)
    issued_by = serializers.CharField(max_length=255, required=False)
    issued_at = PastDateField(required=False)
    expiration_date = serializers.DateField(required=False)

    class Meta:
        list_serializer_class = TypedListSerializer

    def validate(self, attrs):
        try:
            document_number_validate(attrs["type"], attrs["number"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"number": _drf_details(error)}) from error
        if (
            attrs.get("issued_at")
            and attrs.get("expiration_date")
            and attrs["expiration_date"] < attrs["issued_at"]
        ):
            raise serializers.ValidationError(
                {"expiration_date": _("A document cannot expire before it is issued.")}, code="date_order"
            )
        return attrs


class RelationshipDocumentSerializer(StrictSerializer):
    type = DictionaryKeyField("DOCUMENT_RELATIONSHIP_TYPE")
    number = serializers.CharField(max_length=255)
    issued_by = serializers.CharField(max_length=255, required=False)
    issued_at = PastDateField(required=False)

    class Meta:
        list_serializer_class = TypedListSerializer

    def validate_number(self, value):
        if not _FREE_NUMBER_RE.match(value):
            raise serializers.ValidationError(
                _("The number may contain letters, digits, spaces and the signs № / . -"),
                code="document_number_format",
            )
        return value


class AuthenticationMethodSerializer(StrictSerializer):
    type = DictionaryKeyField("AUTHENTICATION_METHOD", allowed=(OTP, OFFLINE))
    phone_number = serializers.CharField(max_length=13, required=False)

    class Meta:
        list_serializer_class = TypedListSerializer

    def validate_phone_number(self, value):
        try:
            validate_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_drf_details(error)) from error
        return value

    def validate(self, attrs):
        if attrs["type"] == OTP and not attrs.get("phone_number"):
            raise serializers.ValidationError(
                {"phone_number": _("Give the phone the patient receives SMS codes on.")}, code="required"
            )
        if attrs["type"] != OTP and "phone_number" in attrs:
            raise serializers.ValidationError(
                {"phone_number": _("Only confirmation by SMS has a phone.")}, code="not_allowed"
            )
        return attrs


class EmergencyContactSerializer(StrictSerializer):
    first_name = PersonNameField()
    last_name = PersonNameField()
    second_name = PersonNameField(required=False)
    phones = PhoneSerializer(many=True, min_length=1)


class SecretField(serializers.CharField):
    """The secret word a patient tells to be recognised: 6–20 letters, digits, spaces or hyphens."""

    def __init__(self, **kwargs):
        super().__init__(min_length=6, max_length=20, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if _SECRET_FORBIDDEN_RE.search(value) or not _SECRET_RE.match(value):
            raise serializers.ValidationError(
                _(
                    "The secret word may contain letters (not Ы, Ъ, Э, Ё), digits, spaces, apostrophes and hyphens."
                ),
                code="secret_format",
            )
        return value


def _tax_id_checked(attrs: dict) -> None:
    if "tax_id" not in attrs:
        return
    try:
        validate_tax_id(attrs["tax_id"], no_tax_id=False)
    except DjangoValidationError as error:
        raise serializers.ValidationError({"tax_id": _drf_details(error)}) from error


def _unzr_checked(value: str) -> str:
    if not _UNZR_RE.match(value):
        raise serializers.ValidationError(
            _("A UNZR is the birth date as eight digits, a hyphen and five digits."), code="unzr_format"
        )
    return value


class ConfidantPersonListSerializer(serializers.ListSerializer):
    def validate(self, attrs):
        relations = [item["relation_type"] for item in attrs]
        if len(relations) != len(set(relations)):
            raise serializers.ValidationError(
                _("Each kind of confidant person may be given once."), code="unique_by_type"
            )
        if relations and relations.count(PRIMARY) != 1:
            raise serializers.ValidationError(
                _("Exactly one confidant person must be the primary one."), code="primary_confidant"
            )
        return attrs


class ConfidantPersonSerializer(StrictSerializer):
    relation_type = DictionaryKeyField("CONFIDANT_PERSON_TYPE")
    first_name = PersonNameField()
    last_name = PersonNameField()
    second_name = PersonNameField(required=False)
    birth_date = PastDateField()
    birth_country = serializers.CharField(max_length=100)
    birth_settlement = serializers.CharField(max_length=100)
    gender = DictionaryKeyField("GENDER")
    tax_id = serializers.CharField(max_length=10, required=False)
    unzr = serializers.CharField(max_length=14, required=False)
    secret = SecretField()
    documents_person = PersonDocumentSerializer(many=True, min_length=1)
    documents_relationship = RelationshipDocumentSerializer(many=True, min_length=1)
    phones = PhoneSerializer(many=True, required=False)
    email = LowerEmailField(required=False)
    preferred_way_communication = serializers.ChoiceField(choices=["email", "phone"], required=False)

    class Meta:
        list_serializer_class = ConfidantPersonListSerializer

    def validate_birth_date(self, value):
        adult_age = global_parameter_int(name="adult_age", default=18)
        if not adult_age <= _age(value, timezone.localdate()) <= MAX_AGE:
            raise serializers.ValidationError(
                _("A confidant person must be %(min)s to %(max)s years old.")
                % {"min": adult_age, "max": MAX_AGE},
                code="confidant_age",
            )
        return value

    def validate_unzr(self, value):
        return _unzr_checked(value)

    def validate(self, attrs):
        _tax_id_checked(attrs)
        return attrs


class PersonSerializer(StrictSerializer):
    """eHealth 2019's person of a declaration request (the patient)."""

    first_name = PersonNameField()
    last_name = PersonNameField()
    second_name = PersonNameField(required=False)
    birth_date = PastDateField()
    birth_country = serializers.CharField(max_length=100)
    birth_settlement = serializers.CharField(max_length=100)
    gender = DictionaryKeyField("GENDER")
    tax_id = serializers.CharField(max_length=10, required=False)
    no_tax_id = serializers.BooleanField(default=False)
    unzr = serializers.CharField(max_length=14, required=False)
    email = LowerEmailField(required=False)
    secret = SecretField()
    documents = PersonDocumentSerializer(many=True, min_length=1)
    addresses = AddressSerializer(many=True, min_length=1)
    phones = PhoneSerializer(many=True, required=False)
    authentication_methods = AuthenticationMethodSerializer(many=True, min_length=1)
    emergency_contact = EmergencyContactSerializer()
    confidant_person = ConfidantPersonSerializer(many=True, required=False, max_length=2)
    preferred_way_communication = serializers.ChoiceField(choices=["email", "phone"], required=False)
    patient_signed = serializers.BooleanField(required=False)
    process_disclosure_data_consent = serializers.BooleanField(required=False)

    def validate_birth_date(self, value):
        if _age(value, timezone.localdate()) > MAX_AGE:
            raise serializers.ValidationError(
                _("A person cannot be older than %(max)s years.") % {"max": MAX_AGE}, code="person_age"
            )
        return value

    def validate_unzr(self, value):
        return _unzr_checked(value)

    def validate_addresses(self, value):
        _exactly_one_address(value, "RESIDENCE")
        return value

    def validate_patient_signed(self, value):
        if value:
            raise serializers.ValidationError(
                _("The patient signs the declaration form after the request is created."), code="enum"
            )
        return value

    def validate_process_disclosure_data_consent(self, value):
        if not value:
            raise serializers.ValidationError(
                _("The patient must consent to the processing of their data."), code="enum"
            )
        return value

    def validate(self, attrs):
        errors = {}
        if attrs["no_tax_id"] and "tax_id" in attrs:
            errors["tax_id"] = [
                serializers.ErrorDetail(
                    str(_("A patient who refused an RNOKPP gives none.")), code="no_tax_id"
                )
            ]
        else:
            try:
                _tax_id_checked(attrs)
            except serializers.ValidationError as error:
                errors.update(error.detail)
        adult_age = global_parameter_int(name="adult_age", default=18)
        if _age(attrs["birth_date"], timezone.localdate()) < adult_age and not attrs.get("confidant_person"):
            errors["confidant_person"] = [
                serializers.ErrorDetail(
                    str(_("A patient under %(age)s needs a confidant person.") % {"age": adult_age}),
                    code="confidant_required",
                )
            ]
        way = attrs.get("preferred_way_communication")
        if way == "email" and not attrs.get("email"):
            errors["email"] = [
                serializers.ErrorDetail(str(_("Give the email the patient prefers.")), code="required")
            ]
        if way == "phone" and not attrs.get("phones"):
            errors["phones"] = [
                serializers.ErrorDetail(str(_("Give the phone the patient prefers.")), code="required")
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class DeclarationPersonSerializer(PersonSerializer):
    """The person inside a declaration request: the patient has consented and has not signed yet."""

    patient_signed = serializers.BooleanField()
    process_disclosure_data_consent = serializers.BooleanField()

    # DRF binds validate_<field> by name: the parent's rules apply to the redeclared fields too.


def person_payload_validate(data: Any) -> dict:
    """Validate a patient's `person` block; return it normalised (see registry.payloads.payload_validate)."""
    return payload_validate(PersonSerializer, data)


def person_age(birth_date, on) -> int:
    """Full years on a day (a birthday counts on the day itself)."""
    return _age(birth_date, on)
