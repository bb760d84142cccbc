"""Registry APIs in eHealth's shape: reference data (public, ehealth-api.md §6) and legal entities (§2)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import (
    Conflict,
    Envelope,
    PagePagination,
    PagingSerializer,
    cached_json_response,
)
from ehealth_portal.api_cache import RawJSON, json_list, query_key, rows_json
from ehealth_portal.apis import Base64Field
from ehealth_portal.serializers import SharedFieldsSerializer

from ..models import PUBLIC_REGISTRY, LegalEntity, RegistrationApplication
from ..payloads import AccreditationSerializer, AddressSerializer, LicenseSerializer, PhoneSerializer
from ..selectors import (
    dictionary_list_json,
    global_parameters_json,
    legal_entity_list,
    legal_entity_owner_request,
)
from ..services import REASON_MESSAGES, reasons_validation_error, registration_application_submit
from ..services.registration import registration_application_is_change
from .common import error_codes


class DictionaryFilterSerializer(serializers.Serializer):
    # Filters are compared as given (no trimming), so a value the schema allows never becomes a blank.
    name = serializers.CharField(
        required=False, trim_whitespace=False, max_length=100, help_text="Exact name, e.g. GENDER."
    )
    # allow_null: without it DRF reads a missing boolean query parameter as False.
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class DictionarySerializer(serializers.Serializer):
    """The shape of a listed dictionary (for the schema: the list is rendered by the selectors, cached)."""

    name = serializers.CharField()
    values = serializers.DictField(
        child=serializers.CharField(), help_text="Active values: key → Ukrainian label."
    )
    labels = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()


class DictionaryListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []  # public reference data: no session, no CSRF, same answer for everyone

    @extend_schema(
        operation_id="dictionaries_list",
        summary="List dictionaries",
        description="All dictionaries (not paged), each with its active values. Deactivated values are omitted.",
        parameters=[DictionaryFilterSerializer],
        responses=DictionarySerializer(many=True),
        tags=["dictionaries"],
    )
    def get(self, request):
        filters = DictionaryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return cached_json_response(request, dictionary_list_json(**filters.validated_data))


class GlobalParameterListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="global_parameters_list",
        summary="Global parameters",
        description="Every global parameter as name → value; values are strings, as in eHealth.",
        responses=OpenApiResponse(
            response={"type": "object", "additionalProperties": {"type": "string"}},
            description='e.g. {"adult_age": "18", "declaration_term": "365"}',
        ),
        tags=["global parameters"],
    )
    def get(self, request):
        return cached_json_response(request, global_parameters_json())


# --- Legal entities (facility registration for MIS, ehealth-api.md §2) ---------------------------


class LegalEntityUpsertInputSerializer(serializers.Serializer):
    signed_legal_entity_request = Base64Field(
        trim_whitespace=True,
        help_text="Base64 of a CMS/PKCS#7 signature with the legal-entity payload attached.",
    )
    signed_content_encoding = serializers.ChoiceField(choices=["base64"])


class LegalEntityFilterSerializer(serializers.Serializer):
    # As in DictionaryFilterSerializer: values are compared as given.
    edrpou = serializers.CharField(required=False, trim_whitespace=False, max_length=10)
    legal_entity_id = serializers.UUIDField(required=False)
    type = serializers.CharField(required=False, trim_whitespace=False, max_length=20)
    owner_property_type = serializers.CharField(required=False, trim_whitespace=False, max_length=10)
    status = serializers.ChoiceField(required=False, choices=LegalEntity.Status.choices)
    nhs_verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    settlement = serializers.CharField(
        required=False, trim_whitespace=False, max_length=100, help_text="Settlement name of an address."
    )


class MedicalServiceProviderOutputSerializer(SharedFieldsSerializer):
    licenses = LicenseSerializer(many=True)
    accreditation = AccreditationSerializer()


# A facility's identity and names: the start of its full record and of the employees' `legal_entity`.
class LegalEntityNamesSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    public_name = serializers.CharField()
    type = serializers.CharField()
    edrpou = serializers.CharField()


class LegalEntitySerializer(LegalEntityNamesSerializer):
    legal_form = serializers.CharField()
    owner_property_type = serializers.CharField()
    kveds = serializers.ListField(child=serializers.CharField())
    addresses = AddressSerializer(many=True)
    phones = PhoneSerializer(many=True)
    email = serializers.EmailField()
    website = serializers.CharField()
    medical_service_provider = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=LegalEntity.Status.choices)
    is_active = serializers.BooleanField()
    nhs_verified = serializers.BooleanField()
    end_date = serializers.DateField(allow_null=True)
    inserted_at = serializers.DateTimeField(source="created_at")
    inserted_by = serializers.IntegerField(source="created_by_id", allow_null=True, help_text="User id.")
    updated_at = serializers.DateTimeField()
    updated_by = serializers.IntegerField(source="updated_by_id", allow_null=True, help_text="User id.")

    @extend_schema_field(MedicalServiceProviderOutputSerializer)
    def get_medical_service_provider(self, obj) -> dict:
        return MedicalServiceProviderOutputSerializer(
            {"licenses": [obj.license], "accreditation": obj.accreditation}
        ).data


class ApplicationCheckSerializer(serializers.Serializer):
    step = serializers.CharField()
    outcome = serializers.CharField()
    details = serializers.JSONField()
    inserted_at = serializers.DateTimeField(source="created_at")


class RegistrationApplicationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RegistrationApplication.Status.choices)
    edrpou = serializers.CharField()
    name = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    checks = ApplicationCheckSerializer(many=True)


_CREATED = {
    "type": "object",
    "properties": {
        "meta": {"$ref": "#/components/schemas/Meta"},
        "data": {"$ref": "#/components/schemas/LegalEntity"},
        "urgent": {
            "type": "object",
            "properties": {"employee_request_id": {"type": "string", "format": "uuid"}},
            "description": "The head's OWNER employee request; its invitation was emailed to owner.email.",
        },
    },
    "required": ["meta", "data", "urgent"],
}
_UPDATED = {
    **_CREATED,
    "properties": {
        **_CREATED["properties"],
        "urgent": {
            "type": "object",
            "properties": {"employee_request_id": {"type": "string", "format": "uuid", "nullable": True}},
            "description": (
                "The new head's OWNER employee request when the payload names another head (its invitation "
                "was emailed to owner.email); null when the head stays."
            ),
        },
    },
}


# Written out: an APIView (not a ListAPIView) gets no paginated schema from drf-spectacular.
_PAGE = {
    "type": "object",
    "properties": {
        "meta": {"$ref": "#/components/schemas/Meta"},
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/LegalEntity"}},
        "paging": {"$ref": "#/components/schemas/Paging"},
    },
    "required": ["meta", "data", "paging"],
}


class LegalEntityListApi(APIView):
    """`GET` lists facilities; `PUT` registers one from a signed eHealth payload, or changes the data of a
    registered one signed by its head (eHealth's upsert; the same checks as the portal)."""

    # MIS clients get their own authentication with the MIS-access issue; until then, operators only.
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="legal_entities_list",
        summary="List legal entities",
        description="Facilities, newest first, with eHealth's filters. Operators only for now.",
        parameters=[LegalEntityFilterSerializer, PagingSerializer],
        responses=OpenApiResponse(response=_PAGE, description="A page of legal entities."),
        tags=["legal entities"],
    )
    def get(self, request):
        def page() -> tuple[bytes, dict]:
            filters = LegalEntityFilterSerializer(data=request.query_params)
            filters.is_valid(raise_exception=True)
            paginator = PagePagination()
            versions = legal_entity_list(**filters.validated_data).values_list("pk", "updated_at")
            rows = paginator.paginate_queryset(versions, request, view=self)
            return json_list(_legal_entities_json(rows)), paginator.paging()

        # A page is kept for the current version of the registry, its rows by their own updated_at; a page
        # asked for again is found by its parameters as sent, before validating them again.
        key = "api:legal-entities:" + query_key(request, LegalEntityFilterSerializer, PagingSerializer)
        data, paging = PUBLIC_REGISTRY.shared(key, page, timeout=600)
        return Response(Envelope(data=RawJSON(data), paging=paging))

    @extend_schema(
        operation_id="legal_entities_upsert",
        summary="Register a legal entity or change its data (signed)",
        description=(
            "The signed content is the eHealth legal-entity payload (JSON, ehealth-api.md §2.2; the head's "
            "first place of service may come as `division`). Checked synchronously in order — signature "
            "(valid, signed by the head: DRFO = owner.tax_id, certificate EDRPOU = edrpou, names), KVEDs "
            "(known, one of KVEDS_ALLOWED_MSP), state register (registered, the head is a signatory, the "
            "name matches). 201: the facility and `urgent.employee_request_id` (the head's invitation is "
            "emailed). 202: a sole proprietor the register cannot identify by name waits for an operator. "
            "An upsert keyed by (edrpou, type), as eHealth's: when the code has an ACTIVE facility whose "
            "confirmed head signed (DRFO = the head's RNOKPP), the same checks run and 200 answers with the "
            "facility updated (everything but edrpou and type; `division` is ignored: places of service have "
            "their own endpoints; the previous version is kept). A payload naming another head hands the "
            "facility over: the current head signs, and the new head is invited (`urgent.employee_request_id`, "
            "null otherwise). 409: the code has an ACTIVE facility and the signer is not its head, or its "
            "facility is CLOSED. 422: `invalid[].rules[].rule` is the reason code "
            "(e.g. `bad_signature`, `signer_not_head` on `$.owner.tax_id`, `kved_primary_care_missing` on "
            "`$.kveds`, `edr_not_found` on `$.edrpou`). An application whose signature is invalid, not over its "
            "content or not the head's is not stored and mails nobody; one refused by a later check is kept "
            "as evidence. No facility, person or employee is created or changed by a refusal; of concurrent "
            "duplicates one registers and the others answer 409 without storing anything."
        ),
        request=LegalEntityUpsertInputSerializer,
        responses={
            200: OpenApiResponse(response=_UPDATED, description="Changed (the head's signature)."),
            201: OpenApiResponse(response=_CREATED, description="Registered."),
            202: OpenApiResponse(RegistrationApplicationSerializer, description="Waiting for an operator."),
        },
        tags=["legal entities"],
    )
    def put(self, request):
        payload = LegalEntityUpsertInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            application, _token = registration_application_submit(
                signed_envelope=payload.validated_data["signed_legal_entity_request"],
                channel=RegistrationApplication.Channel.API,
                submitted_by=request.user,
            )
        except DjangoValidationError as error:
            if conflict := _CONFLICTS & error_codes(error):
                raise Conflict(REASON_MESSAGES[conflict.pop()]) from error
            raise
        if application.status == RegistrationApplication.Status.APPROVED:
            legal_entity = application.legal_entity
            if registration_application_is_change(application):
                request = getattr(application, "owner_request", None)  # a new head's, on a handover
                return Response(
                    Envelope(
                        data=LegalEntitySerializer(legal_entity).data,
                        urgent={"employee_request_id": str(request.pk) if request else None},
                    )
                )
            request = getattr(application, "owner_request", None) or legal_entity_owner_request(
                legal_entity=legal_entity
            )
            return Response(
                Envelope(
                    data=LegalEntitySerializer(legal_entity).data,
                    urgent={"employee_request_id": str(request.pk)},
                ),
                status=status.HTTP_201_CREATED,
            )
        if application.status == RegistrationApplication.Status.WAITING_OPERATOR:
            return Response(
                RegistrationApplicationSerializer(application).data, status=status.HTTP_202_ACCEPTED
            )
        if conflict := _CONFLICTS & {reason["code"] for reason in application.reasons}:
            raise Conflict(REASON_MESSAGES[conflict.pop()])
        raise reasons_validation_error(application.reasons)


# Refusals by the code's facility (eHealth's 409): someone else than its head, or a closed facility.
_CONFLICTS = {"legal_entity_exists", "legal_entity_closed"}


def _legal_entities_json(versions: list[tuple]) -> list[bytes]:
    """Each facility's JSON, rendered once per `updated_at` (read paths at the speed of the cache)."""

    def load(ids):
        return {
            entity.pk: LegalEntitySerializer(entity).data for entity in LegalEntity.objects.filter(pk__in=ids)
        }

    return rows_json(versions, prefix="api:legal-entity", load=load)


class LegalEntityDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="legal_entities_get",
        summary="Legal entity details",
        responses=LegalEntitySerializer,
        tags=["legal entities"],
    )
    def get(self, request, legal_entity_id):
        def detail() -> bytes:
            version = (
                legal_entity_list(legal_entity_id=legal_entity_id).values_list("pk", "updated_at").first()
            )
            if version is None:
                raise NotFound()
            return _legal_entities_json([version])[0]

        return Response(
            RawJSON(PUBLIC_REGISTRY.shared(f"api:legal-entity:{legal_entity_id}", detail, timeout=600))
        )
