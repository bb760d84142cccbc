from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Project-wide infrastructure: users, the email outbox, signature verification."""

    name = "ehealth_portal"
    label = "portal"
    verbose_name = _("Portal")
