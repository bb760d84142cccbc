"""Reads of the monitoring app."""

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Aggregate, Avg, Count, DateField, F, FloatField, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from ehealth_portal.caching import cached

from .models import Appeal, Cnap, CnapSystem, PullRun, QuarantinedRecord, ServiceVariation


def service_variation_for_appeal(
    *, service_identifier: str, variation_identifier: str = ""
) -> ServiceVariation | None:
    """The variation whose legal term an appeal is measured against.

    The named active variation, or, when the appeal names none, the service's only active variation;
    None when the service is unknown or inactive, or the choice is ambiguous.
    """
    variations = ServiceVariation.objects.filter(
        service__identifier=service_identifier, service__is_active=True, is_active=True
    ).select_related("service")
    if variation_identifier:
        return variations.filter(identifier=variation_identifier).first()
    candidates = list(variations[:2])
    return candidates[0] if len(candidates) == 1 else None


def cnap_regions() -> list[str]:
    """Regions of active CNAPs, for filters and the regional summary."""
    return list(
        Cnap.objects.filter(is_active=True)
        .exclude(region="")
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )


# --- Quality of services -----------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """The `fraction` percentile of an expression, interpolated (PostgreSQL's `percentile_cont`).

    SQLite runs the same arithmetic in `ehealth_portal.sqlite.PercentileCont`, registered on connect.
    """

    name = "PercentileCont"
    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction is between 0 and 1.")
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Set on a copy: Aggregate.as_sql cannot take `template` as an argument together with `filter`.
        clone = self.copy()
        clone.function = "portal_percentile_cont"
        clone.template = "%(function)s(%(expressions)s, %(fraction)s)"
        return clone.as_sql(compiler, connection, **extra_context)


GROUP_BY_CNAP, GROUP_BY_SERVICE, GROUP_BY_REGION = "cnap", "service", "region"
GROUP_BY_DAY, GROUP_BY_MONTH = "day", "month"
PERIOD_GROUPINGS = (GROUP_BY_DAY, GROUP_BY_MONTH)
# Appeal fields each grouping keys on, with the field naming the group.
GROUPINGS = {
    GROUP_BY_CNAP: ("cnap_id", "cnap__name"),
    GROUP_BY_SERVICE: ("service_id", "service__name"),
    GROUP_BY_REGION: ("cnap__region", None),
    GROUP_BY_DAY: ("day", None),
    GROUP_BY_MONTH: ("month", None),
}
OPEN_STATUSES = [Appeal.Status.REGISTERED, Appeal.Status.IN_PROGRESS, Appeal.Status.READY]
DECIDED_STATUSES = [Appeal.Status.ISSUED, Appeal.Status.REFUSED]
WITHDRAWN_STATUSES = [Appeal.Status.RETURNED, Appeal.Status.CANCELLED]
CHANNELS = [value for value, _label in Appeal.Channel.choices]
SECONDS_PER_DAY = 86400


def _share(part: int | None, whole: int | None) -> float | None:
    """A percentage, or None when there is nothing to divide by (or the part is not known)."""
    if part is None or not whole:
        return None
    return 100 * part / whole


@dataclass
class QualityRow:
    """The figures of one group (a CNAP, a service, a region or a day) or of the whole selection.

    Counts come from the database; shares are percentages (0–100) or None when undefined.
    """

    key: str
    label: str
    appeals: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    cnaps: int = 0
    closed: int = 0
    closed_with_deadline: int = 0
    on_time: int = 0
    overdue_open: int = 0
    missing_deadline: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    refusals: int = 0
    issued: int = 0
    issued_rated: int = 0
    ratings: int = 0
    rating_mean: float | None = None
    loyalty_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    # Data quality of the connections: None where not attributable (a service, a day, a channel).
    quarantined: int | None = None
    pull_runs: int | None = None
    pull_runs_succeeded: int | None = None

    @property
    def on_time_share(self) -> float | None:
        return _share(self.on_time, self.closed_with_deadline)

    @property
    def median_days(self) -> float | None:
        return None if self.median_seconds is None else self.median_seconds / SECONDS_PER_DAY

    @property
    def p90_days(self) -> float | None:
        return None if self.p90_seconds is None else self.p90_seconds / SECONDS_PER_DAY

    @property
    def refusal_rate(self) -> float | None:
        return _share(self.refusals, self.closed)

    @property
    def response_rate(self) -> float | None:
        return _share(self.issued_rated, self.issued)

    @property
    def nps(self) -> float | None:
        """The loyalty index: % promoters (9–10) − % detractors (0–6), −100…+100."""
        return _share(self.promoters - self.detractors, self.loyalty_answers)

    @property
    def online_share(self) -> float | None:
        return _share(self.by_channel.get(Appeal.Channel.ONLINE, 0), self.appeals)

    @property
    def missing_deadline_share(self) -> float | None:
        return _share(self.missing_deadline, self.appeals)

    @property
    def quarantine_share(self) -> float | None:
        if self.quarantined is None:
            return None
        return _share(self.quarantined, self.appeals + self.quarantined)

    @property
    def pull_success_share(self) -> float | None:
        return _share(self.pull_runs_succeeded, self.pull_runs)


@dataclass
class QualityFigures:
    rows: list[QualityRow]
    total: QualityRow


def _kyiv_bounds(
    date_from: datetime.date, date_to: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the Kyiv calendar days from–to, inclusive."""
    kyiv = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=kyiv)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=kyiv)
    return start, end


def _figure_aggregates(now: datetime.datetime) -> dict:
    # Closed: decided or handed out (a system may send either time, or only the terminal status);
    # returned and cancelled appeals were withdrawn, not decided, so no figure of decisions counts them.
    closed = (Q(decided_at__isnull=False) | Q(issued_at__isnull=False) | Q(status__in=DECIDED_STATUSES)) & ~Q(
        status__in=WITHDRAWN_STATUSES
    )
    # Timeliness needs the moment processing ended: the decision, or the issue when no decision time came.
    ended_on_time = Q(decided_at__lte=F("deadline_at")) | Q(
        decided_at__isnull=True, issued_at__lte=F("deadline_at")
    )
    timed = closed & (Q(decided_at__isnull=False) | Q(issued_at__isnull=False))
    with_deadline = timed & Q(deadline_at__isnull=False)
    issued = Q(issued_at__isnull=False) | Q(status=Appeal.Status.ISSUED)
    return {
        "appeals": Count("pk"),
        **{f"channel_{channel}": Count("pk", filter=Q(channel=channel)) for channel in CHANNELS},
        "cnaps": Count("cnap_id", distinct=True),
        "closed": Count("pk", filter=closed),
        "closed_with_deadline": Count("pk", filter=with_deadline),
        "on_time": Count("pk", filter=with_deadline & ended_on_time),
        "overdue_open": Count(
            "pk",
            filter=Q(decided_at__isnull=True, issued_at__isnull=True, status__in=OPEN_STATUSES)
            & Q(deadline_at__lt=now),
        ),
        "missing_deadline": Count("pk", filter=Q(deadline_at__isnull=True)),
        "median_seconds": PercentileCont("processing_seconds", 0.5, filter=timed),
        "p90_seconds": PercentileCont("processing_seconds", 0.9, filter=timed),
        "refusals": Count(
            "pk", filter=closed & (Q(result=Appeal.Result.REFUSAL) | Q(status=Appeal.Status.REFUSED))
        ),
        "issued": Count("pk", filter=issued),
        # The response rate is answers from applicants who got their result: feedback / issued.
        "issued_rated": Count("pk", filter=issued & Q(rating__isnull=False)),
        "ratings": Count("rating"),
        "rating_mean": Avg("rating"),
        "loyalty_answers": Count("loyalty"),
        "promoters": Count("pk", filter=Q(loyalty__gte=9)),
        "detractors": Count("pk", filter=Q(loyalty__lte=6)),
    }


def _row(key: str, label: str, values: dict) -> QualityRow:
    by_channel = {channel: values.pop(f"channel_{channel}") for channel in CHANNELS}
    return QualityRow(key=key, label=label, by_channel=by_channel, **values)


def _data_quality(*, start, end, region, cnap_code) -> dict[tuple[str, str], list[int]]:
    """(CNAP code, region) → [quarantined records last seen, pull runs finished, of them succeeded],
    in the period. Two grouped queries; one row a CNAP, whatever the number of records."""
    systems = Q()
    if region:
        systems &= Q(system__cnap__region=region)
    if cnap_code:
        systems &= Q(system__cnap__code=cnap_code)
    counts: dict[tuple[str, str], list[int]] = {}
    quarantined = (
        QuarantinedRecord.objects.filter(systems, last_seen_at__gte=start, last_seen_at__lt=end)
        .values("system__cnap__code", "system__cnap__region")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for item in quarantined:
        key = (item["system__cnap__code"], item["system__cnap__region"])
        counts.setdefault(key, [0, 0, 0])[0] = item["count"]
    finished = [PullRun.Status.SUCCEEDED, PullRun.Status.FAILED]
    runs = (
        PullRun.objects.filter(systems, status__in=finished, finished_at__gte=start, finished_at__lt=end)
        .values("system__cnap__code", "system__cnap__region")
        .annotate(count=Count("pk"), succeeded=Count("pk", filter=Q(status=PullRun.Status.SUCCEEDED)))
        .order_by()
    )
    for item in runs:
        key = (item["system__cnap__code"], item["system__cnap__region"])
        counts.setdefault(key, [0, 0, 0])[1:] = [item["count"], item["succeeded"]]
    return counts


def _add_data_quality(row: QualityRow, counts: list[int]) -> None:
    row.quarantined = (row.quarantined or 0) + counts[0]
    row.pull_runs = (row.pull_runs or 0) + counts[1]
    row.pull_runs_succeeded = (row.pull_runs_succeeded or 0) + counts[2]


def _appeals(*, start, end, region, cnap_code, service_code, channel):
    """The appeals the figures count: registered in [start, end), no tests or consultations, filtered."""
    appeals = Appeal.objects.filter(
        registered_at__gte=start, registered_at__lt=end, is_test=False, is_consultation=False
    )
    if region:
        appeals = appeals.filter(cnap__region=region)
    if cnap_code:
        appeals = appeals.filter(cnap_id=cnap_code)
    if service_code:
        appeals = appeals.filter(service_id=service_code)
    if channel:
        appeals = appeals.filter(channel=channel)
    return appeals


def _grouped_rows(appeals, group_by: str, aggregates: dict) -> list[QualityRow]:
    """One query: a row a group, ordered by the group's key."""
    key_field, label_field = GROUPINGS[group_by]
    kyiv = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    if group_by == GROUP_BY_DAY:
        appeals = appeals.annotate(day=TruncDate("registered_at", tzinfo=kyiv))
    elif group_by == GROUP_BY_MONTH:
        appeals = appeals.annotate(month=TruncMonth("registered_at", tzinfo=kyiv, output_field=DateField()))
    group_fields = [key_field, label_field] if label_field else [key_field]
    rows = []
    for values in appeals.values(*group_fields).annotate(**aggregates).order_by(key_field):
        key = values.pop(key_field)
        label = values.pop(label_field) if label_field else key
        if group_by == GROUP_BY_MONTH:
            label = f"{key:%Y-%m}"
        rows.append(_row(str(key), str(label), values))
    return rows


def quality_figures(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    group_by: str,
    region: str | None = None,
    cnap_code: str | None = None,
    service_code: str | None = None,
    channel: str | None = None,
    now: datetime.datetime | None = None,
) -> QualityFigures:
    """Quality figures per group and in total for appeals registered on Kyiv days from–to (inclusive).

    Test appeals and consultations are left out. Everything is aggregated in the database: four queries,
    whatever the number of appeals. The data quality of the connections (quarantine, pull runs) is a
    CNAP's, so it is given per CNAP and per region, and not when a service or channel is chosen.
    """
    start, end = _kyiv_bounds(date_from, date_to)
    appeals = _appeals(
        start=start, end=end, region=region, cnap_code=cnap_code, service_code=service_code, channel=channel
    )
    aggregates = _figure_aggregates(now or timezone.now())
    rows = _grouped_rows(appeals, group_by, aggregates)
    total = _row("", "", appeals.aggregate(**aggregates))

    if group_by in (GROUP_BY_CNAP, GROUP_BY_REGION) and not (service_code or channel):
        by_key = {row.key: row for row in rows}
        for (code, cnap_region), counts in _data_quality(
            start=start, end=end, region=region, cnap_code=cnap_code
        ).items():
            _add_data_quality(total, counts)
            group_key = code if group_by == GROUP_BY_CNAP else cnap_region
            if group_key in by_key:
                _add_data_quality(by_key[group_key], counts)
        for row in rows:
            _add_data_quality(row, [0, 0, 0])
    return QualityFigures(rows=rows, total=total)


def quality_by_day(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    region: str | None = None,
    cnap_code: str | None = None,
    service_code: str | None = None,
    channel: str | None = None,
) -> list[QualityRow]:
    """One row a Kyiv day from–to, days without appeals included (zeros), for time charts. One query."""
    start, end = _kyiv_bounds(date_from, date_to)
    appeals = _appeals(
        start=start, end=end, region=region, cnap_code=cnap_code, service_code=service_code, channel=channel
    )
    rows = _grouped_rows(appeals, GROUP_BY_DAY, _figure_aggregates(timezone.now()))
    by_day = {row.key: row for row in rows}
    days = (date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 1))
    return [
        by_day.get(day.isoformat())
        or QualityRow(key=day.isoformat(), label=day.isoformat(), by_channel=dict.fromkeys(CHANNELS, 0))
        for day in days
    ]


def failing_cnap_systems() -> list[CnapSystem]:
    """Active systems whose recent pulls failed in a row, for the operators' notice."""
    return list(CnapSystem.objects.filter(is_active=True, is_failing=True).select_related("cnap"))


# Below this many answers a region's satisfaction and loyalty index are not published: a handful of
# answers says little and could point at the few applicants who gave them.
PUBLIC_MIN_ANSWERS = 10


def regional_summary(*, date_from: datetime.date, date_to: datetime.date) -> QualityFigures:
    """Per-region figures for the public page: aggregates only, small samples of answers withheld.

    Kept in the cache for a while per period: anyone may ask, and each answer aggregates every appeal of
    the period (appeals arrive in daily pulls, so a few minutes' delay shows nothing stale). Computed
    without the cache while it is down.
    """
    return cached(
        f"monitoring:regional-summary:{date_from.isoformat()}:{date_to.isoformat()}",
        settings.MONITORING_PUBLIC_CACHE_SECONDS,
        lambda: _regional_summary(date_from=date_from, date_to=date_to),
    )


def _regional_summary(*, date_from: datetime.date, date_to: datetime.date) -> QualityFigures:
    figures = quality_figures(date_from=date_from, date_to=date_to, group_by=GROUP_BY_REGION)
    for row in [*figures.rows, figures.total]:
        if row.ratings < PUBLIC_MIN_ANSWERS:
            row.rating_mean = None
        if row.loyalty_answers < PUBLIC_MIN_ANSWERS:
            row.loyalty_answers = row.promoters = row.detractors = 0
    return figures


def user_can_monitor(*, user) -> bool:
    """Operators: staff allowed to read the appeals."""
    return user.is_active and user.is_staff and user.has_perm("monitoring.view_appeal")


def pull_runs_failed_count(*, since: datetime.datetime) -> int:
    """Runs (connection tests included) requested since `since` that failed (the admin's dashboard)."""
    return PullRun.objects.filter(status=PullRun.Status.FAILED, created_at__gte=since).count()


def quarantined_records_count() -> int:
    """Records waiting in quarantine; a later valid version of an appeal removes its record."""
    return QuarantinedRecord.objects.count()


def pull_runs_by_ids(*, run_ids) -> list[PullRun]:
    """The runs as they stand now: an admin action reports how the runs it requested went."""
    return list(
        PullRun.objects.filter(pk__in=run_ids)
        .select_related("system__cnap")
        .order_by("system__cnap__code", "window_start")
    )
