"""The eHealth API conventions for every DRF endpoint of the portal.

Responses are wrapped as `{meta: {code, url, type, request_id}, data, paging?}`; errors as
`{meta, error: {type, message, invalid: [{entry_type, entry: "$.json.path", rules: [...]}]}}`,
with 422 for validation failures and 409 for status conflicts (reference: ehealth-api.md §1).
"""

import io

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.pagination import BasePagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .api_cache import CachedJson, RawJSON, cached_response
from .error_paths import error_paths
from .json_depth import JSON_MAX_DEPTH, json_too_deep


class Envelope(dict):
    """Top-level members (`data`, `paging`, `error`, `urgent`) placed by a view, pagination or handler."""


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "request_conflict"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is temporarily unavailable. Please try again in a few minutes.")
    default_code = "service_unavailable"


_RAW_PLACEHOLDER = "\x00raw\x00"  # a string no payload contains; JSON writes it as "\u0000raw\u0000"
_RAW_PLACEHOLDER_JSON = b'"\\u0000raw\\u0000"'


class EnvelopeRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if response is None or request is None:
            return super().render(data, accepted_media_type, renderer_context)
        body = data if isinstance(data, Envelope) else Envelope(data=data)
        raw = body.get("data") if isinstance(body.get("data"), RawJSON) else None
        is_list = raw.startswith(b"[") if raw is not None else isinstance(body.get("data"), list)
        payload = {
            "meta": {
                "code": response.status_code,
                "url": request.build_absolute_uri(),
                "type": "list" if is_list else "object",
                "request_id": getattr(request._request, "request_id", None),
            },
            **body,
        }
        if raw is None:
            return super().render(payload, accepted_media_type, renderer_context)
        # Pre-rendered data (ehealth_portal.api_cache) goes in as it is, never decoded and encoded again.
        payload["data"] = _RAW_PLACEHOLDER
        rendered = super().render(payload, accepted_media_type, renderer_context)
        return rendered.replace(_RAW_PLACEHOLDER_JSON, raw, 1)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than JSON_MAX_DEPTH before parsing it (a 400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        if json_too_deep(body):
            raise exceptions.ParseError(
                _("JSON nested deeper than %(depth)s levels.") % {"depth": JSON_MAX_DEPTH}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)


MAX_PAGE = 2**31 - 1  # keeps the OFFSET within a 64-bit integer on every database


class PagingSerializer(serializers.Serializer):
    """eHealth page paging: `page` from 1, `page_size` 1..100 (default 50); empty means the default."""

    page = serializers.IntegerField(default=1, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(default=50, min_value=1, max_value=100)


class PagePagination(BasePagination):
    """Pages of a list in the envelope's `paging`; views declare `PagingSerializer` among their parameters."""

    def page_requested(self, request) -> tuple[int, int]:
        """The validated (page, page_size) of the request (422 on a bad one)."""
        paging = PagingSerializer(data=request.query_params)
        paging.is_valid(raise_exception=True)
        self.page_number, self.page_size = paging.validated_data["page"], paging.validated_data["page_size"]
        return self.page_number, self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        self.page_requested(request)
        self.total_entries = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        start = (self.page_number - 1) * self.page_size
        if start >= self.total_entries:
            return []
        return list(queryset[start : start + self.page_size])

    def paging(self) -> dict:
        """The envelope's `paging` of the page last paginated."""
        return {
            "page_number": self.page_number,
            "page_size": self.page_size,
            "total_entries": self.total_entries,
            "total_pages": max(1, -(-self.total_entries // self.page_size)),
        }

    def get_paginated_response(self, data):
        return Response(Envelope(data=data, paging=self.paging()))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "meta": {"$ref": "#/components/schemas/Meta"},
                "data": schema,
                "paging": {"$ref": "#/components/schemas/Paging"},
            },
            "required": ["meta", "data", "paging"],
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
            },
        ]


def _invalid_entries(detail) -> list[dict]:
    """DRF error details as eHealth `invalid[]` entries with JSON paths ($, $.owner.tax_id, $[0])."""
    return [
        {
            "entry_type": "json_data_property",
            "entry": "$" + (path if not path or path.startswith("[") else f".{path}"),
            "rules": [
                {"rule": getattr(item, "code", None) or "invalid", "params": [], "description": str(item)}
                for item in items
            ],
        }
        for path, items in error_paths(detail).items()
    ]


def _drf_detail(error: DjangoValidationError) -> dict:
    """A service's ValidationError as DRF details, keeping each code (it becomes the rule's name).

    Keys may be paths ("owner.tax_id", "addresses[0].zip"); they become "$.owner.tax_id" etc.
    """
    return {
        field: [
            exceptions.ErrorDetail(message, code=item.code or "invalid") for item in items for message in item
        ]
        for field, items in error.update_error_dict({}).items()  # non-field errors under "__all__"
    }


_ERROR_TYPES = {
    400: "request_malformed",
    401: "access_denied",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "request_conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "service_unavailable",
}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_drf_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        error = {
            "type": "validation_failed",
            "message": str(_("Validation failed. You can find validators description at our API Manifest.")),
            "invalid": _invalid_entries(exc.detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        error = {
            "type": _ERROR_TYPES.get(response.status_code, "internal_error"),
            "message": str(detail.get("detail", detail) if isinstance(detail, dict) else detail),
        }
    response.data = Envelope(error=error)
    return response


NO_NUL_PATTERN = r"^[^\x00]*$"


def postprocess_envelope(result, generator, request, public):
    """Describe the envelope in the OpenAPI schema: wrap each success body, add the error shape."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Meta"] = {
        "type": "object",
        "properties": {
            "code": {"type": "integer"},
            "url": {"type": "string", "format": "uri"},
            "type": {"type": "string", "enum": ["object", "list"]},
            "request_id": {"type": "string"},
        },
        "required": ["code", "url", "type", "request_id"],
    }
    schemas["Paging"] = {
        "type": "object",
        "properties": {
            name: {"type": "integer"} for name in ("page_number", "page_size", "total_entries", "total_pages")
        },
        "required": ["page_number", "page_size", "total_entries", "total_pages"],
    }
    schemas["ErrorEnvelope"] = {
        "type": "object",
        "properties": {
            "meta": {"$ref": "#/components/schemas/Meta"},
            "error": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "message": {"type": "string"},
                    "invalid": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "entry_type": {"type": "string"},
                                "entry": {"type": "string", "description": "JSON path, e.g. $.owner.tax_id"},
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "rule": {"type": "string"},
                                            "params": {"type": "array", "items": {}},
                                            "description": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
                "required": ["type", "message"],
            },
        },
        "required": ["meta", "error"],
    }
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            # DRF reads an empty optional query value (`?name=`) as an absent one, as eHealth does.
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
                # DRF's CharField refuses NUL (PostgreSQL cannot store it).
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and not schema.keys() & {"enum", "format", "pattern"}:
                    schema["pattern"] = NO_NUL_PATTERN
            responses = operation.get("responses", {})
            for code, response in responses.items():
                content = response.get("content", {}).get("application/json")
                if not content or not str(code).startswith("2"):
                    continue
                schema = content.get("schema", {})
                # A component reference (e.g. a paginated list) may already be an envelope.
                resolved = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in schema else schema
                if "meta" not in resolved.get("properties", {}):
                    content["schema"] = {
                        "type": "object",
                        "properties": {"meta": {"$ref": "#/components/schemas/Meta"}, "data": schema},
                        "required": ["meta", "data"],
                    }
            responses.setdefault("default", {"description": "Error", "content": error_body})
    return result


def cached_json_response(request, cached: CachedJson, *, max_age: int = 60):
    """An envelope around JSON rendered once, with ETag/Last-Modified; 304 when the client has it."""
    return cached_response(request, cached, lambda body: Response(RawJSON(body)), max_age=max_age)
