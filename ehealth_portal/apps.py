from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Project-wide infrastructure: users, the email outbox, signature verification."""

    name = "ehealth_portal"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save

        from . import schema  # noqa: F401  (registers the OpenAPI extensions)
        from .authentication import api_keys_changed
        from .models import ApiKey, User
        from .sqlite import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="portal-sqlite-functions")
        for model in (ApiKey, User):  # a revoked key or a deactivated user stops working at once
            post_save.connect(api_keys_changed, sender=model, dispatch_uid=f"api-keys-{model.__name__}-saved")
            post_delete.connect(
                api_keys_changed, sender=model, dispatch_uid=f"api-keys-{model.__name__}-deleted"
            )
