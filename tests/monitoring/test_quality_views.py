"""The operators' quality dashboard, its CSV export and the public regional summary."""

import csv
import datetime
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AdministrativeServiceFactory,
    AppealFactory,
    CnapFactory,
    CnapSystemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KYIV = datetime.timezone(datetime.timedelta(hours=2))  # Kyiv in November (EET)
NOV = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
DASHBOARD, CSV, XLSX, REGIONS = (
    reverse("monitoring:dashboard"),
    reverse("monitoring:dashboard-csv"),
    reverse("monitoring:dashboard-xlsx"),
    reverse("monitoring:regions"),
)


@pytest.fixture
def operator():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_appeal", content_type__app_label="monitoring")
    )
    return user


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def bucha():
    return CnapSystemFactory(cnap=CnapFactory(code="1001", name="ЦНАП Бучі", region="Київська область"))


def appeal(system, *, day=2, days=3, **fields):
    registered = datetime.datetime(2026, 11, day, 10, 0, tzinfo=KYIV)
    decided = registered + datetime.timedelta(days=days)
    defaults = {"system": system, "registered_at": registered, "decided_at": decided, "issued_at": decided}
    return AppealFactory(**{**defaults, **fields})


# --- Access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [DASHBOARD, CSV, XLSX])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("url", [DASHBOARD, CSV, XLSX])
@pytest.mark.parametrize("is_staff", [False, True])
def test_users_who_are_not_operators_are_refused(client, bucha, url, is_staff):
    appeal(bucha)
    client.force_login(UserFactory(is_staff=is_staff))  # staff, but without the permission to read appeals
    response = client.get(url, NOV)
    assert response.status_code == 403
    assert "ЦНАП Бучі" not in response.content.decode()


def test_a_non_staff_user_with_the_permission_is_refused(client, bucha):
    user = UserFactory()
    user.user_permissions.add(
        Permission.objects.get(codename="view_appeal", content_type__app_label="monitoring")
    )
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 403


# --- Dashboard -------------------------------------------------------------------------------------


def test_dashboard_shows_figures_per_cnap_with_the_total(operator_client, bucha):
    lviv = CnapSystemFactory(cnap=CnapFactory(code="2002", name="ЦНАП Львова", region="Львівська область"))
    appeal(bucha, days=2)
    appeal(bucha, days=4, result="refusal", status="refused")
    appeal(lviv, days=6, channel="online")

    response = operator_client.get(DASHBOARD, NOV)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Якість послуг ЦНАП" in page
    assert "1001 ЦНАП Бучі" in page
    assert "2002 ЦНАП Львова" in page
    table = response.context["table"]
    assert [item["cells"][0] for item in table] == ["2", "1"]  # appeals
    assert response.context["total_cells"][0] == "3"
    median = {item["row"].key: item["row"].median_days for item in table}
    assert median == {"1001": pytest.approx(3), "2002": pytest.approx(6)}
    assert "3,0" in page  # Ukrainian decimal comma in the median of Bucha
    assert 'Вчасно<br><span class="hint">%</span>' in page  # a column header with its unit


def test_dashboard_charts_get_their_figures_as_json(operator_client, bucha):
    appeal(bucha, day=2, channel="online")
    appeal(bucha, day=2, channel="offline")
    appeal(bucha, day=3, channel="online", days=5, result="refusal")

    response = operator_client.get(DASHBOARD, {"date_from": "2026-11-01", "date_to": "2026-11-03"})

    page = response.content.decode()
    volume = json.loads(page.split('id="chart-volume" type="application/json">')[1].split("</script>")[0])
    assert volume["labels"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    online = next(series for series in volume["series"] if series["label"] == "онлайн")
    assert online["data"] == [0, 1, 1]
    timeliness = response.context["charts"]["timeliness"]
    assert timeliness["labels"] == ["ЦНАП Бучі"]
    assert [series["data"] for series in timeliness["series"]] == [[100.0], [33.3]]
    assert 'data-quality-chart="chart-processing"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page


def test_group_charts_show_the_largest_groups_and_say_so(operator_client, bucha, monkeypatch):
    monkeypatch.setattr("monitoring.views.quality.CHART_GROUPS", 1)
    lviv = CnapSystemFactory(cnap=CnapFactory(code="2002", name="ЦНАП Львова"))
    appeal(bucha)
    appeal(lviv)
    appeal(lviv)

    response = operator_client.get(DASHBOARD, NOV)

    assert response.context["charts"]["processing"]["labels"] == ["ЦНАП Львова"]
    assert len(response.context["table"]) == 2
    assert "показують 1 групу з найбільшою кількістю заяв" in response.content.decode()


def test_dashboard_groups_by_service_and_filters(operator_client, bucha):
    passport = AppealFactory._meta.model._meta.get_field("service").related_model.objects.create(
        identifier="00056", name="Паспорт громадянина"
    )
    appeal(bucha, service=passport, channel="online")
    appeal(bucha, service=passport, channel="offline")
    appeal(bucha)

    response = operator_client.get(DASHBOARD, {**NOV, "group_by": "service", "channel": "online"})

    rows = [item["row"] for item in response.context["table"]]
    assert [(row.key, row.label, row.appeals) for row in rows] == [("00056", "Паспорт громадянина", 1)]
    assert "Показники за послугами" in response.content.decode()


def test_default_period_is_the_last_30_days(operator_client, bucha):
    now = timezone.now()
    AppealFactory(system=bucha, registered_at=now - datetime.timedelta(hours=1))
    AppealFactory(system=bucha, registered_at=now - datetime.timedelta(days=29))
    AppealFactory(system=bucha, registered_at=now - datetime.timedelta(days=31))

    response = operator_client.get(DASHBOARD)

    assert response.context["figures"].total.appeals == 2
    assert response.context["form"].cleaned_data["date_to"] == timezone.localdate()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-11-10", "date_to": "2026-11-01"}, "Початок періоду пізніший за його кінець."),
        ({"date_from": "2025-01-01", "date_to": "2026-11-01"}, "Період — не довше 366 днів."),
        ({"date_from": "2026-13-01"}, "Введіть коректну дату."),
        ({"cnap": "9999"}, "Зробить коректний вибір"),
        ({"group_by": "person"}, "Зробить коректний вибір"),
    ],
)
def test_bad_filters_are_reported_per_field_and_show_no_figures(operator_client, bucha, params, message):
    appeal(bucha)

    response = operator_client.get(DASHBOARD, params)

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert 'class="error-summary"' in page
    assert "figures" not in response.context
    assert operator_client.get(CSV, params).status_code == 400


def test_failing_systems_are_listed_with_links_to_the_admin(operator_client, bucha):
    failing = CnapSystemFactory(
        cnap=CnapFactory(code="3003", name="ЦНАП Ірпеня"), is_failing=True, consecutive_failures=4
    )

    page = operator_client.get(DASHBOARD).content.decode()

    assert "Системи, що не відповідають" in page
    assert reverse("admin:monitoring_cnapsystem_change", args=[failing.pk]) in page
    assert "3003 ЦНАП Ірпеня" in page
    assert "1001 ЦНАП Бучі" not in page.split("Системи, що не відповідають")[1].split("</section>")[0]


def test_dashboard_query_count_does_not_grow_with_appeals(
    operator_client, bucha, django_assert_max_num_queries
):
    for index in range(40):
        appeal(bucha, day=index % 28 + 1, days=index % 9, loyalty=index % 11)
    with django_assert_max_num_queries(16):
        assert operator_client.get(DASHBOARD, NOV).status_code == 200


# --- CSV -------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_has_every_figure_per_group_with_a_ukrainian_header(operator_client, bucha):
    appeal(bucha, days=2, loyalty=10)
    appeal(bucha, days=4, loyalty=3, channel="online")

    response = operator_client.get(CSV, {**NOV, "channel": ""})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cnap-quality-20261101-20261130.csv"'
    header, row, total = read_csv(response)
    assert header[:4] == ["Код", "ЦНАП", "Заяви", "особисто, кількість заяв"]
    assert "Індекс лояльності, −100…+100" in header
    figures = dict(zip(header, row, strict=True))
    assert figures["Код"] == "1001"
    assert figures["Заяви"] == "2"
    median = next(name for name in header if name.startswith("Час розгляду, медіана, "))  # …, days
    assert figures[median] == "3.0"
    assert figures["Індекс лояльності, −100…+100"] == "0.0"
    assert figures["Частка онлайн, %"] == "50.0"
    assert total[:3] == ["", "Усього", "2"]


def test_csv_keeps_the_filters(operator_client, bucha):
    appeal(bucha, channel="online")
    appeal(bucha, channel="offline")
    response = operator_client.get(DASHBOARD, {**NOV, "channel": "online"})
    assert "channel=online" in response.context["csv_url"]

    header, row, total = read_csv(operator_client.get(response.context["csv_url"]))

    assert row[2] == "1"


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_defuses_formulas_in_text_cells(operator_client, lead):
    name = f'{lead}HYPERLINK("http://evil.example","x")'
    system = CnapSystemFactory(cnap=CnapFactory(code="4004", name=name))
    appeal(system)

    header, row, total = read_csv(operator_client.get(CSV, NOV))

    assert row[1] == f"'{name}"


def test_csv_defuses_formulas_in_service_names(operator_client, bucha):
    service = AdministrativeServiceFactory(identifier="00999", name="=1+2")
    appeal(bucha, service=service)

    header, row, total = read_csv(operator_client.get(CSV, {**NOV, "group_by": "service"}))

    assert (row[0], row[1]) == ("00999", "'=1+2")


def test_dashboard_groups_by_month_with_every_figure(operator_client, bucha):
    appeal(bucha, registered_at=datetime.datetime(2026, 10, 31, 23, 30, tzinfo=KYIV))  # October in Kyiv
    appeal(bucha, registered_at=datetime.datetime(2026, 11, 1, 0, 30, tzinfo=KYIV))
    appeal(bucha, registered_at=datetime.datetime(2026, 11, 20, 12, 0, tzinfo=KYIV))

    response = operator_client.get(
        DASHBOARD, {"date_from": "2026-10-01", "date_to": "2026-11-30", "group_by": "month"}
    )

    assert response.context["figures_title"] == "Показники за місяцями"
    assert [(item["row"].label, item["row"].appeals) for item in response.context["table"]] == [
        ("2026-10", 1),
        ("2026-11", 2),
    ]


# --- Public regional summary -----------------------------------------------------------------------


def test_regional_summary_is_public_and_shows_aggregates_only(client, bucha):
    for _ in range(12):
        appeal(bucha, rating=4, loyalty=10)
    appeal(
        CnapSystemFactory(cnap=CnapFactory(code="2002", name="ЦНАП Львова", region="Львівська область")),
        rating=1,
    )

    response = client.get(REGIONS, NOV)

    page = response.content.decode()
    assert response.status_code == 200
    rows = {item["row"].key: item["cells"] for item in response.context["table"]}
    assert set(rows) == {"Київська область", "Львівська область"}
    assert rows["Київська область"][:2] == ["1", "12"]  # CNAPs reporting, appeals
    assert rows["Київська область"][5:7] == ["4,00", "100,0"]  # mean rating, loyalty index
    assert "ЦНАП Бучі" not in page and "ЦНАП Львова" not in page  # no CNAP, nobody, named
    assert 'data-quality-chart="chart-regions"' in page


def test_regional_summary_hides_satisfaction_of_few_answers(client, bucha):
    for _ in range(9):
        appeal(bucha, rating=1, loyalty=0)

    response = client.get(REGIONS, NOV)

    cells = response.context["table"][0]["cells"]
    assert cells[5:7] == ["—", "—"]
    assert response.context["figures"].rows[0].rating_mean is None
    assert "менше ніж 10 заявників" in response.content.decode()


def test_regional_summary_defaults_to_the_last_full_month(client):
    form = client.get(REGIONS).context["form"]
    first_of_month = timezone.localdate().replace(day=1)
    assert form.cleaned_data["date_to"] == first_of_month - datetime.timedelta(days=1)
    assert form.cleaned_data["date_from"] == (first_of_month - datetime.timedelta(days=1)).replace(day=1)


def test_regional_summary_is_computed_once_per_period_for_a_while(client, bucha, django_assert_num_queries):
    appeal(bucha)
    first = client.get(REGIONS, NOV)
    appeal(bucha)  # arrives with a later pull

    with django_assert_num_queries(0):
        again = client.get(REGIONS, NOV)

    assert again.context["figures"].total.appeals == first.context["figures"].total.appeals == 1
    other_period = client.get(REGIONS, {"date_from": "2026-11-02", "date_to": "2026-11-30"})
    assert other_period.context["figures"].total.appeals == 2


def test_regional_summary_is_rate_limited_per_address(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "monitoring_regions": "2/m/ip"}

    statuses = [client.get(REGIONS).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_regional_summary_reports_a_bad_period(client):
    response = client.get(REGIONS, {"date_from": "2026-11-10", "date_to": "2026-11-01"})
    assert "Початок періоду пізніший за його кінець." in response.content.decode()
    assert "figures" not in response.context
