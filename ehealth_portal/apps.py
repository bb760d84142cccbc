from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Project-wide infrastructure: users, the email outbox, signature verification."""

    name = "ehealth_portal"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import schema  # noqa: F401  (registers the OpenAPI extensions)
        from .sqlite import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="portal-sqlite-functions")
