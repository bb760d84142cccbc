"""Quality of services: the operators' dashboard with its CSV and XLSX exports, and the public regional
summary.

Figures come from `selectors.quality_figures`; these views only validate the filters and lay them out.
"""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
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
    cnap_regions,
    failing_cnap_systems,
    quality_by_day,
    quality_figures,
    regional_summary,
    user_can_monitor,
)
from .columns import APPEALS, COLUMNS, DAYS, PERCENT, REGION_COLUMNS, Unit, cells
from .exports import XLSX_CONTENT_TYPE, Export, figures_csv, figures_xlsx

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


def _series(label, values, decimals: int = 1) -> dict:
    """A chart series: numbers rounded as the tables show them, None for a missing value."""
    return {"label": str(label), "data": [None if v is None else round(v, decimals) for v in values]}


def _chart(unit: Unit, labels, series, **options) -> dict:
    """A chart's data for quality-charts.js: its tooltips phrase an amount as the summary does."""
    return {"amount": unit.plural_forms(), "labels": labels, "series": series, **options}


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
        filters = request.GET.urlencode()
        context |= {
            "figures": figures,
            "columns": COLUMNS,
            "table": [{"row": row, "cells": cells(row, COLUMNS)} for row in figures.rows],
            "total_cells": cells(figures.total, COLUMNS),
            "summary": [(column, column.amount(figures.total)) for column in COLUMNS if column.in_summary],
            "days": [{"day": row.key, "counts": list(row.by_channel.values())} for row in days],
            "channels": Appeal.Channel.labels,
            "group_heading": GROUP_TITLES[selection["group_by"]][0],
            "figures_title": GROUP_TITLES[selection["group_by"]][1],
            "charted_all": len(charted) == len(figures.rows),
            "charted_by_period": by_period,
            "show_codes": not by_period,  # a CNAP's or service's code before its name
            "chart_groups": CHART_GROUPS,
            "csv_url": f"{reverse('monitoring:dashboard-csv')}?{filters}",
            "xlsx_url": f"{reverse('monitoring:dashboard-xlsx')}?{filters}",
            "charts": {
                "volume": _chart(
                    APPEALS,
                    [row.key for row in days],
                    [
                        _series(channel.label, [row.by_channel[channel.value] for row in days], 0)
                        for channel in Appeal.Channel
                    ],
                    stacked=True,
                    integers=True,
                ),
                "timeliness": _chart(
                    PERCENT,
                    groups,
                    [
                        _series(_("On time"), [row.on_time_share for row in charted]),
                        _series(_("Refusals"), [row.refusal_rate for row in charted]),
                    ],
                    horizontal=True,
                ),
                "processing": _chart(
                    DAYS,
                    groups,
                    [
                        _series(_("Median"), [row.median_days for row in charted]),
                        _series(_("90th percentile"), [row.p90_days for row in charted]),
                    ],
                    horizontal=True,
                ),
            },
        }
    return render(request, "monitoring/quality/dashboard.html", context)


def _export(request, extension: str, content_type: str, write) -> HttpResponse:
    """The dashboard's figures for its filters as a file; a bad filter is a 400 naming the field."""
    form = _dashboard_form(request)
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label}: {' '.join(messages)}" for name, messages in form.errors.items()
        ]
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    selection = form.selection()
    export = Export(
        figures=quality_figures(**selection),
        columns=COLUMNS,
        group_by=selection["group_by"],
        group_heading=str(GROUP_TITLES[selection["group_by"]][0]),
        code_heading=gettext("Code"),
        total_label=gettext("Total"),
    )
    filename = f"cnap-quality-{selection['date_from']:%Y%m%d}-{selection['date_to']:%Y%m%d}.{extension}"
    response = HttpResponse(write(export), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@_operator_required
def dashboard_csv(request):
    return _export(request, "csv", "text/csv; charset=utf-8", figures_csv)


@_operator_required
def dashboard_xlsx(request):
    title = gettext("Quality of CNAP services")
    return _export(request, "xlsx", XLSX_CONTENT_TYPE, lambda export: figures_xlsx(export, title=title))


# --- Public regional summary -----------------------------------------------------------------------


def _last_full_month() -> tuple[datetime.date, datetime.date]:
    last_day = _today().replace(day=1) - datetime.timedelta(days=1)
    return last_day.replace(day=1), last_day


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
            "table": [{"row": row, "cells": cells(row, REGION_COLUMNS)} for row in figures.rows],
            "total_cells": cells(figures.total, REGION_COLUMNS),
            "chart": _chart(
                PERCENT,
                [row.label for row in figures.rows],
                [
                    _series(_("On time"), [row.on_time_share for row in figures.rows]),
                    _series(_("Digital share"), [row.online_share for row in figures.rows]),
                ],
                horizontal=True,
            ),
        }
    return render(request, "monitoring/quality/regions.html", context)
