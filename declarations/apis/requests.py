"""Declaration requests in eHealth's shape (ehealth-api.md §4.1–4.6): create, list, read, the patient's
confirmation (approve with the SMS code, or after the scans are uploaded), reject, send the code again,
upload a scan, and the doctor's signature, which creates the declaration.

Everything works in the caller's facility only (`api_facility`, with eHealth's scopes); another facility's
request is 404. A request's `$.data` is exactly the document the doctor signs
(`services.declaration_request_signable`), served as its canonical JSON (sorted keys, no spaces, UTF-8): the
MIS signs those bytes. eHealth's `urgent` carries the patient's confirmation method (the phone masked) and
where to upload the scans: `PUT /api/declaration_requests/{id}/documents/{type}` with the caller's key (the
portal's counterpart of eHealth's signed storage links).

Refusals: 422 with `invalid[]` at the body's JSON paths (`$.declaration_request.person.tax_id`,
`$.verification_code`, `$.signed_declaration_request`); a status that does not allow the action: 409
"Invalid transition" (signing: "Incorrect status"); a request past its term, of a doctor who no longer
works at the facility or of a place of service closed since: 409 saying so (it can only be rejected);
signing by a caller who is not the request's doctor: 403 (a key that is not theirs: 422 at
`$.signed_declaration_request`). A refusal changes nothing.
"""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Conflict, Envelope, PagePagination
from ehealth_portal.api_cache import RawJSON
from ehealth_portal.api_refusals import refusals, throttled
from ehealth_portal.apis import Base64Field
from registry.apis.access import api_facility
from registry.apis.common import LegalEntityChoiceSerializer, error_codes, facility_list_page
from registry.payloads import StrictSerializer, payload_canonical
from registry.services.staff import errors_under

from ..models import DeclarationRequest
from ..payloads import DeclarationRequestSerializer
from ..selectors import declaration_request_get, declaration_request_list
from ..services import (
    CONFLICT_CODES,
    FORBIDDEN_CODES,
    declaration_request_approve,
    declaration_request_create,
    declaration_request_document_upload,
    declaration_request_reject,
    declaration_request_resend_otp,
    declaration_request_sign,
    declaration_request_signable_bytes,
    phone_masked,
)
from .common import ActionArguments, facility_refusals
from .serializers import (
    DeclarationRequestEnvelopeSerializer,
    DeclarationRequestShortSerializer,
    DeclarationShortSerializer,
    ScanOutputSerializer,
    VerificationMaskedSerializer,
)
from .verifications import CodeField

TAG = "declaration requests"
# eHealth's messages of a status that does not allow the action (§4.4, §4.6).
INVALID_TRANSITION = _("Invalid transition")
INCORRECT_STATUS = _("Incorrect status")
SCAN_TYPES = ("image/jpeg", "image/png", "application/pdf")


# --- Bodies ----------------------------------------------------------------------------------------------


@extend_schema_field(DeclarationRequestSerializer)
class _DeclarationRequestJson(serializers.JSONField):
    """Taken as sent: the service validates it (with the facility's own checks) and reports its paths."""


class DeclarationRequestBodySerializer(StrictSerializer):
    declaration_request = _DeclarationRequestJson(
        help_text="eHealth's declaration_request (2019 `person`); start_date, end_date and seed are set by the server."
    )

    def validate_declaration_request(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected a JSON object."), code="type")
        return value


class DeclarationRequestFilterSerializer(LegalEntityChoiceSerializer):
    employee_id = serializers.UUIDField(required=False, help_text="The doctor (an employee id).")
    status = serializers.ChoiceField(required=False, choices=DeclarationRequest.Status.choices)


class DeclarationRequestApproveSerializer(ActionArguments, StrictSerializer):
    """The patient's SMS code (OTP); nothing for a patient who confirms with documents."""

    verification_code = CodeField(
        required=False,
        help_text="The 4 digits of the patient's SMS: OTP only (leave the body empty otherwise).",
    )


class DeclarationRequestSignSerializer(ActionArguments, StrictSerializer):
    """The doctor's signature of the request (eHealth's body)."""

    signed_declaration_request = Base64Field(
        trim_whitespace=True,
        help_text=(
            "Base64 of a CMS/PKCS#7 signature (attached, or detached over the same bytes) of the request's "
            "`$.data` exactly as GET serves it: its canonical JSON (sorted keys, no spaces, UTF-8)."
        ),
    )
    signed_content_encoding = serializers.ChoiceField(choices=["base64"])


class ScanParser(BaseParser):
    """A scan's bytes as the body (any content type: the service tells the kind by the first bytes), read
    up to one byte past DECLARATION_SCAN_MAX_BYTES, enough for the service to refuse a larger one."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        content = stream.read(settings.DECLARATION_SCAN_MAX_BYTES + 1) if stream is not None else b""
        return ContentFile(content, name="scan")


# --- Refusals --------------------------------------------------------------------------------------------


def _raise_refusal(error: DjangoValidationError) -> None:
    """A service refusal that is not about a field → 409, 403 or 429; field errors stay 422."""
    codes = error_codes(error)
    if "invalid_status" in codes:
        raise Conflict(INCORRECT_STATUS) from error
    if "invalid_transition" in codes:
        raise Conflict(INVALID_TRANSITION) from error
    if codes & CONFLICT_CODES:  # scans not uploaded, resend to a patient without SMS
        raise Conflict(" ".join(error.messages)) from error
    if codes & (FORBIDDEN_CODES | {"attempts_exceeded"}):
        raise PermissionDenied(error.messages[0]) from error
    if "too_many_codes" in codes:
        raise throttled(error, "too_many_codes") from error


def _request_or_404(request, scope: str, declaration_request_id) -> DeclarationRequest:
    legal_entity = api_facility(request, scope)
    declaration_request = declaration_request_get(
        legal_entity=legal_entity, declaration_request_id=declaration_request_id
    )
    if declaration_request is None:
        raise NotFound
    return declaration_request


# --- Output ----------------------------------------------------------------------------------------------


def _data(declaration_request: DeclarationRequest) -> RawJSON:
    """What the doctor signs, as the bytes they sign; of an EXPIRED request (its patient data and form
    wiped, §4.4) what is left."""
    if declaration_request.data:
        return RawJSON(declaration_request_signable_bytes(declaration_request))
    remainder = {
        "id": str(declaration_request.pk),
        "status": declaration_request.status,
        "channel": declaration_request.channel,
        "declaration_number": declaration_request.declaration_number,
    }
    return RawJSON(payload_canonical(remainder))


def _urgent(request, declaration_request: DeclarationRequest) -> dict:
    method = declaration_request.authentication_method_current or {}
    current = {key: method[key] for key in ("type",) if method.get(key)}
    if method.get("number"):
        current["number"] = phone_masked(method["number"])
    documents = [
        {
            "type": document_type,
            "url": request.build_absolute_uri(
                reverse("declaration-request-document", args=[declaration_request.pk, document_type])
            ),
        }
        for document_type in declaration_request.documents
    ]
    return {"authentication_method_current": current, "documents": documents}


def _envelope(request, declaration_request: DeclarationRequest) -> Envelope:
    return Envelope(data=_data(declaration_request), urgent=_urgent(request, declaration_request))


_REFUSALS = facility_refusals("No such request in the caller's facility.")
_INVALID_TRANSITION = {
    409: OpenApiResponse(description='"Invalid transition": the status does not allow it.')
}
_CONFLICT = {
    409: OpenApiResponse(
        description='"Invalid transition": the status does not allow it; or the request is past its term, its '
        "doctor no longer works at the facility or its place of service was closed."
    )
}
_ID = OpenApiParameter("declaration_request_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


# --- Views ---------------------------------------------------------------------------------------------


class DeclarationRequestListApi(APIView):
    pagination_class = PagePagination  # tells drf-spectacular the list is paged

    @extend_schema(
        operation_id="declaration_requests_list",
        summary="List declaration requests",
        description=(
            "The caller's facility's requests, newest first, by doctor and status; the full request is GET "
            "by id. Scope `declaration_request:read`."
        ),
        parameters=[DeclarationRequestFilterSerializer],
        responses={200: DeclarationRequestShortSerializer(many=True), **_REFUSALS},
        tags=[TAG],
    )
    def get(self, request):
        legal_entity = api_facility(request, "declaration_request:read")
        return facility_list_page(
            self,
            request,
            legal_entity,
            filters=DeclarationRequestFilterSerializer,
            select=lambda **criteria: declaration_request_list(**criteria).select_related("legal_entity"),
            serializer=DeclarationRequestShortSerializer,
        )

    @extend_schema(
        operation_id="declaration_requests_create",
        summary="Create a declaration request",
        description=(
            '`{"declaration_request": {person, employee_id, division_id, scope: "family_doctor", overlimit?}}` '
            "(eHealth 2019's person: exactly one RESIDENCE address; a confidant person for a patient under "
            "the adult age; OTP phones verified first with /api/verifications). The doctor must be an "
            "APPROVED primary-care doctor of the caller's facility whose main speciality fits the patient's "
            "age, the division an active one of the facility. The patient's other NEW or APPROVED requests "
            "with the same doctor are CANCELLED. The server sets start_date, end_date, the number, the nonce "
            "(`seed`), the snapshots of the doctor, division and facility, and the printed form (`content`). "
            "201: the request (status NEW, channel MIS) and `urgent`: how the patient confirms — "
            "`authentication_method_current` (OTP: a code is sent by SMS to the phone shown masked; OFFLINE: "
            "by documents; NA: nothing to confirm) — and `documents`, the scans to upload before approval. "
            "422: `invalid[]` at `$.declaration_request.…` paths; nothing is stored. "
            "Scope `declaration_request:write`."
        ),
        request=DeclarationRequestBodySerializer,
        responses={201: DeclarationRequestEnvelopeSerializer, **_REFUSALS},
        tags=[TAG],
    )
    def post(self, request):
        legal_entity = api_facility(request, "declaration_request:write")
        body = DeclarationRequestBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            declaration_request = declaration_request_create(
                legal_entity=legal_entity,
                actor=request.user,
                data=body.validated_data["declaration_request"],
                channel=DeclarationRequest.Channel.MIS,
            )
        except DjangoValidationError as error:
            raise errors_under(error, "declaration_request") from error
        return Response(_envelope(request, declaration_request), status=status.HTTP_201_CREATED)


class DeclarationRequestDetailApi(APIView):
    @extend_schema(
        operation_id="declaration_requests_get",
        summary="Declaration request details",
        description=(
            "`$.data` is the document the doctor signs, served as its canonical JSON (sorted keys, no spaces, "
            "UTF-8): the request's data with `person.patient_signed` true, its id, status, channel, number, "
            "printed form (`content`) and nonce (`seed`). Sign those bytes once the request is APPROVED. An "
            "EXPIRED request's patient data was wiped. `urgent` as on creation. "
            "Scope `declaration_request:read`."
        ),
        parameters=[_ID],
        responses={200: DeclarationRequestEnvelopeSerializer, **_REFUSALS},
        tags=[TAG],
    )
    def get(self, request, declaration_request_id):
        declaration_request = _request_or_404(request, "declaration_request:read", declaration_request_id)
        return Response(_envelope(request, declaration_request))


class DeclarationRequestApproveApi(APIView):
    @extend_schema(
        operation_id="declaration_requests_approve",
        summary="Approve a declaration request (the patient confirmed)",
        description=(
            'NEW → APPROVED. OTP: the body is `{"verification_code": "1234"}`, the code of the patient\'s '
            "SMS (wrong: 422 at `$.verification_code`, rule `code_invalid`; expired: `code_expired`; the last "
            "attempt used: 403). OFFLINE (or no RNOKPP): an empty body, after every scan in `urgent.documents` "
            "was uploaded (else 409). The doctor must have a place under their limit unless `overlimit` "
            '(else 422 at `$`, rule `declaration_limit`). 409 "Invalid transition" unless NEW. '
            "Scope `declaration_request:approve`."
        ),
        parameters=[_ID],
        request=DeclarationRequestApproveSerializer,
        responses={200: DeclarationRequestEnvelopeSerializer, **_CONFLICT, **_REFUSALS},
        tags=[TAG],
    )
    def patch(self, request, declaration_request_id):
        declaration_request = _request_or_404(request, "declaration_request:approve", declaration_request_id)
        body = DeclarationRequestApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusals(_raise_refusal):
            declaration_request = declaration_request_approve(
                declaration_request=declaration_request,
                actor=request.user,
                verification_code=body.validated_data.get("verification_code"),
            )
        return Response(_envelope(request, declaration_request))


class DeclarationRequestRejectApi(APIView):
    @extend_schema(
        operation_id="declaration_requests_reject",
        summary="Reject a declaration request",
        description=(
            'NEW or APPROVED → REJECTED (an approved one frees the doctor\'s place). 409 "Invalid transition" '
            "otherwise. Scope `declaration_request:reject`."
        ),
        parameters=[_ID],
        request=None,
        responses={200: DeclarationRequestEnvelopeSerializer, **_INVALID_TRANSITION, **_REFUSALS},
        tags=[TAG],
    )
    def patch(self, request, declaration_request_id):
        declaration_request = _request_or_404(request, "declaration_request:reject", declaration_request_id)
        with refusals(_raise_refusal):
            declaration_request = declaration_request_reject(
                declaration_request=declaration_request, actor=request.user
            )
        return Response(_envelope(request, declaration_request))


class DeclarationRequestResendOtpApi(APIView):
    @extend_schema(
        operation_id="declaration_requests_resend_otp",
        summary="Send the patient's code again",
        description=(
            "A new SMS code for a NEW request of a patient who confirms by SMS; the previous code is "
            "cancelled. 409 when the request is not NEW or the patient does not confirm by SMS; 429 (with "
            f"Retry-After) past {settings.OTP_SENDS_PER_HOUR} codes to the phone within an hour. The code "
            "itself is never returned. Scope `declaration_request:write`."
        ),
        parameters=[_ID],
        request=None,
        responses={
            200: VerificationMaskedSerializer,
            **_CONFLICT,
            429: OpenApiResponse(description="Too many codes for the phone."),
            **_REFUSALS,
        },
        tags=[TAG],
    )
    def post(self, request, declaration_request_id):
        declaration_request = _request_or_404(request, "declaration_request:write", declaration_request_id)
        with refusals(_raise_refusal):
            verification = declaration_request_resend_otp(
                declaration_request=declaration_request, actor=request.user
            )
        return Response(VerificationMaskedSerializer(verification).data)


class DeclarationRequestSignApi(APIView):
    @extend_schema(
        operation_id="declaration_requests_sign",
        summary="Sign a declaration request (the doctor): the declaration is created",
        description=(
            "The request's own doctor signs, with their qualified key (the certificate's DRFO = their "
            "RNOKPP), exactly `$.data` of GET by id once APPROVED. The patient's other active or pending "
            "declarations (any doctor, any facility) are terminated and the declaration is created: active, "
            "or pending_verification when the patient confirmed with documents or has no RNOKPP. 200: the "
            "short declaration. 422 at `$.signed_declaration_request`: not a valid signature, not over this "
            "request's data (`signed_content_differs`: e.g. another request's signature), or another "
            "person's key (`signer_not_expected`). 403: the caller is not the request's doctor. 409 "
            '"Incorrect status" unless APPROVED (a second signing included). Scope `declaration_request:sign`.'
        ),
        parameters=[_ID],
        request=DeclarationRequestSignSerializer,
        responses={
            200: DeclarationShortSerializer,
            409: OpenApiResponse(
                description='"Incorrect status": not APPROVED; or past its term, or its place of service '
                "was closed."
            ),
            **_REFUSALS,
        },
        tags=[TAG],
    )
    def patch(self, request, declaration_request_id):
        declaration_request = _request_or_404(request, "declaration_request:sign", declaration_request_id)
        body = DeclarationRequestSignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusals(_raise_refusal):
            declaration = declaration_request_sign(
                declaration_request=declaration_request,
                actor=request.user,
                signed_envelope=body.validated_data["signed_declaration_request"],
            )
        return Response(DeclarationShortSerializer(declaration).data)


class DeclarationRequestDocumentApi(APIView):
    parser_classes = [ScanParser]

    @extend_schema(
        operation_id="declaration_requests_document_upload",
        summary="Upload a scan of a declaration request",
        description=(
            "The body is the scan itself — JPEG, PNG or PDF (told by its content), at most "
            f"{settings.DECLARATION_SCAN_MAX_BYTES // (1024 * 1024)} MB — of a `type` the request lists in "
            "`urgent.documents`; it replaces an earlier scan of the type. Only while the request is NEW "
            "(409 after). 422 at `$.type` (not asked for) or `$.file` (kind, size). "
            "Scope `declaration_request:write`."
        ),
        parameters=[
            _ID,
            OpenApiParameter(
                "document_type",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="As listed in `urgent.documents`, e.g. person.DECLARATION_FORM.",
            ),
        ],
        request=dict.fromkeys(SCAN_TYPES, OpenApiTypes.BINARY),
        responses={200: ScanOutputSerializer, **_CONFLICT, **_REFUSALS},
        tags=[TAG],
    )
    def put(self, request, declaration_request_id, document_type):
        declaration_request = _request_or_404(request, "declaration_request:write", declaration_request_id)
        with refusals(_raise_refusal):
            upload = declaration_request_document_upload(
                declaration_request=declaration_request,
                actor=request.user,
                type=document_type,
                # No body at all (or no content type) leaves DRF's empty data: an empty scan, refused.
                file=request.data if isinstance(request.data, ContentFile) else ContentFile(b"", name="scan"),
            )
        return Response(ScanOutputSerializer(upload).data)


# Included by declarations/api_urls.py.
urlpatterns = [
    path("declaration_requests", DeclarationRequestListApi.as_view(), name="declaration-requests"),
    path(
        "declaration_requests/<uuid:declaration_request_id>",
        DeclarationRequestDetailApi.as_view(),
        name="declaration-request",
    ),
    path(
        "declaration_requests/<uuid:declaration_request_id>/actions/approve",
        DeclarationRequestApproveApi.as_view(),
        name="declaration-request-actions-approve",
    ),
    path(
        "declaration_requests/<uuid:declaration_request_id>/actions/reject",
        DeclarationRequestRejectApi.as_view(),
        name="declaration-request-actions-reject",
    ),
    path(
        "declaration_requests/<uuid:declaration_request_id>/actions/resend_otp",
        DeclarationRequestResendOtpApi.as_view(),
        name="declaration-request-actions-resend-otp",
    ),
    path(
        "declaration_requests/<uuid:declaration_request_id>/actions/sign",
        DeclarationRequestSignApi.as_view(),
        name="declaration-request-actions-sign",
    ),
    path(
        "declaration_requests/<uuid:declaration_request_id>/documents/<str:document_type>",
        DeclarationRequestDocumentApi.as_view(),
        name="declaration-request-document",
    ),
]
