import base64
import binascii

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers, validators
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from .api import EnvelopeRenderer
from .signatures import SignatureError, verify_signature

# Standard base64 with its padding: what `base64.b64decode(validate=True)` accepts.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


@extend_schema_field({"type": "string", "format": "byte", "pattern": BASE64_PATTERN})
class Base64Field(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # b64decode(validate=True) admits only the base64 alphabet: DRF's per-character surrogate scan
        # of a signature's kilobytes would only cost time.
        self.validators = [
            v for v in self.validators if not isinstance(v, validators.ProhibitSurrogateCharactersValidator)
        ]

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if len(text) > settings.SIGNATURE_MAX_BYTES * 4 // 3 + 4:
            raise serializers.ValidationError(_("The signature is too large."), code="too_large")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise serializers.ValidationError(_("Not valid base64."), code="base64") from error


class DigitalSignatureVerifyApi(APIView):
    """Verify a signed document the way every signed eHealth request is verified (ds.api's shape)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "signature_check"

    class InputSerializer(serializers.Serializer):
        signed_content = Base64Field(trim_whitespace=True)
        signed_content_encoding = serializers.ChoiceField(choices=["base64"])
        content = Base64Field(
            required=False, help_text="Base64 of the signed file, for a detached signature."
        )

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "SignedDocument",
            {
                "content": serializers.CharField(help_text="Base64 of the signed content"),
                "content_sha256": serializers.CharField(),
                "content_length": serializers.IntegerField(),
                "detached": serializers.BooleanField(),
                "signers": serializers.ListField(child=serializers.DictField()),
            },
        ),
        summary="Verify a qualified electronic signature",
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            document = verify_signature(
                payload.validated_data["signed_content"], payload.validated_data.get("content")
            )
        except SignatureError as error:
            raise serializers.ValidationError(
                {"signed_content": [serializers.ErrorDetail(str(error.message), code=error.code)]}
            ) from error
        return Response({"content": base64.b64encode(document.content).decode(), **document.as_dict()})


class EnvelopeErrorsMixin:
    """Errors in the API's JSON envelope even where the answer would be YAML or HTML (they cannot render one)."""

    def handle_exception(self, exc):
        self.request.accepted_renderer = EnvelopeRenderer()
        self.request.accepted_media_type = EnvelopeRenderer.media_type
        return super().handle_exception(exc)


class SchemaApi(EnvelopeErrorsMixin, SpectacularAPIView):
    pass


class SchemaDocsView(EnvelopeErrorsMixin, SpectacularSwaggerSplitView):
    """Swagger UI whose init script is a file of its own (/api/docs/?script=): no inline script for the CSP."""
