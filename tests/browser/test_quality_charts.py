"""The monitoring charts in chromium: tooltips phrase an amount by its plural category, as the summary
does ("1 день", "3 дні", "5 днів", "2,5 дня"), and counts keep to whole numbers on their axis."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import NOV, _session_cookie, _user_client, portal  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOOLTIP = """([id, values]) => {
  const chart = Chart.getChart(document.querySelector(`canvas[data-quality-chart="${id}"]`));
  const axis = chart.options.indexAxis === "y" ? "x" : "y";
  const label = chart.options.plugins.tooltip.callbacks.label;
  return values.map(value => label({dataset: chart.data.datasets[0], parsed: {[axis]: value}}));
}"""


def test_tooltips_phrase_amounts_by_plural_category(page, live_server, portal):  # noqa: F811
    _session_cookie(page, live_server, _user_client("operator", portal))
    page.goto(f"/monitoring/?{NOV}")
    expect(page.locator("canvas[data-state=ready]")).to_have_count(3)
    processing = json.loads(page.locator("#chart-processing").text_content())
    forms = processing["amount"]
    median = processing["series"][0]["label"]

    tooltips = page.evaluate(TOOLTIP, ["chart-processing", [1, 3, 5, 2.5, None]])

    assert tooltips == [
        f"{median}: {forms['one'].replace('%(count)s', '1')}",
        f"{median}: {forms['few'].replace('%(count)s', '3')}",
        f"{median}: {forms['many'].replace('%(count)s', '5')}",
        f"{median}: {forms['other'].replace('%(count)s', '2,5')}",
        f"{median}: —",
    ]
    assert len(set(forms.values())) > 1  # the unit's forms differ by number
    ticks = page.evaluate(
        "() => Chart.getChart(document.querySelector('[data-quality-chart=chart-volume]')).scales.y.ticks"
        ".map(tick => tick.value)"
    )
    assert ticks and all(float(tick).is_integer() for tick in ticks)
