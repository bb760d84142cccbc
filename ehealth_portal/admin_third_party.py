"""Django's and the libraries' admins as operators see them: Ukrainian words, nothing secret shown.

Their strings are translated in the project catalogue (`third_party_strings.py` lists the msgids);
what a catalogue cannot reach — words built in code, names the libraries never marked for translation —
is adjusted here once, after every admin module has registered (`PortalAdminConfig.ready`).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group, Permission
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

# What a permission allows, by its codename's prefix: the stored names are English ("Can add group").
PERMISSION_ACTIONS = {
    "add": _("adding"),
    "change": _("changing"),
    "delete": _("deleting"),
    "view": _("viewing"),
}


def permission_label(permission) -> str:
    """ "Реєстр | заклад охорони здоров’я | перегляд" for a model's default permission."""
    action = PERMISSION_ACTIONS.get(permission.codename.split("_", 1)[0])
    model = permission.content_type.model_class()
    if action is None or model is None:
        return str(permission)
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {action}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class PermissionLabelsMixin:
    """For a ModelAdmin with a `permissions` / `user_permissions` field: the permissions in words."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in ("permissions", "user_permissions"):
            kwargs["form_class"] = PermissionChoiceField
            # Not the library's user-less API key, which the portal never uses (its keys: portal.ApiKey).
            kwargs["queryset"] = Permission.objects.exclude(
                content_type__app_label="rest_framework_api_key"
            ).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)


def _boolean_icon(field_val):
    # Django writes alt="True"/"False" (untranslated); screen readers say the words.
    icon = {True: "yes", False: "no", None: "unknown"}[field_val]
    icon_url = static(f"admin/img/icon-{icon}.svg")
    alt = {True: _("Yes"), False: _("No"), None: _("Unknown")}[field_val]
    return format_html('<img src="{}" alt="{}">', icon_url, alt)


def _authenticators_adjust(site) -> None:
    """allauth's authenticators: named in words, shown without their secrets, never made by hand."""
    from allauth.mfa.models import Authenticator

    # Only the runtime names: migrations read `_meta.original_attrs` and `field._verbose_name`.
    Authenticator._meta.verbose_name = _("authenticator")
    Authenticator._meta.verbose_name_plural = _("authenticators")
    for name, verbose_name in [
        ("user", _("user")),
        ("type", _("type")),
        ("created_at", _("created")),
        ("last_used_at", _("last used")),
    ]:
        Authenticator._meta.get_field(name).verbose_name = verbose_name

    class AuthenticatorAdmin(admin.ModelAdmin):
        """Enrolment happens at /accounts/2fa/; an operator may only remove a lost factor."""

        list_display = ["user", "type", "created_at", "last_used_at"]
        list_filter = ["type"]
        list_select_related = ["user"]
        search_fields = ["user__email"]
        fields = ["user", "type", "created_at", "last_used_at"]  # not `data`: the secret
        readonly_fields = fields

        def has_add_permission(self, request):
            return False

        def has_change_permission(self, request, obj=None):
            return False

    site.unregister(Authenticator)
    site.register(Authenticator, AuthenticatorAdmin)


def _groups_adjust(site) -> None:
    class PortalGroupAdmin(PermissionLabelsMixin, GroupAdmin):
        pass

    site.unregister(Group)
    site.register(Group, PortalGroupAdmin)


def _cron_description(expression, options=None):
    """cron_descriptor's description in the active language, 24-hour times (Kyiv reads "О 03:30")."""
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.locale_code = "uk_UA" if translation.get_language() == "uk" else "en_US"
    options.use_24hour_time_format = True
    return ExpressionDescriptor(expression, options).get_description()


def _periodic_tasks_adjust(site) -> None:
    """django-celery-beat: words its code builds (the schedule column, the run message) in Ukrainian."""
    from celery import current_app
    from django_celery_beat import models as beat_models
    from django_celery_beat.admin import CrontabScheduleAdmin, PeriodicTaskAdmin
    from kombu.utils.json import loads

    # Its crontab descriptions call get_description() with the process locale's options.
    beat_models.get_description = _cron_description
    # Named without gettext in the library; the runtime name only (migrations read `_verbose_name`).
    beat_models.PeriodicTask._meta.get_field("task").verbose_name = _("task name")

    class PortalCrontabScheduleAdmin(CrontabScheduleAdmin):
        list_display = ("__str__", "human_readable")

        @admin.display(description=_("schedule in words"))
        def human_readable(self, obj):
            return obj.human_readable

    site.unregister(beat_models.CrontabSchedule)
    site.register(beat_models.CrontabSchedule, PortalCrontabScheduleAdmin)

    class PortalPeriodicTaskAdmin(PeriodicTaskAdmin):
        list_display = ("name", "enabled", "schedule_display", "start_time", "last_run_at", "one_off")

        @admin.display(description=pgettext_lazy("periodic task", "schedule"))
        def schedule_display(self, obj):
            return obj.scheduler

        @admin.display(description=_("schedule in words"))
        def crontab_translation(self, obj):
            return obj.crontab.human_readable if obj.crontab else "—"

        @admin.action(description=_("Run selected tasks"))
        def run_tasks(self, request, queryset):
            # The library's action; its message pluralises English words in code.
            current_app.loader.import_default_modules()
            unknown = [task.task for task in queryset if current_app.tasks.get(task.task) is None]
            if unknown:
                self.message_user(
                    request,
                    _("The worker does not know the task %(task)s.") % {"task": unknown[0]},
                    messages.ERROR,
                )
                return
            for task in queryset:
                current_app.tasks[task.task].apply_async(
                    args=loads(task.args),
                    kwargs=loads(task.kwargs),
                    headers={"periodic_task_name": task.name},
                    **({"queue": task.queue} if task.queue else {}),
                )
            count = len(queryset)
            self.message_user(
                request,
                ngettext("Started %(count)d task.", "Started %(count)d tasks.", count) % {"count": count},
            )

    site.unregister(beat_models.PeriodicTask)
    site.register(beat_models.PeriodicTask, PortalPeriodicTaskAdmin)


def third_party_admins_adjust(site) -> None:
    from django.contrib.admin.templatetags import admin_list

    admin_list._boolean_icon = _boolean_icon  # read from the module at each call
    _authenticators_adjust(site)
    _groups_adjust(site)
    _periodic_tasks_adjust(site)
