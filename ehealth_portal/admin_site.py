"""The operators' admin site: sections by what an operator does, a dashboard of what waits for them,
and the forms of model names Django's generic phrases need in Ukrainian.

`PortalAdminConfig` stands in for "django.contrib.admin" in INSTALLED_APPS, so `admin.site` is a
`PortalAdminSite` and every app's `admin.register` lands on it. Apps add their dashboard figures with
`dashboard_figure` (in their admin.py), so this module imports no app.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.filters import FieldListFilter
from django.contrib.admin.sites import AdminSite
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Section(NamedTuple):
    key: str
    name: str
    # Model label → the model's name as the object of a verb ("Додати систему даних ЦНАПу",
    # "Виберіть заяву на реєстрацію, щоб змінити"): Ukrainian declines it, verbose_name cannot.
    models: dict


# In the order an operator looks for them; each model listed in its section's order.
SECTIONS = (
    Section(
        "facilities",
        _("Facility registry"),
        {
            # Translators: "accusative" is the model's name after "Додати …" / "Виберіть …, щоб змінити".
            "registry.registrationapplication": pgettext_lazy("accusative", "registration application"),
            "registry.legalentity": pgettext_lazy("accusative", "medical facility"),
            "registry.division": pgettext_lazy("accusative", "division"),
            "registry.edrrecord": pgettext_lazy("accusative", "state register record"),
            "registry.dictionary": pgettext_lazy("accusative", "dictionary"),
            "registry.dictionaryvalue": pgettext_lazy("accusative", "dictionary value"),
            "registry.globalparameter": pgettext_lazy("accusative", "global parameter"),
        },
    ),
    Section(
        "staff",
        _("Staff"),
        {
            "registry.employee": pgettext_lazy("accusative", "employee"),
            "registry.employeerequest": pgettext_lazy("accusative", "employee request"),
            "registry.party": pgettext_lazy("accusative", "person"),
        },
    ),
    Section(
        "declarations",
        _("Declarations"),
        {
            "declarations.declaration": pgettext_lazy("accusative", "declaration"),
            "declarations.declarationrequest": pgettext_lazy("accusative", "declaration request"),
            "declarations.person": pgettext_lazy("accusative", "patient"),
            "declarations.verification": pgettext_lazy("accusative", "SMS code"),
            "declarations.smsmessage": pgettext_lazy("accusative", "SMS"),
        },
    ),
    Section(
        "cnap",
        _("CNAP monitoring"),
        {
            "monitoring.cnapsystem": pgettext_lazy("accusative", "CNAP data system"),
            "monitoring.pullrun": pgettext_lazy("accusative", "pull run"),
            "monitoring.quarantinedrecord": pgettext_lazy("accusative", "quarantined record"),
            "monitoring.appeal": pgettext_lazy("accusative", "appeal"),
            "monitoring.joiningapplication": pgettext_lazy("accusative", "joining application"),
            "monitoring.cnap": pgettext_lazy("accusative", "CNAP"),
            "monitoring.administrativeservice": pgettext_lazy("accusative", "administrative service"),
        },
    ),
    Section(
        "access",
        _("Access and security"),
        {
            "portal.user": pgettext_lazy("accusative", "user"),
            "auth.group": pgettext_lazy("accusative", "group"),
            "portal.apikey": pgettext_lazy("accusative", "API key"),
            "mfa.authenticator": pgettext_lazy("accusative", "authenticator"),
            "account.emailaddress": pgettext_lazy("accusative", "email address"),
        },
    ),
    Section(
        "service",
        _("Mail and schedule"),
        {
            "portal.email": pgettext_lazy("accusative", "email"),
            "django_celery_beat.periodictask": pgettext_lazy("accusative", "periodic task"),
            "django_celery_beat.crontabschedule": pgettext_lazy("accusative", "crontab"),
            "django_celery_beat.intervalschedule": pgettext_lazy("accusative", "interval"),
            "django_celery_beat.clockedschedule": pgettext_lazy("accusative", "clocked"),
            "django_celery_beat.solarschedule": pgettext_lazy("accusative", "solar event"),
        },
    ),
)
OTHER = Section("other", _("Other"), {})  # a model registered but not placed above still shows
_SECTION_OF = {label: section for section in SECTIONS for label in section.models}


def model_section(opts) -> Section:
    return _SECTION_OF.get(opts.label_lower, OTHER)


def model_accusative(opts) -> str:
    """The model's name as the object of "Add …" or "Select … to change"."""
    return model_section(opts).models.get(opts.label_lower) or opts.verbose_name


def titled_filter(title):
    """`list_filter = [("system__is_failing", titled_filter(_("system is failing")))]`: Django's filter
    for the field, headed by `title` instead of the last field's name."""

    class TitledFilter(FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):
            spec = FieldListFilter.create(field, request, params, model, model_admin, field_path)
            spec.title = title
            return spec

    return TitledFilter


@dataclass(frozen=True)
class DashboardFigure:
    """One line of the admin index's dashboard: a count and the changelist it comes from."""

    model: str  # label, e.g. "registry.registrationapplication": shown to those who may view its list
    count: Callable[[], int]  # a selector: one query
    text: Callable[[int], str]  # the sentence for a count (ngettext)
    query: Callable[[], dict]  # the changelist's filter showing the same records


DASHBOARD: list[DashboardFigure] = []


def dashboard_figure(**fields) -> None:
    """Add a figure to the dashboard (called from an app's admin.py); figures show in that order."""
    DASHBOARD.append(DashboardFigure(**fields))


class PortalAdminSite(AdminSite):
    def get_urls(self):
        return [
            path("sections/<slug:section>/", self.admin_view(self.section_view), name="section"),
            *super().get_urls(),
        ]

    def get_app_list(self, request, app_label=None):
        """The registered models grouped into SECTIONS (not by app), in the sections' order."""
        models = {
            model["model"]._meta.label_lower: model
            for app in self._build_app_dict(request, app_label).values()
            for model in app["models"]
        }
        sections = []
        for section in (*SECTIONS, OTHER):
            listed = [models.pop(label) for label in section.models if label in models]
            if section is OTHER:
                listed = sorted(models.values(), key=lambda model: model["name"])
            if listed:
                sections.append(
                    {
                        "name": section.name,
                        "app_label": section.key,
                        "app_url": reverse("admin:section", args=[section.key], current_app=self.name),
                        "models": listed,
                    }
                )
        return sections

    def section_view(self, request, section):
        sections = [found for found in self.get_app_list(request) if found["app_label"] == section]
        if not sections:
            raise Http404
        context = {
            **self.each_context(request),
            "title": sections[0]["name"],
            "subtitle": None,
            "app_list": sections,
            "app_label": section,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/app_index.html", context)

    def app_index(self, request, app_label, extra_context=None):
        # An app's models may sit in several sections: the page shows them, titled by the first.
        sections = self.get_app_list(request, app_label)
        title = {"title": sections[0]["name"]} if sections else {}
        return super().app_index(request, app_label, {**title, **(extra_context or {})})

    def index(self, request, extra_context=None):
        return super().index(request, {"dashboard": self.dashboard(request), **(extra_context or {})})

    def dashboard(self, request) -> list[dict]:
        """The figures this operator may see: one query each, whatever the data."""
        lines = []
        for figure in DASHBOARD:
            model = apps.get_model(figure.model)
            model_admin = self._registry.get(model)
            if model_admin is None or not model_admin.has_view_permission(request):
                continue
            count = figure.count()
            opts = model._meta
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.name)
            query = urlencode(figure.query())
            lines.append(
                {"count": count, "text": figure.text(count), "url": f"{url}?{query}" if query else url}
            )
        return lines


class PortalAdminConfig(AdminConfig):
    """ "django.contrib.admin" with the portal's site; then the third-party admins made Ukrainian."""

    default_site = "ehealth_portal.admin_site.PortalAdminSite"

    def ready(self):
        super().ready()  # every app's admin module is registered now
        from .admin_third_party import third_party_admins_adjust

        third_party_admins_adjust(self.module.site)
