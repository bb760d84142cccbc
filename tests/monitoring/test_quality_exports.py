"""The dashboard's XLSX export beside its CSV: the same figures, typed for a spreadsheet, defused alike."""

import datetime
import io

import pytest
from openpyxl import load_workbook

from monitoring.views.exports import XLSX_CONTENT_TYPE
from tests.factories import AdministrativeServiceFactory, CnapFactory, CnapSystemFactory
from tests.monitoring.test_quality_views import (  # noqa: F401  (fixtures)
    CSV,
    DASHBOARD,
    KYIV,
    NOV,
    XLSX,
    appeal,
    bucha,
    operator,
    operator_client,
    read_csv,
)

pytestmark = pytest.mark.django_db


def read_xlsx(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    return load_workbook(io.BytesIO(response.content)).active


def test_xlsx_has_the_csvs_figures_as_numbers_with_their_formats(operator_client, bucha):  # noqa: F811
    appeal(bucha, days=2, loyalty=10)
    appeal(bucha, days=4, loyalty=3, channel="online")
    appeal(bucha, days=5, channel="online")

    response = operator_client.get(XLSX, NOV)

    assert response["Content-Disposition"] == 'attachment; filename="cnap-quality-20261101-20261130.xlsx"'
    sheet = read_xlsx(response)
    header, row, total = (list(line) for line in sheet.iter_rows(min_row=1, max_row=3))
    csv_header, csv_row, csv_total = read_csv(operator_client.get(CSV, NOV))
    assert [cell.value for cell in header] == csv_header  # the same Ukrainian headers
    assert [cell.value for cell in header][:4] == ["Код", "ЦНАП", "Заяви", "особисто, кількість заяв"]
    cells = dict(zip(csv_header, row, strict=True))
    assert (cells["Код"].value, cells["ЦНАП"].value) == ("1001", "ЦНАП Бучі")
    assert (cells["Заяви"].value, cells["Заяви"].number_format) == (3, "0")
    online = cells["Частка онлайн, %"]  # 2 of 3: a fraction shown as a percentage, rounded as the page
    assert (online.value, online.number_format) == (pytest.approx(0.667), "0.0%")
    assert csv_row[csv_header.index("Частка онлайн, %")] == "66.7"
    median = next(cells[name] for name in csv_header if name.startswith("Час розгляду, медіана"))
    assert (median.value, median.number_format) == (pytest.approx(4.0), "0.0")
    assert cells["Середня оцінка, з 5"].value is None  # nothing to compute it from: an empty cell
    assert [cell.value for cell in total][:3] == [None, "Усього", 3]
    assert all(cell.font.bold for cell in total) and not row[0].font.bold
    assert sheet.freeze_panes == "C2"


def test_dashboard_offers_the_xlsx_with_its_filters(operator_client, bucha):  # noqa: F811
    appeal(bucha, channel="online")
    appeal(bucha, channel="offline")

    response = operator_client.get(DASHBOARD, {**NOV, "channel": "online"})

    assert response.context["xlsx_url"].startswith(XLSX) and "channel=online" in response.context["xlsx_url"]
    assert f'href="{response.context["xlsx_url"].replace("&", "&amp;")}"' in response.content.decode()
    sheet = read_xlsx(operator_client.get(response.context["xlsx_url"]))
    assert sheet["C2"].value == 1


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_xlsx_defuses_formulas_in_text_cells_as_the_csv_does(operator_client, lead):  # noqa: F811
    name = f'{lead}HYPERLINK("http://evil.example","x")'
    appeal(CnapSystemFactory(cnap=CnapFactory(code="4004", name=name)))

    sheet = read_xlsx(operator_client.get(XLSX, NOV))

    assert read_csv(operator_client.get(CSV, NOV))[1][1] == f"'{name}"
    assert sheet["B2"].value == f"'{name}".replace("\r", "\n")  # XML reads a carriage return as a newline
    assert sheet["B2"].data_type == "s"
    assert not [cell.coordinate for line in sheet.iter_rows() for cell in line if cell.data_type == "f"]


def test_xlsx_defuses_formulas_in_service_names_and_drops_control_characters(operator_client, bucha):  # noqa: F811
    appeal(bucha, service=AdministrativeServiceFactory(identifier="00999", name="=1+2"))
    appeal(
        bucha, service=AdministrativeServiceFactory(identifier="01000", name="Довідка\x07 про склад сім'ї")
    )

    sheet = read_xlsx(operator_client.get(XLSX, {**NOV, "group_by": "service"}))

    assert [(row[0].value, row[1].value) for row in sheet.iter_rows(min_row=2, max_row=3)] == [
        ("00999", "'=1+2"),
        ("01000", "Довідка про склад сім'ї"),
    ]
    assert sheet["B1"].value == "Послуга"


@pytest.mark.parametrize(
    ("group_by", "number_format", "first"),
    [("day", "dd.mm.yyyy", datetime.date(2026, 11, 2)), ("month", "mm.yyyy", datetime.date(2026, 11, 1))],
)
def test_xlsx_periods_are_dates_without_a_code_column(operator_client, bucha, group_by, number_format, first):  # noqa: F811
    appeal(bucha, day=2)
    appeal(bucha, registered_at=datetime.datetime(2026, 11, 20, 12, 0, tzinfo=KYIV))

    sheet = read_xlsx(operator_client.get(XLSX, {**NOV, "group_by": group_by}))

    assert sheet["A1"].value == {"day": "День", "month": "Місяць"}[group_by]
    assert sheet["B1"].value == "Заяви"
    assert sheet["A2"].value.date() == first
    assert sheet["A2"].number_format == number_format
    assert sheet.cell(row=sheet.max_row, column=1).value == "Усього"
    assert sheet.freeze_panes == "B2"


def test_xlsx_refuses_bad_filters_naming_the_field(operator_client):  # noqa: F811
    response = operator_client.get(XLSX, {"date_from": "2026-11-10", "date_to": "2026-11-01"})
    assert response.status_code == 400
    assert "Початок періоду пізніший за його кінець." in response.content.decode()
