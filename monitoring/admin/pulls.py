"""What the pulls brought: the run log, the quarantine and the appeals, all read-only (only the puller
writes them), and the dashboard's figures of failed runs and quarantined records."""

import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, pretty_json
from ehealth_portal.admin_site import dashboard_figure, titled_filter

from .. import selectors
from ..models import Appeal, PullRun, QuarantinedRecord


def error_text(run: PullRun) -> str:
    """Why the run failed, in words ("" when it did not); a code the labels do not know, as it is."""
    return run.get_error_code_display() if run.error_code else ""


@admin.register(PullRun)
class PullRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # What a run asked and how it ended, in few columns (the list fits 1280 px beside the filters); its
    # trigger, pages, created and updated appeals, duration and requester are on its page.
    list_display = [
        "created_at",
        "system",
        "outcome_display",
        "window_display",
        "records_received",
        "records_quarantined",
    ]
    list_filter = [
        "status",
        "trigger",
        ("system__is_failing", titled_filter(_("system is failing"))),
        "created_at",  # the dashboard links to its "past 7 days"
        "error_code",
    ]
    search_fields = ["system__cnap__code", "system__name", "error_code"]
    list_select_related = ["system__cnap"]
    date_hierarchy = "created_at"
    fields = [
        "system",
        "trigger",
        "status",
        "window_start",
        "window_end",
        "requested_by",
        "created_at",
        "started_at",
        "lease_expires_at",
        "finished_at",
        "duration_display",
        "attempts",
        "pages",
        "records_received",
        "records_created",
        "records_updated",
        "records_quarantined",
        "http_status",
        "error_display",
        "error_message",
    ]
    readonly_fields = fields

    @admin.display(description=_("error"), ordering="error_code")
    def error_display(self, obj):
        return error_text(obj)

    @admin.display(description=_("status"), ordering="status")
    def outcome_display(self, obj):
        error = error_text(obj)
        return f"{obj.get_status_display()}: {error}" if error else obj.get_status_display()

    @admin.display(description=_("period"), ordering="window_start")
    def window_display(self, obj):
        return f"{date_format(obj.window_start, 'SHORT_DATE_FORMAT')} – {date_format(obj.window_end, 'SHORT_DATE_FORMAT')}"

    @admin.display(description=_("duration"))
    def duration_display(self, obj):
        duration = obj.duration
        if duration is None:
            return "—"
        return _("%(seconds)s s") % {"seconds": number_format(duration.total_seconds(), 1)}


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["last_seen_at", "system", "record_key", "appeal_id", "reasons_summary", "times_seen"]
    list_filter = ["system__cnap__region"]
    search_fields = ["record_key", "appeal_id", "system__cnap__code"]
    list_select_related = ["system__cnap"]
    fields = [
        "system",
        "run",
        "record_key",
        "appeal_id",
        "times_seen",
        "first_seen_at",
        "last_seen_at",
        "reasons_display",
        "record_display",
    ]
    readonly_fields = fields

    @admin.display(description=_("reasons"))
    def reasons_summary(self, obj):
        return format_html_join("; ", "{}", ((line,) for line in _reason_lines(obj.reasons)))

    @admin.display(description=_("reasons"))
    def reasons_display(self, obj):
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((line,) for line in _reason_lines(obj.reasons))),
        )

    @admin.display(description=_("record as received"))
    def record_display(self, obj):
        return pretty_json(obj.record)


def _reason_lines(reasons) -> list[str]:
    """The puller's reasons ({"path", "code", "message"}) as "path: message" lines (the path, the
    contract's field, as code)."""
    return [
        format_html("<code>{}</code>: {}", reason["path"], reason["message"])
        if reason.get("path")
        else reason["message"]
        for reason in reasons
    ]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Appeals as the CNAP systems reported them: operators look, never edit."""

    list_display = [
        "appeal_id",
        "cnap",
        "service",
        "channel",
        "status",
        "result",
        "registered_at",
        "decided_at",
        "deadline_at",
        "rating",
    ]
    list_filter = ["channel", "status", "result", "is_test", "cnap__region"]
    search_fields = ["appeal_id", "cnap__code", "service__identifier"]
    list_select_related = ["cnap", "service", "system"]
    date_hierarchy = "registered_at"
    show_full_result_count = False  # counting millions of appeals on every page is slow


# --- The dashboard ---------------------------------------------------------------------------------

FAILED_RUNS_DAYS = 7  # as the run list's date filter "past 7 days", which the figure links to


def _failed_runs_period() -> tuple[datetime.datetime, datetime.datetime]:
    """[midnight 7 days ago, tomorrow's midnight), Kyiv time: the bounds of Django's "past 7 days"."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=FAILED_RUNS_DAYS), today + datetime.timedelta(days=1)


dashboard_figure(
    model="monitoring.pullrun",
    count=lambda: selectors.pull_runs_failed_count(since=_failed_runs_period()[0]),
    text=lambda count: (
        ngettext(
            "%(count)d failed pull run in the last %(days)d days",
            "%(count)d failed pull runs in the last %(days)d days",
            count,
        )
        % {"count": count, "days": FAILED_RUNS_DAYS}
    ),
    query=lambda: {
        "status__exact": PullRun.Status.FAILED,
        "created_at__gte": str(_failed_runs_period()[0]),
        "created_at__lt": str(_failed_runs_period()[1]),
    },
)
dashboard_figure(
    model="monitoring.quarantinedrecord",
    count=selectors.quarantined_records_count,
    text=lambda count: (
        ngettext("%(count)d record in quarantine", "%(count)d records in quarantine", count)
        % {"count": count}
    ),
    query=dict,
)
