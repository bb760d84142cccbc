"""Connecting CNAP systems: joining applications, the systems, and pulling from them on request.

Applications change only through services (which check the state and record the operator): the admin
shows them read-only and offers the services as actions.
"""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page

from .. import pulling, selectors, services
from ..forms import CnapSystemAdminForm, JoiningRejectForm, PullPeriodForm
from ..models import CnapSystem, JoiningApplication, PullRun
from .pulls import error_text


def _errors_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


@admin.register(JoiningApplication)
class JoiningApplicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "cnap", "organisation_edrpou", "signer_name", "contact_email", "status"]
    list_filter = ["status"]
    search_fields = ["cnap__code", "cnap__name", "organisation_edrpou", "signer_name", "contact_email"]
    list_select_related = ["cnap"]
    date_hierarchy = "created_at"
    fields = [
        "status",
        "connect_link",
        "cnap",
        "organisation_edrpou",
        "contact_email",
        "proposed_base_url",
        "created_at",
        "signer_name",
        "signer_drfo",
        "signer_edrpou",
        "signed_at",
        "evidence",
        "signed_text",
        "decided_by",
        "decided_at",
        "decision_comment",
    ]
    readonly_fields = fields
    actions = ["reject"]

    def get_urls(self):
        return [
            path(
                "<int:application_id>/signature/",
                self.admin_site.admin_view(self.signature_view),
                name="monitoring_joiningapplication_signature",
            ),
            *super().get_urls(),
        ]

    def signature_view(self, request, application_id):
        """The CMS as the CNAP's official submitted it: the evidence of the application."""
        application = get_object_or_404(JoiningApplication, pk=application_id)
        if not self.has_view_permission(request, application):
            raise PermissionDenied
        response = HttpResponse(bytes(application.signature), content_type="application/pkcs7-signature")
        response["Content-Disposition"] = (
            f'attachment; filename="joining-{application.cnap.code}-{application.pk}.p7s"'
        )
        return response

    @admin.display(description=_("signed evidence"))
    def evidence(self, obj):
        url = reverse("admin:monitoring_joiningapplication_signature", args=[obj.pk])
        return format_html('<a href="{}" download>{}</a>', url, _("signature (.p7s)"))

    @admin.display(description=_("signed application text"))
    def signed_text(self, obj):
        return format_html("<pre>{}</pre>", obj.signed_content)

    @admin.display(description=_("system"))
    def connect_link(self, obj):
        system = obj.systems.order_by("-is_active", "-created_at").first()
        if system is not None:
            url = reverse("admin:monitoring_cnapsystem_change", args=[system.pk])
            return format_html('<a href="{}">{}</a>', url, system)
        if obj.status == JoiningApplication.Status.REJECTED:
            return "—"
        query = urlencode({"cnap": obj.cnap_id, "application": obj.pk, "base_url": obj.proposed_base_url})
        url = f"{reverse('admin:monitoring_cnapsystem_add')}?{query}"
        return format_html('<a class="button" href="{}">{}</a>', url, _("Connect the system"))

    def has_reject_permission(self, request):
        return request.user.has_perm("monitoring.change_joiningapplication")

    @admin.action(description=_("Reject with a comment"), permissions=["reject"])
    def reject(self, request, queryset):
        queryset = queryset.filter(status=JoiningApplication.Status.SUBMITTED).select_related("cnap")
        if not queryset:
            self.message_user(request, _("None of the selected applications is waiting."), messages.WARNING)
            return None
        form = JoiningRejectForm(request.POST if "_reject" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for application in queryset:
                try:
                    services.joining_application_reject(
                        application=application, actor=request.user, comment=form.cleaned_data["comment"]
                    )
                    done += 1
                except ValidationError as error:
                    self.message_user(request, f"{application}: {_errors_text(error)}", messages.ERROR)
            if done:
                self.message_user(
                    request,
                    _("Joining applications rejected: %(count)d.") % {"count": done},
                    messages.SUCCESS,
                )
            return None
        return action_page(
            self,
            request,
            queryset,
            title=_("Reject joining applications"),
            intro=_("The CNAP receives the reason by email and may submit a new application."),
            form=form,
            buttons=[("_reject", _("Reject"))],
        )


class PullRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PullRun
    fields = [
        "created_at",
        "trigger",
        "status",
        "window_start",
        "window_end",
        "records_received",
        "records_quarantined",
        "error_display",
        "requested_by",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    show_change_link = True
    verbose_name_plural = _("the ten latest pull runs")

    @admin.display(description=_("error"))
    def error_display(self, obj):
        return error_text(obj)


RECENT_RUNS = 10  # the inline's title says "ten"


def _pull_now_description() -> str:
    days = settings.MONITORING_PULL_WINDOW_DAYS
    return ngettext(
        "Pull the appeals of the last %(days)d day now",
        "Pull the appeals of the last %(days)d days now",
        days,
    ) % {"days": days}


@admin.register(CnapSystem)
class CnapSystemAdmin(admin.ModelAdmin):
    form = CnapSystemAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # the admin's own callback wins
    # Few, short columns: the list fits 1280 px beside the filters (the address and the failures in a row
    # are on the system's page).
    list_display = ["cnap", "name", "is_active", "last_success_at", "working"]
    list_filter = ["is_failing", "is_active", "cnap__region"]
    search_fields = ["cnap__code", "cnap__name", "name", "base_url"]
    list_select_related = ["cnap"]
    health_fields = ["last_pull_at", "last_success_at", "consecutive_failures", "is_failing"]
    inlines = [PullRunInline]
    actions = ["connection_test", "pull_now", "pull_period"]

    @admin.display(description=_("working"), boolean=True, ordering="is_failing")
    def working(self, obj):
        # A failing system shows Django's red "no", not a green "yes" under "failing".
        return not obj.is_failing

    def get_fieldsets(self, request, obj=None):
        connection = ["cnap", "application", "name", "base_url", "login", "password", "is_active"]
        if obj is not None and not self.has_change_permission(request, obj):
            # A read-only page would show the `password` property, i.e. the decrypted password.
            connection.remove("password")
        if obj is None:
            return [(None, {"fields": connection})]
        return [
            (None, {"fields": connection}),
            (
                _("Health"),
                {"fields": [*self.health_fields, "created_by", "created_at", "updated_by", "updated_at"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The CNAP and the application are the evidence the system was connected on: fixed.
        return [
            "cnap",
            "application",
            *self.health_fields,
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, PullRunInline) and obj is not None:
            recent = obj.pull_runs.order_by("-created_at").values("pk")[:RECENT_RUNS]
            kwargs["queryset"] = kwargs["queryset"].filter(pk__in=recent)
        return kwargs

    def has_delete_permission(self, request, obj=None):
        return False  # appeals refer to the system: deactivate it instead

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.cnap_system_update(
                system=obj,
                actor=request.user,
                password=data["password"] or None,
                **{name: data[name] for name in ("name", "base_url", "login", "is_active")},
            )
        else:
            system = services.cnap_system_connect(
                application=data["application"],
                name=data["name"],
                base_url=data["base_url"],
                login=data["login"],
                password=data["password"],
                actor=request.user,
            )
            obj.pk = system.pk  # the admin goes on with the object it validated (log entry, redirect)
            obj._state.adding = False
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A service refused what the form accepted (e.g. another active system appeared meanwhile).
            self.message_user(request, _errors_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- Actions ------------------------------------------------------------------------------------

    def has_pull_permission(self, request):
        return request.user.has_perm("monitoring.change_cnapsystem")

    @admin.action(description=_("Test connection (one day)"), permissions=["pull"])
    def connection_test(self, request, queryset):
        for system in queryset.select_related("cnap"):
            run = pulling.connection_test(system=system, actor=request.user)
            if run.status == PullRun.Status.SUCCEEDED:
                self.message_user(
                    request,
                    _("%(system)s: the connection works, %(records)d records for %(day)s.")
                    % {"system": system, "records": run.records_received, "day": _day(run.window_start)},
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, _connection_failure(system, run), messages.ERROR)

    # The daily pull's window (pulling.pull_window); the label names its length.
    @admin.action(description=lazy(_pull_now_description, str)(), permissions=["pull"])
    def pull_now(self, request, queryset):
        self._pull(request, queryset, *pulling.pull_window())

    @admin.action(description=_("Pull the appeals of a period again…"), permissions=["pull"])
    def pull_period(self, request, queryset):
        form = PullPeriodForm(request.POST if "_pull" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._pull(request, queryset, form.cleaned_data["window_start"], form.cleaned_data["window_end"])
            return None
        return action_page(
            self,
            request,
            queryset,
            title=_("Pull the appeals of a period again"),
            intro=_(
                "The systems are asked again for every appeal created or updated in the period (both days "
                "included); the appeals are updated in place."
            ),
            form=form,
            buttons=[("_pull", _("Start the pull"))],
        )

    def _pull(self, request, queryset, start, end):
        run_ids = []
        for system in queryset.select_related("cnap"):
            try:
                run_ids += [
                    run.pk
                    for run in pulling.pull_run_request(
                        system=system,
                        window_start=start,
                        window_end=end,
                        trigger=PullRun.Trigger.MANUAL,
                        actor=request.user,
                    )
                ]
            except ValidationError as error:
                self.message_user(request, f"{system}: {_errors_text(error)}", messages.ERROR)
        # Without a broker the runs have run in-process by now (after the request's commit): their outcome
        # is known. With one they wait for a worker, and the pull runs list shows how they end.
        waiting = 0
        for run in selectors.pull_runs_by_ids(run_ids=run_ids):
            if run.status == PullRun.Status.SUCCEEDED:
                self.message_user(request, _pull_success(run), messages.SUCCESS)
            elif run.status == PullRun.Status.FAILED:
                self.message_user(request, _pull_failure(run), messages.ERROR)
            else:
                waiting += 1
        if waiting:
            self.message_user(
                request,
                _("Pull runs queued: %(count)d (%(start)s…%(end)s); the pull runs show the outcome.")
                % {"count": waiting, "start": _day(start), "end": _day(end)},
                messages.INFO,
            )


def _pull_success(run: PullRun) -> str:
    return _(
        "%(system)s, %(start)s – %(end)s: pulled. Records received: %(received)d, appeals created: "
        "%(created)d, updated: %(updated)d, quarantined: %(quarantined)d."
    ) % {
        "system": run.system,
        "start": _day(run.window_start),
        "end": _day(run.window_end),
        "received": run.records_received,
        "created": run.records_created,
        "updated": run.records_updated,
        "quarantined": run.records_quarantined,
    }


def _pull_failure(run: PullRun) -> str:
    return _("%(system)s, %(start)s – %(end)s: the pull failed. %(details)s") % {
        "system": run.system,
        "start": _day(run.window_start),
        "end": _day(run.window_end),
        "details": run.error_message or error_text(run),
    }


def _connection_failure(system, run) -> str:
    details = run.error_message or error_text(run) or run.get_status_display()
    if run.http_status:
        return _("%(system)s: the connection failed (HTTP %(status)s): %(details)s") % {
            "system": system,
            "status": run.http_status,
            "details": details,
        }
    return _("%(system)s: the connection failed: %(details)s") % {"system": system, "details": details}
