from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Project-wide infrastructure: users, the email outbox, signature verification."""

    name = "ehealth_portal"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extensions)
