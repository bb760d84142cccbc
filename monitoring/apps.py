from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    # The admin section the operators know from the Diia cabinet: "Постачальник послуг → Системи даних ЦНАПів".
    verbose_name = _("Service provider")
