"""drf-spectacular extensions for the portal's own API classes (imported in PortalConfig.ready)."""

from drf_spectacular.authentication import SessionScheme


class PortalSessionScheme(SessionScheme):
    target_class = "ehealth_portal.authentication.SessionAuthentication"
