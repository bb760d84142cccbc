"""Verifications: the patient's phone confirmed by an SMS code (ehealth-api.md §4.1, §4.8) — start a code,
complete it, and ask whether a phone is verified. The rules are `declarations.services.otp`'s.

Who: a caller with `otp:write` (start, complete) or `otp:read` (status) in their facility (`api_facility`);
any phone may be asked, as in eHealth. Starting is throttled per caller (`verification_start`) on top of
the service's limit of codes per phone.

Refusals, decided from the reference. eHealth's OTP service answers every wrong code with 403; the portal
keeps 403 only where §4.5 names it ("Maximum attempts exceed") and reports what the caller can correct at
the field, like every other payload error of the API:
- a malformed body or phone in the body: 422 at `$.phone_number` / `$.code` (rule `phone_format`,
  `code_format`, `required`, `unknown_field`);
- a wrong code (a try counted): 422 at `$.code`, rule `code_invalid`;
- an expired code (the verification becomes EXPIRED): 422 at `$.code`, rule `code_expired`;
- the last attempt used (the try that used it, and every later one, right code or not): 403;
- no active code for the phone (none sent, used, or replaced), or a path that is not a phone: 404, as
  eHealth answers for a phone without a verification;
- too many codes for the phone within an hour: 429 with Retry-After, as eHealth's OTP service answers
  its own frequency limit (the service's `too_many_codes`).
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Envelope
from ehealth_portal.api_refusals import refusals, throttled
from ehealth_portal.serializers import SharedFieldsSerializer
from ehealth_portal.validators import is_valid_phone, validate_phone
from registry.apis.access import api_facility
from registry.apis.common import error_codes
from registry.payloads import StrictSerializer

from ..models import Verification
from ..services import otp
from .common import ActionArguments, DefaultRateThrottle

TAG = "verifications"
PHONE_PATTERN = r"^\+380[0-9]{9}$"
CODE_PATTERN = r"^[0-9]{4}$"


class VerificationStartThrottle(DefaultRateThrottle):
    # Codes started by one caller (an API key's user): a front desk registers a patient a minute at most;
    # DEFAULT_THROTTLE_RATES["verification_start"] when the settings name it.
    default_rate = "60/hour"


# --- Bodies --------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": PHONE_PATTERN, "maxLength": 13})
class PhoneNumberField(serializers.CharField):
    """A phone, +380XXXXXXXXX (`validate_phone`: rule `phone_format`); the schema shows its pattern."""

    def __init__(self, **kwargs):
        super().__init__(max_length=13, validators=[validate_phone], **kwargs)


@extend_schema_field({"type": "string", "pattern": CODE_PATTERN})
class CodeField(serializers.CharField):
    def __init__(self, **kwargs):
        validator = RegexValidator(CODE_PATTERN, _("The code is 4 digits."), code="code_format")
        super().__init__(max_length=4, validators=[validator], **kwargs)


class VerificationStartSerializer(StrictSerializer):
    phone_number = PhoneNumberField(help_text="The patient's phone, +380XXXXXXXXX.")


class VerificationCompleteSerializer(ActionArguments, StrictSerializer):
    code = CodeField(help_text="The 4 digits of the SMS.")


class VerificationOutputSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    phone_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Verification.Status.choices)
    code_expired_at = serializers.DateTimeField()
    active = serializers.SerializerMethodField()

    def get_active(self, obj) -> bool:
        """The code can still be used: NEW and within its time."""
        return obj.is_active and timezone.now() < obj.code_expired_at


class VerifiedPhoneOutputSerializer(SharedFieldsSerializer):
    phone_number = serializers.CharField()


# --- Views ---------------------------------------------------------------------------------------------


def _phone_or_404(phone_number: str) -> str:
    if not is_valid_phone(phone_number):
        raise NotFound
    return phone_number


def _too_many_codes(error) -> None:
    if "too_many_codes" in error_codes(error):
        raise throttled(error, "too_many_codes") from error


def _code_refused(error) -> None:
    codes = error_codes(error)
    if "attempts_exceeded" in codes:
        raise PermissionDenied(error.messages[0]) from error
    if "no_active_code" in codes:
        raise NotFound(error.messages[0]) from error


_PHONE_PARAMETER = OpenApiParameter(
    "phone_number",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=PHONE_PATTERN,
    description="The phone, +380XXXXXXXXX (a `+` in a path may be sent as `%2B`).",
)
_FORBIDDEN = OpenApiResponse(description="No `otp:write`/`otp:read` right in a facility.")


class VerificationStartApi(APIView):
    throttle_classes = [VerificationStartThrottle]
    throttle_scope = "verification_start"

    @extend_schema(
        operation_id="verifications_create",
        summary="Send a code to a phone",
        description=(
            "A new 4-digit code by SMS to `phone_number`, valid "
            f"{settings.OTP_CODE_TTL_SECONDS // 60} minutes; the phone's earlier active code is CANCELED. "
            f"At most {settings.OTP_SENDS_PER_HOUR} codes to one phone within an hour (then 429 with "
            "Retry-After). The code itself is never returned. Scope `otp:write`."
        ),
        request=VerificationStartSerializer,
        responses={
            201: VerificationOutputSerializer,
            403: _FORBIDDEN,
            429: OpenApiResponse(
                description="Too many codes for this phone, or too many starts by the caller."
            ),
        },
        tags=[TAG],
    )
    def post(self, request):
        api_facility(request, "otp:write")
        body = VerificationStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusals(_too_many_codes):
            verification = otp.verification_start(phone_number=body.validated_data["phone_number"])
        return Response(
            Envelope(data=VerificationOutputSerializer(verification).data), status=status.HTTP_201_CREATED
        )


class VerificationCompleteApi(APIView):
    @extend_schema(
        operation_id="verifications_complete",
        summary="Confirm a phone with its code",
        description=(
            "Checks `code` against the phone's active code. Right: VERIFIED, and the phone is verified "
            "(GET answers 200). Wrong: 422 at `$.code` (`code_invalid`). The wrong try that uses the last "
            f"of the {settings.OTP_MAX_ATTEMPTS} attempts, and every try after it, right code or not: 403 "
            "(maximum attempts exceeded). Expired: 422 at `$.code` (`code_expired`). No active code: 404. "
            "Scope `otp:write`."
        ),
        parameters=[_PHONE_PARAMETER],
        request=VerificationCompleteSerializer,
        responses={
            200: VerificationOutputSerializer,
            403: OpenApiResponse(description="Maximum attempts exceeded, or no `otp:write` right."),
            404: OpenApiResponse(description="No active code for this phone."),
        },
        tags=[TAG],
    )
    def patch(self, request, phone_number):
        api_facility(request, "otp:write")
        phone_number = _phone_or_404(phone_number)
        body = VerificationCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusals(_code_refused):  # code_invalid, code_expired: 422 at $.code
            verification = otp.verification_complete(
                phone_number=phone_number, code=body.validated_data["code"]
            )
        return Response(VerificationOutputSerializer(verification).data)


class VerifiedPhoneApi(APIView):
    @extend_schema(
        operation_id="verifications_get",
        summary="Whether a phone is verified",
        description="200 when the phone was ever confirmed with a code; 404 otherwise. Scope `otp:read`.",
        parameters=[_PHONE_PARAMETER],
        responses={
            200: VerifiedPhoneOutputSerializer,
            403: _FORBIDDEN,
            404: OpenApiResponse(description="Not verified."),
        },
        tags=[TAG],
    )
    def get(self, request, phone_number):
        api_facility(request, "otp:read")
        phone_number = _phone_or_404(phone_number)
        if not otp.phone_is_verified(phone_number):
            raise NotFound
        return Response(VerifiedPhoneOutputSerializer({"phone_number": phone_number}).data)


# Included by declarations/api_urls.py.
urlpatterns = [
    path("verifications", VerificationStartApi.as_view(), name="verifications"),
    path("verifications/<str:phone_number>", VerifiedPhoneApi.as_view(), name="verification"),
    path(
        "verifications/<str:phone_number>/actions/complete",
        VerificationCompleteApi.as_view(),
        name="verification-actions-complete",
    ),
]
