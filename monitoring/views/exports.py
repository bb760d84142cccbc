"""The dashboard's figures as files.

CSV: RFC 4180 with dot decimals, for scripts (a Ukrainian Excel, whose list separator is ";", opens it
in one column). XLSX: for spreadsheets — the headers in the reader's language, numbers as numbers with
their decimals, shares as percentages, days and months as dates. In both, text that a spreadsheet could
run as a formula is defused the same way (`spreadsheet_text`).
"""

import csv
import datetime
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..selectors import GROUP_BY_DAY, GROUP_BY_MONTH, PERIOD_GROUPINGS, QualityFigures, QualityRow
from .columns import Column

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMATS = {GROUP_BY_DAY: "dd.mm.yyyy", GROUP_BY_MONTH: "mm.yyyy"}  # a period grouping's dates
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading =, +, -, @, tab or CR
    gets a quote in front."""
    return f"'{value}" if value[:1] in FORMULA_LEADS else value


@dataclass(frozen=True)
class Export:
    """What an export shows: the figures, their grouping and the heading of the group column."""

    figures: QualityFigures
    columns: list[Column]
    group_by: str
    group_heading: str
    code_heading: str
    total_label: str

    def lines(self) -> list[tuple[QualityRow, str, str]]:
        """(row, code, label) of each group and of the total, whose code is empty."""
        return [
            *((row, row.key, row.label) for row in self.figures.rows),
            (self.figures.total, "", self.total_label),
        ]


def figures_csv(export: Export) -> str:
    """The CSV text, with a BOM that makes Excel read it as UTF-8 (Cyrillic names)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([export.code_heading, export.group_heading, *(c.heading for c in export.columns)])
    for row, code, label in export.lines():
        values = (column.value(row) for column in export.columns)
        writer.writerow(
            [
                spreadsheet_text(code),
                spreadsheet_text(label),
                *(
                    "" if value is None else f"{value:.{column.decimals}f}"
                    for column, value in zip(export.columns, values, strict=True)
                ),
            ]
        )
    return out.getvalue()


def _xlsx_text(value: str) -> str:
    # Control characters cannot be stored in the file's XML at all.
    return spreadsheet_text(ILLEGAL_CHARACTERS_RE.sub("", value))


def _is_share(column: Column) -> bool:
    return bool(column.unit and column.unit.percent)


def _xlsx_number(column: Column, value):
    """The value as the dashboard rounds it; a share as a fraction of 1, which a percentage format shows."""
    if value is None:
        return None
    return round(value / 100, column.decimals + 2) if _is_share(column) else round(value, column.decimals)


def _number_format(column: Column) -> str:
    decimals = "0" if not column.decimals else "0." + "0" * column.decimals
    return f"{decimals}%" if _is_share(column) else decimals


def figures_xlsx(export: Export, *, title: str) -> bytes:
    """One sheet: a header row, a row a group and the total in bold; a period's groups are dates."""
    by_period = export.group_by in PERIOD_GROUPINGS
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # the longest sheet name Excel opens
    workbook.properties.title = title
    lead = [export.group_heading] if by_period else [export.code_heading, export.group_heading]
    sheet.append([*lead, *(column.heading for column in export.columns)])
    formats = [_number_format(column) for column in export.columns]
    for row, code, label in export.lines():
        if not by_period:
            first = [_xlsx_text(code), _xlsx_text(label)]
        elif code:
            first = [datetime.date.fromisoformat(code)]
        else:
            first = [label]
        sheet.append([*first, *(_xlsx_number(column, column.value(row)) for column in export.columns)])
        cells = sheet[sheet.max_row]
        if by_period and code:
            cells[0].number_format = DATE_FORMATS[export.group_by]
        for cell, number_format in zip(cells[len(first) :], formats, strict=True):
            cell.number_format = number_format
        if not code:
            for cell in cells:
                cell.font = Font(bold=True)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14
    if not by_period:
        sheet.column_dimensions["B"].width = 40  # the CNAP's or service's name
    sheet.freeze_panes = sheet.cell(row=2, column=len(lead) + 1)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
