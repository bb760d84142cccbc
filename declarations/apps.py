from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = _("Declarations")

    def ready(self):
        from registry import cabinet

        from . import receivers  # noqa: F401 - connects to registry.signals
        from .views.declarations import cabinet_section

        # The facility cabinet's section of patients and declarations (the registry imports nothing of ours).
        cabinet.section_register(
            key="declarations",
            template="declarations/declarations/cabinet_section.html",
            context=cabinet_section,
        )
