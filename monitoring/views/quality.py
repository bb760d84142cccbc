"""Quality of services: the operators' dashboard with its CSV export, and the public regional summary.

Figures come from `selectors.quality_figures`; these views only validate the filters and lay them out.
"""

import csv
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ehealth_portal.cache_outage import consume_or_429_read

from ..models import AdministrativeService, Appeal, Cnap
from ..selectors import (
    GROUP_BY_CNAP,
    GROUP_BY_DAY,
    GROUP_BY_MONTH,
    GROUP_BY_SERVICE,
    PERIOD_GROUPINGS,
    PUBLIC_MIN_ANSWERS,
    QualityRow,
    cnap_regions,
    failing_cnap_systems,
    quality_by_day,
    quality_figures,
    regional_summary,
    user_can_monitor,
)

MAX_PERIOD_DAYS = 366
DASHBOARD_DAYS = 30  # the default period: the last 30 days, today included
CHART_GROUPS = 30  # groups with the most appeals in the per-group charts

# --- Filters ---------------------------------------------------------------------------------------


def _date_field(label):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class PeriodForm(forms.Form):
    """A period of Kyiv calendar days, both inclusive; missing dates take the page's defaults."""

    date_from = _date_field(_("First day"))
    date_to = _date_field(_("Last day"))

    def __init__(self, data, *, default_from: datetime.date, default_to: datetime.date, **kwargs):
        data = data.copy()
        for name, default in (("date_from", default_from), ("date_to", default_to)):
            data.setdefault(name, default.isoformat())
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_from > date_to:
                self.add_error("date_to", _("The period starts after it ends."))
            elif (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
                self.add_error(
                    "date_to", _("The period is at most %(days)d days long.") % {"days": MAX_PERIOD_DAYS}
                )
        return cleaned


class CnapChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


class QualityFilterForm(PeriodForm):
    region = forms.ChoiceField(label=_("Region"), required=False)
    cnap = CnapChoiceField(
        label=_("CNAP"),
        required=False,
        queryset=Cnap.objects.filter(systems__isnull=False).distinct(),
        to_field_name="code",
        empty_label=_("All CNAPs"),
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        required=False,
        queryset=AdministrativeService.objects.filter(is_active=True),
        to_field_name="identifier",
        empty_label=_("All services"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Appeal.Channel.choices]
    )
    group_by = forms.ChoiceField(
        label=_("Figures per"),
        choices=[
            (GROUP_BY_CNAP, _("CNAP")),
            (GROUP_BY_SERVICE, _("service")),
            (GROUP_BY_DAY, _("day")),
            (GROUP_BY_MONTH, _("month")),
        ],
    )

    def __init__(self, data, **kwargs):
        data = data.copy()
        data.setdefault("group_by", GROUP_BY_CNAP)
        super().__init__(data, **kwargs)
        self.fields["region"].choices = [("", _("All regions")), *((r, r) for r in cnap_regions())]

    def selection(self) -> dict:
        """The keyword arguments of `quality_figures` the valid filters give."""
        data = self.cleaned_data
        return {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "group_by": data["group_by"],
            "region": data["region"] or None,
            "cnap_code": data["cnap"].code if data["cnap"] else None,
            "service_code": data["service"].identifier if data["service"] else None,
            "channel": data["channel"] or None,
        }


# Per grouping: the heading of the group column and the title of the figures table.
GROUP_TITLES = {
    GROUP_BY_CNAP: (_("CNAP"), _("Figures per CNAP")),
    GROUP_BY_SERVICE: (_("Service"), _("Figures per service")),
    GROUP_BY_DAY: (_("Day"), _("Figures per day")),
    GROUP_BY_MONTH: (_("Month"), _("Figures per month")),
}


def _today() -> datetime.date:
    return timezone.localdate()


def _dashboard_form(request) -> QualityFilterForm:
    today = _today()
    return QualityFilterForm(
        request.GET, default_from=today - datetime.timedelta(days=DASHBOARD_DAYS - 1), default_to=today
    )


# --- Columns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One figure of a group as the table and the CSV show it."""

    label: str
    unit: str
    value: Callable[[QualityRow], float | int | None]
    decimals: int = 0
    in_summary: bool = True  # shown in the dashboard's summary of the total


def _channel_column(channel) -> Column:
    return Column(
        channel.label,
        _("number of appeals"),
        lambda row: row.by_channel.get(channel.value, 0),
        in_summary=False,
    )


PERCENT, DAYS = _("%"), _("days")
COLUMNS = [
    Column(_("Appeals"), "", lambda row: row.appeals),
    *(_channel_column(channel) for channel in Appeal.Channel),
    Column(_("Digital share"), PERCENT, lambda row: row.online_share, 1),
    Column(_("Closed"), _("number of appeals"), lambda row: row.closed),
    Column(_("On time"), PERCENT, lambda row: row.on_time_share, 1),
    Column(_("Open and overdue"), _("number of appeals"), lambda row: row.overdue_open),
    Column(_("Processing time, median"), DAYS, lambda row: row.median_days, 1),
    Column(_("Processing time, 90th percentile"), DAYS, lambda row: row.p90_days, 1),
    Column(_("Refusals"), PERCENT, lambda row: row.refusal_rate, 1),
    Column(_("Mean rating"), _("of 5"), lambda row: row.rating_mean, 2),
    Column(_("Response rate"), PERCENT, lambda row: row.response_rate, 1),
    Column(_("Loyalty index"), _("−100…+100"), lambda row: row.nps, 1),
    Column(_("No deadline"), PERCENT, lambda row: row.missing_deadline_share, 1),
    Column(_("Quarantined records"), PERCENT, lambda row: row.quarantine_share, 1),
    Column(_("Successful pulls"), PERCENT, lambda row: row.pull_success_share, 1),
]


def _display(value, decimals: int) -> str:
    return "—" if value is None else formats.number_format(value, decimals, use_l10n=True)


def _cells(row: QualityRow, columns: list[Column]) -> list[str]:
    return [_display(column.value(row), column.decimals) for column in columns]


def _series(label, values, decimals: int = 1) -> dict:
    """A chart series: numbers rounded as the tables show them, None for a missing value."""
    return {"label": str(label), "data": [None if v is None else round(v, decimals) for v in values]}


# --- Operators' dashboard --------------------------------------------------------------------------


def _operator_required(view):
    """Staff allowed to read appeals; others are refused (anonymous users are sent to sign in)."""

    @login_required
    def wrapper(request, *args, **kwargs):
        if not user_can_monitor(user=request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@_operator_required
def dashboard(request):
    form = _dashboard_form(request)
    context = {"form": form, "failing_systems": failing_cnap_systems()}
    if form.is_valid():
        selection = form.selection()
        figures = quality_figures(**selection)
        days = quality_by_day(**{k: v for k, v in selection.items() if k != "group_by"})
        # A chart of hundreds of bars helps nobody: it shows the largest groups (the latest periods),
        # the table all of them.
        by_period = selection["group_by"] in PERIOD_GROUPINGS
        if by_period:
            charted = figures.rows[-CHART_GROUPS:]
        else:
            charted = sorted(figures.rows, key=lambda row: -row.appeals)[:CHART_GROUPS]
        groups = [row.label for row in charted]
        context |= {
            "figures": figures,
            "columns": COLUMNS,
            "table": [{"row": row, "cells": _cells(row, COLUMNS)} for row in figures.rows],
            "total_cells": _cells(figures.total, COLUMNS),
            "summary": [
                (column, cell)
                for column, cell in zip(COLUMNS, _cells(figures.total, COLUMNS), strict=True)
                if column.in_summary
            ],
            "days": [{"day": row.key, "counts": list(row.by_channel.values())} for row in days],
            "channels": Appeal.Channel.labels,
            "group_heading": GROUP_TITLES[selection["group_by"]][0],
            "figures_title": GROUP_TITLES[selection["group_by"]][1],
            "charted_all": len(charted) == len(figures.rows),
            "charted_by_period": by_period,
            "show_codes": not by_period,  # a CNAP's or service's code before its name
            "chart_groups": CHART_GROUPS,
            "csv_url": f"{reverse('monitoring:dashboard-csv')}?{request.GET.urlencode()}",
            "charts": {
                "volume": {
                    "stacked": True,
                    "unit": str(_("number of appeals")),
                    "labels": [row.key for row in days],
                    "series": [
                        _series(channel.label, [row.by_channel[channel.value] for row in days], 0)
                        for channel in Appeal.Channel
                    ],
                },
                "timeliness": {
                    "horizontal": True,
                    "unit": "%",
                    "labels": groups,
                    "series": [
                        _series(_("On time"), [row.on_time_share for row in charted]),
                        _series(_("Refusals"), [row.refusal_rate for row in charted]),
                    ],
                },
                "processing": {
                    "horizontal": True,
                    "unit": str(DAYS),
                    "labels": groups,
                    "series": [
                        _series(_("Median"), [row.median_days for row in charted]),
                        _series(_("90th percentile"), [row.p90_days for row in charted]),
                    ],
                },
            },
        }
    return render(request, "monitoring/quality/dashboard.html", context)


def _csv_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading =, +, -, @, tab or CR
    gets a quote in front."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv_number(value, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


@_operator_required
def dashboard_csv(request):
    form = _dashboard_form(request)
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label}: {' '.join(messages)}" for name, messages in form.errors.items()
        ]
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    selection = form.selection()
    figures = quality_figures(**selection)
    group_label = str(GROUP_TITLES[selection["group_by"]][0])
    filename = f"cnap-quality-{selection['date_from']:%Y%m%d}-{selection['date_to']:%Y%m%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # the BOM makes Excel read the file as UTF-8 (Cyrillic names)
    writer = csv.writer(response)
    headers = (f"{column.label}, {column.unit}" if column.unit else str(column.label) for column in COLUMNS)
    writer.writerow([gettext("Code"), group_label, *headers])
    for row, key in [*((row, row.key) for row in figures.rows), (figures.total, "")]:
        label = row.label if key else gettext("Total")
        writer.writerow(
            [
                _csv_text(key),
                _csv_text(label),
                *(_csv_number(column.value(row), column.decimals) for column in COLUMNS),
            ]
        )
    return response


# --- Public regional summary -----------------------------------------------------------------------


def _last_full_month() -> tuple[datetime.date, datetime.date]:
    last_day = _today().replace(day=1) - datetime.timedelta(days=1)
    return last_day.replace(day=1), last_day


REGION_COLUMNS = [
    Column(_("CNAPs reporting"), "", lambda row: row.cnaps),
    Column(_("Appeals"), "", lambda row: row.appeals),
    Column(_("On time"), PERCENT, lambda row: row.on_time_share, 1),
    Column(_("Processing time, median"), DAYS, lambda row: row.median_days, 1),
    Column(_("Refusals"), PERCENT, lambda row: row.refusal_rate, 1),
    Column(_("Mean rating"), _("of 5"), lambda row: row.rating_mean, 2),
    Column(_("Loyalty index"), _("−100…+100"), lambda row: row.nps, 1),
    Column(_("Digital share"), PERCENT, lambda row: row.online_share, 1),
]


def regions(request):
    if limited := consume_or_429_read(request, action="monitoring_regions"):  # served while the cache is down
        return limited
    default_from, default_to = _last_full_month()
    form = PeriodForm(request.GET, default_from=default_from, default_to=default_to)
    context = {"form": form, "columns": REGION_COLUMNS, "min_answers": PUBLIC_MIN_ANSWERS}
    if form.is_valid():
        figures = regional_summary(
            date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
        )
        context |= {
            "figures": figures,
            "table": [{"row": row, "cells": _cells(row, REGION_COLUMNS)} for row in figures.rows],
            "total_cells": _cells(figures.total, REGION_COLUMNS),
            "chart": {
                "horizontal": True,
                "unit": "%",
                "labels": [row.label for row in figures.rows],
                "series": [
                    _series(_("On time"), [row.on_time_share for row in figures.rows]),
                    _series(_("Digital share"), [row.online_share for row in figures.rows]),
                ],
            },
        }
    return render(request, "monitoring/quality/regions.html", context)
