"""Figures with their units as the dashboard words them: Ukrainian plural forms ("1 день", "2 дні",
"5 днів"), a decimal fraction in the genitive singular ("3,1 дня"), numbers rounded, not cut off."""

import pytest
from django.utils import translation

from monitoring.views.columns import APPEALS, DAYS, LOYALTY, PERCENT, RATING, number
from tests.monitoring.test_quality_views import DASHBOARD, NOV, appeal, bucha, operator, operator_client  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("unit", "value", "decimals", "phrase"),
    [
        (DAYS, 1, 0, "1 день"),
        (DAYS, 2, 0, "2 дні"),
        (DAYS, 5, 0, "5 днів"),
        (DAYS, 11, 0, "11 днів"),
        (DAYS, 21, 0, "21 день"),
        (DAYS, 24, 0, "24 дні"),
        (DAYS, 3.14, 1, "3,1 дня"),
        (DAYS, 2, 1, "2,0 дня"),  # written with a decimal, read as a fraction
        (APPEALS, 1, 0, "1 заява"),
        (APPEALS, 3, 0, "3 заяви"),
        (APPEALS, 160, 0, "160 заяв"),
        (RATING, 4.2, 2, "4,20 з 5"),
        (LOYALTY, 12, 1, "12,0 за шкалою від −100 до +100"),
        (PERCENT, 66.666, 1, "66,7\u00a0%"),
    ],
)
def test_amounts_take_the_ukrainian_plural_form(unit, value, decimals, phrase):
    with translation.override("uk"):
        assert unit.phrase(value, decimals) == phrase


def test_a_decimal_fraction_is_never_phrased_as_a_whole_number():
    with translation.override("en"):
        assert [DAYS.phrase(1, 0), DAYS.phrase(1, 1), DAYS.phrase(2.26, 1)] == [
            "1 day",
            "1.0 days",
            "2.3 days",
        ]


def test_charts_get_the_phrases_by_plural_category():
    with translation.override("uk"):
        assert DAYS.plural_forms() == {
            "one": "%(count)s день",
            "few": "%(count)s дні",
            "many": "%(count)s днів",
            "other": "%(count)s дня",
        }
        assert PERCENT.plural_forms() == dict.fromkeys(["one", "few", "many", "other"], "%(count)s\u00a0%")


@pytest.mark.parametrize(
    ("value", "decimals", "text"), [(66.666, 1, "66,7"), (2 / 3, 2, "0,67"), (99.95, 1, "100,0")]
)
def test_numbers_are_rounded_not_cut_off(value, decimals, text):
    with translation.override("uk"):
        assert number(value, decimals) == text


def test_the_summary_phrases_each_figure_with_its_unit(operator_client, bucha):  # noqa: F811
    appeal(bucha, days=3)
    appeal(bucha, days=3, channel="online")
    appeal(bucha, days=4, channel="online")

    response = operator_client.get(DASHBOARD, NOV)

    summary = {str(column.label): text for column, text in response.context["summary"]}
    assert summary["Заяви"] == "3"
    assert summary["Розглянуто"] == "3 заяви"
    assert summary["Не розглянуто, строк минув"] == "0 заяв"
    assert summary["Час розгляду, медіана"] == "3,0 дня"
    assert summary["Частка онлайн"] == "66,7\u00a0%"
    assert summary["Середня оцінка"] == "—"
    page = response.content.decode()
    assert "<dd>3 заяви</dd>" in page and "кількість заяв</span></dd>" not in page
    volume = response.context["charts"]["volume"]
    assert volume["integers"] is True and volume["amount"]["many"] == "%(count)s заяв"
