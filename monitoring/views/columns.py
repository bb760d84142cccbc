"""The figures of a quality group as the dashboards, the charts and the exports show them: columns with
their units, numbers in the Ukrainian way, and amounts phrased with the right plural form ("1 день",
"2 дні", "5 днів", "3,1 дня")."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..models import Appeal
from ..selectors import QualityRow

# Intl.PluralRules categories (what quality-charts.js picks from) and a number in each of them.
PLURAL_SAMPLES = {"one": 1, "few": 2, "many": 5}


@dataclass(frozen=True)
class Unit:
    """How a figure is measured: the heading under a column's name, and the phrase for an amount.

    `whole(n)` is the phrase template for the whole number n ("%(count)s days", through ngettext);
    `fraction()` the one for a number shown with decimals. Ukrainian puts a decimal fraction in the
    genitive singular ("3,1 дня"), a form no whole number takes, so it is a message of its own.
    """

    heading: str
    whole: Callable[[int], str]
    fraction: Callable[[], str]
    percent: bool = False  # a share out of 100 (a spreadsheet shows it as a percentage)

    def phrase(self, value, decimals: int) -> str:
        template = self.fraction() if decimals else self.whole(round(value))
        return template % {"count": number(value, decimals)}

    def plural_forms(self) -> dict[str, str]:
        """The phrases by plural category with "%(count)s" for the number, for the charts' tooltips
        (Intl.PluralRules)."""
        templates = {category: self.whole(sample) for category, sample in PLURAL_SAMPLES.items()}
        templates["other"] = self.fraction()
        return {category: template % {"count": "%(count)s"} for category, template in templates.items()}


def _fixed(template: Callable[[], str]) -> dict:
    """A unit whose phrase does not depend on the number ("87,5 %", "4,20 з 5")."""
    return {"whole": lambda n: template(), "fraction": template}


APPEALS = Unit(
    _("number of appeals"),
    whole=lambda n: ngettext("%(count)s appeal", "%(count)s appeals", n),
    fraction=lambda: pgettext("a decimal fraction of", "%(count)s appeals"),
)
DAYS = Unit(
    _("days"),
    whole=lambda n: ngettext("%(count)s day", "%(count)s days", n),
    fraction=lambda: pgettext("a decimal fraction of", "%(count)s days"),
)
PERCENT = Unit(_("%"), **_fixed(lambda: "%(count)s\u00a0%%"), percent=True)
RATING = Unit(_("of 5"), **_fixed(lambda: gettext("%(count)s of 5")))
LOYALTY = Unit(_("−100…+100"), **_fixed(lambda: gettext("%(count)s on a scale from −100 to +100")))


@dataclass(frozen=True)
class Column:
    """One figure of a group as the table, the summary and the exports show it."""

    label: str
    unit: Unit | None  # None: a count that its label names ("Appeals")
    value: Callable[[QualityRow], float | int | None]
    decimals: int = 0
    in_summary: bool = True  # shown in the dashboard's summary of the total

    @property
    def heading(self) -> str:
        """The column's name with its unit, as one line (the exports' header)."""
        return f"{self.label}, {self.unit.heading}" if self.unit else str(self.label)

    def amount(self, row: QualityRow) -> str:
        """The value with its unit, as a phrase ("3,1 дня"); a dash when there is none."""
        value = self.value(row)
        if value is None:
            return "—"
        return self.unit.phrase(value, self.decimals) if self.unit else number(value, self.decimals)


def number(value, decimals: int) -> str:
    """A number as the page's language writes it, rounded (Django's number_format cuts decimals off)."""
    return formats.number_format(round(value, decimals), decimals, use_l10n=True)


def cells(row: QualityRow, columns: list[Column]) -> list[str]:
    return [
        "—" if (value := column.value(row)) is None else number(value, column.decimals) for column in columns
    ]


def _channel_column(channel) -> Column:
    return Column(channel.label, APPEALS, lambda row: row.by_channel.get(channel.value, 0), in_summary=False)


COLUMNS = [
    Column(_("Appeals"), None, lambda row: row.appeals),
    *(_channel_column(channel) for channel in Appeal.Channel),
    Column(_("Digital share"), PERCENT, lambda row: row.online_share, 1),
    Column(_("Closed"), APPEALS, lambda row: row.closed),
    Column(_("On time"), PERCENT, lambda row: row.on_time_share, 1),
    Column(_("Open and overdue"), APPEALS, lambda row: row.overdue_open),
    Column(_("Processing time, median"), DAYS, lambda row: row.median_days, 1),
    Column(_("Processing time, 90th percentile"), DAYS, lambda row: row.p90_days, 1),
    Column(_("Refusals"), PERCENT, lambda row: row.refusal_rate, 1),
    Column(_("Mean rating"), RATING, lambda row: row.rating_mean, 2),
    Column(_("Response rate"), PERCENT, lambda row: row.response_rate, 1),
    Column(_("Loyalty index"), LOYALTY, lambda row: row.nps, 1),
    Column(_("No deadline"), PERCENT, lambda row: row.missing_deadline_share, 1),
    Column(_("Quarantined records"), PERCENT, lambda row: row.quarantine_share, 1),
    Column(_("Successful pulls"), PERCENT, lambda row: row.pull_success_share, 1),
]

REGION_COLUMNS = [
    Column(_("CNAPs reporting"), None, lambda row: row.cnaps),
    Column(_("Appeals"), None, lambda row: row.appeals),
    Column(_("On time"), PERCENT, lambda row: row.on_time_share, 1),
    Column(_("Processing time, median"), DAYS, lambda row: row.median_days, 1),
    Column(_("Refusals"), PERCENT, lambda row: row.refusal_rate, 1),
    Column(_("Mean rating"), RATING, lambda row: row.rating_mean, 2),
    Column(_("Loyalty index"), LOYALTY, lambda row: row.nps, 1),
    Column(_("Digital share"), PERCENT, lambda row: row.online_share, 1),
]
