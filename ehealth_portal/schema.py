"""drf-spectacular extensions for the portal's own API classes (imported in PortalConfig.ready)."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PortalSessionScheme(SessionScheme):
    target_class = "ehealth_portal.authentication.SessionAuthentication"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "ehealth_portal.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; operators create keys in the admin (shown once).",
        }
