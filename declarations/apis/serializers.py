"""Output shapes of the declarations API (ehealth-api.md §4): declaration requests and declarations.

A request's `$.data` is `services.declaration_request_signable` itself, returned as it is (the doctor signs
exactly it): `DeclarationRequestDataSerializer` and its parts only describe it in the OpenAPI schema. The
other serializers render rows (lists, declarations) in eHealth's shapes.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ehealth_portal.serializers import SharedFieldsSerializer
from registry.payloads import AddressSerializer, PhoneSerializer

from ..models import Declaration, DeclarationRequest, Verification
from ..payloads import PersonSerializer
from ..services import phone_masked

AUTHENTICATION_METHODS = ["OTP", "OFFLINE", "NA"]


@extend_schema_field({"$ref": "#/components/schemas/Meta"})
class _MetaField(serializers.JSONField):
    """The envelope's `meta` (a component added by `ehealth_portal.api.postprocess_envelope`)."""


# --- A declaration request's data (schema only) ------------------------------------------------------


class EmployeeSnapshotPartySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField()
    tax_id = serializers.CharField()
    email = serializers.CharField(help_text="The doctor's account email; empty without one.")
    phones = PhoneSerializer(many=True)


class EmployeeSnapshotSerializer(serializers.Serializer):
    """The doctor as they were when the request was made."""

    id = serializers.UUIDField()
    position = serializers.CharField(help_text="POSITION dictionary.")
    employee_type = serializers.CharField()
    speciality = serializers.JSONField(help_text="The main speciality (SPECIALITY_TYPE, level, attestation).")
    party = EmployeeSnapshotPartySerializer()


class DivisionSnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    name = serializers.CharField()
    phones = PhoneSerializer(many=True)
    email = serializers.CharField()
    addresses = AddressSerializer(many=True)
    external_id = serializers.CharField(allow_blank=True)
    legal_entity_id = serializers.UUIDField()


class LegalEntitySnapshotSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    public_name = serializers.CharField()
    legal_form = serializers.CharField()
    edrpou = serializers.CharField()
    email = serializers.CharField()
    phones = PhoneSerializer(many=True)
    addresses = AddressSerializer(many=True)
    accreditation = serializers.JSONField(allow_null=True)
    licenses = serializers.ListField(child=serializers.JSONField())


class DeclarationRequestDataSerializer(serializers.Serializer):
    """The request as the portal serves it: eHealth's request data with the snapshots, its number, printed
    form and nonce. `person.patient_signed` is true: this is the document the doctor signs, byte for byte
    its canonical JSON. An EXPIRED request's data was wiped: it has only id, status, channel and number."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=DeclarationRequest.Status.choices)
    channel = serializers.ChoiceField(choices=DeclarationRequest.Channel.choices)
    declaration_number = serializers.CharField(help_text="0001-XXXX-XXXX.")
    declaration_id = serializers.UUIDField(required=False, help_text="The id the declaration will have.")
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    scope = serializers.ChoiceField(choices=["family_doctor"], required=False)
    overlimit = serializers.BooleanField(required=False)
    person = PersonSerializer(required=False)
    employee = EmployeeSnapshotSerializer(required=False)
    division = DivisionSnapshotSerializer(required=False)
    legal_entity = LegalEntitySnapshotSerializer(required=False)
    content = serializers.CharField(
        required=False, help_text="The printed declaration form (HTML) the patient reads and signs."
    )
    seed = serializers.CharField(required=False, help_text="The server's nonce, signed with the rest.")


class AuthenticationMethodCurrentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=AUTHENTICATION_METHODS, required=False)
    number = serializers.CharField(required=False, help_text="OTP only, masked: +38093*****85.")


class DocumentUploadLinkSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="e.g. person.DECLARATION_FORM, person.PASSPORT.")
    url = serializers.URLField(
        help_text="PUT the scan's bytes (JPEG, PNG or PDF) here, with the caller's key."
    )


class DeclarationRequestUrgentSerializer(serializers.Serializer):
    authentication_method_current = AuthenticationMethodCurrentSerializer()
    documents = DocumentUploadLinkSerializer(many=True, help_text="Scans to upload before approval.")


class DeclarationRequestEnvelopeSerializer(serializers.Serializer):
    """The envelope of one request: its data and eHealth's `urgent` side channel."""

    meta = _MetaField()
    data = DeclarationRequestDataSerializer()
    urgent = DeclarationRequestUrgentSerializer()


class VerificationMaskedSerializer(SharedFieldsSerializer):
    """The code sent again: its phone masked as in `urgent` (the code itself is never returned)."""

    id = serializers.UUIDField()
    phone_number = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Verification.Status.choices)
    code_expired_at = serializers.DateTimeField()

    def get_phone_number(self, obj) -> str:
        return phone_masked(obj.phone_number)


class ScanOutputSerializer(SharedFieldsSerializer):
    type = serializers.CharField()
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/png", "application/pdf"])
    size = serializers.IntegerField(help_text="Bytes.")
    uploaded_at = serializers.DateTimeField()


# --- Declaration request rows ------------------------------------------------------------------------


class PartyNamesSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField()


class EmployeeMinimalSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    position = serializers.CharField()
    employee_type = serializers.CharField()
    party = PartyNamesSerializer()


class DivisionShortSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()


class LegalEntityShortSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    edrpou = serializers.CharField()


class RequestPersonNamesSerializer(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField(required=False)


class DeclarationRequestShortSerializer(SharedFieldsSerializer):
    """A row of the list (eHealth's Declaration_Request_Short): the full request is GET by id."""

    id = serializers.UUIDField()
    declaration_number = serializers.CharField()
    status = serializers.ChoiceField(choices=DeclarationRequest.Status.choices)
    channel = serializers.ChoiceField(choices=DeclarationRequest.Channel.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    person = serializers.SerializerMethodField()
    employee = EmployeeMinimalSerializer()
    division = DivisionShortSerializer()
    legal_entity = LegalEntityShortSerializer()
    inserted_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()

    @extend_schema_field(RequestPersonNamesSerializer(allow_null=True))
    def get_person(self, obj) -> dict | None:
        """The patient's names; null once an expired request's data was wiped."""
        person = (obj.data or {}).get("person")
        if not person:
            return None
        names = ("first_name", "last_name", "second_name")
        return {name: person[name] for name in names if person.get(name)}


# --- Declarations ---------------------------------------------------------------------------------------


class DeclarationShortSerializer(SharedFieldsSerializer):
    """eHealth's `Declaration_short`: what signing answers."""

    id = serializers.UUIDField()
    declaration_number = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    signed_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Declaration.Status.choices)
    scope = serializers.CharField()
    declaration_request_id = serializers.UUIDField()
    person_id = serializers.UUIDField()
    legal_entity_id = serializers.UUIDField()
    employee_id = serializers.UUIDField()
    division_id = serializers.UUIDField()
    is_active = serializers.SerializerMethodField()
    reason = serializers.CharField()
    reason_description = serializers.CharField()
    inserted_at = serializers.DateTimeField(source="created_at")

    def get_is_active(self, obj) -> bool:
        return obj.status in Declaration.CURRENT


class DeclarationPatientMinimalSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField()
    birth_date = serializers.DateField()


class DocumentShortSerializer(serializers.Serializer):
    type = serializers.CharField()
    number = serializers.CharField()


class DeclarationPatientSerializer(DeclarationPatientMinimalSerializer):
    """The patient (eHealth's Person_Short with the emergency contact): never the secret word."""

    gender = serializers.CharField()
    tax_id = serializers.CharField(help_text="Empty when the patient refused an RNOKPP (`no_tax_id`).")
    no_tax_id = serializers.BooleanField()
    birth_country = serializers.CharField()
    birth_settlement = serializers.CharField()
    phones = PhoneSerializer(many=True)
    documents = DocumentShortSerializer(many=True)
    emergency_contact = serializers.JSONField()


class DeclarationEmployeeSerializer(EmployeeMinimalSerializer):
    status = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    division_id = serializers.UUIDField(allow_null=True)
    legal_entity_id = serializers.UUIDField()


class DeclarationLegalEntitySerializer(LegalEntityShortSerializer):
    legal_form = serializers.CharField()
    public_name = serializers.CharField()
    status = serializers.CharField()
    email = serializers.CharField()
    phones = PhoneSerializer(many=True)
    addresses = AddressSerializer(many=True)


class DeclarationDivisionSerializer(DivisionShortSerializer):
    legal_entity_id = serializers.UUIDField()


class DeclarationSerializer(SharedFieldsSerializer):
    """eHealth's Declaration_Details."""

    id = serializers.UUIDField()
    declaration_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Declaration.Status.choices)
    scope = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    signed_at = serializers.DateTimeField()
    overlimit = serializers.BooleanField()
    reason = serializers.CharField()
    reason_description = serializers.CharField()
    person = DeclarationPatientSerializer()
    employee = DeclarationEmployeeSerializer()
    division = DeclarationDivisionSerializer()
    legal_entity = DeclarationLegalEntitySerializer()
    declaration_request_id = serializers.UUIDField()
    inserted_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()


# The details' members in their order, with the short patient, doctor, division and facility and neither
# `scope` nor `overlimit`. (A comment, not in the docstring: the schema shows that.)
class DeclarationListItemSerializer(DeclarationSerializer):
    """A row of the declarations list (eHealth's nhs_declaration_list_Public, the doctor with names)."""

    scope = None
    overlimit = None
    person = DeclarationPatientMinimalSerializer()
    employee = EmployeeMinimalSerializer()
    division = DivisionShortSerializer()
    legal_entity = LegalEntityShortSerializer()
