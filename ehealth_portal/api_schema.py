"""The API's OpenAPI generator: drf-spectacular's, with the list bounds the serializers enforce.

drf-spectacular leaves out a nested list's `min_length`/`max_length` (`addresses` needs one item at
least) and writes a ListField's as `minLength`/`maxLength`, which bound strings, not arrays; a client or
a fuzzer reading the schema would then send lists the API refuses. Here they become minItems/maxItems.
A request body whose serializer refuses unknown keys (`refuses_unknown_keys`, eHealth's
`additionalProperties: false`) says so too; a POST or PUT body is required (none is refused with 422); a
trimmed text that must not be blank has a letter or a digit (whitespace, which the API strips to blank,
differs between JSON Schema's regexes and Python's `str.strip`).
"""

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# The addresses Django's EmailValidator accepts (a dotted domain with a letter TLD), in ASCII.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"


class PortalAutoSchema(AutoSchema):
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None and self.method in ("POST", "PUT"):
            body["required"] = True
        return body

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and getattr(serializer, "refuses_unknown_keys", False):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.EmailField) and isinstance(schema, dict):
            schema.setdefault("pattern", EMAIL_PATTERN)  # `format: email` admits what Django refuses
        if direction == "request" and isinstance(schema, dict) and "pattern" not in schema:
            # A query parameter's field is mapped without its validators (a body's get them later).
            schema.update(_regex_pattern(field))
        if (
            direction == "request"
            and isinstance(schema, dict)
            and schema.get("type") == "string"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and "pattern" not in schema
            and "enum" not in schema
        ):
            schema["pattern"] = r"[0-9A-Za-z\u0400-\u04ff]"  # never blank once stripped
        if (
            isinstance(schema, dict)
            and schema.get("type") == "array"
            and isinstance(field, serializers.ListSerializer | serializers.ListField)
        ):
            schema.pop("minLength", None)
            schema.pop("maxLength", None)
            if getattr(field, "min_length", None) is not None:
                schema["minItems"] = field.min_length
            if getattr(field, "max_length", None) is not None:
                schema["maxItems"] = field.max_length
        return schema


def _regex_pattern(field) -> dict:
    """{"pattern": …} of the field's regex validator (a RegexField's), or nothing."""
    for validator in getattr(field, "validators", ()):
        if isinstance(validator, RegexValidator) and not validator.inverse_match:
            return {"pattern": validator.regex.pattern}
    return {}
