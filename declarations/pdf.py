"""The declaration form as a PDF: what the patient reads and signs on paper (ehealth-api.md §4.3, 7).

The PDF is laid out from the request's printed form (`printout_content`, made from the request's data by
`services.printout_render` and part of what the doctor signs), so the paper says exactly what the
page and the signature say: its headings become headings, its `dt`/`dd` pairs and table rows become
two-column tables, its paragraphs paragraphs, on A4.

fpdf2 (pure Python) writes it; the Cyrillic text is set in DejaVu Sans, bundled in static/fonts/ (its
licence beside it) and embedded as a subset, so the PDF reads the same on any machine, without system
fonts.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .models import DeclarationRequest

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
FONT_FAMILY = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
EMPTY = "—"

LINE_HEIGHT = 5.5  # mm, for 10 pt text
LABEL_WIDTH = 62  # mm: the tables' first column; the value takes the rest of the line
_SPACES_RE = re.compile(r"[ \t\r\n\f\v]+")
_LINE_BREAK = "\x00"  # a <br> in the text being read


# --- The form's blocks, read from its HTML ------------------------------------------------------------


@dataclass
class Block:
    """One piece of the form: "title" (the form's name and the lines under it, centred), "heading",
    "paragraph", "signature" (a line of the signatures' footer) or "rows" (label and value pairs)."""

    kind: str
    text: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)


class _FormReader(HTMLParser):
    """The printed form's HTML as blocks. It knows the few elements the form is made of; any other
    element only carries text."""

    HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
    TEXT_ENDS = HEADINGS | {"p", "li", "dt", "dd", "th", "td", "caption"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._open: list[str] = []
        self._text: list[str] = []
        self._label: str | None = None
        self._cells: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self._text.append(_LINE_BREAK)
            return
        if tag in self.TEXT_ENDS:
            self._text = []
        if tag == "tr":
            self._cells = []
        self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self._text.append(_LINE_BREAK)

    def handle_data(self, data):
        self._text.append(data)

    def handle_endtag(self, tag):
        if tag not in self._open:
            return
        while self._open and self._open.pop() != tag:
            pass
        if tag not in self.TEXT_ENDS and tag != "tr":
            return
        text = self._take_text()
        in_header, in_footer = "header" in self._open, "footer" in self._open
        if tag in ("h1", "h2") or (tag in self.HEADINGS and in_header):
            self.blocks.append(Block("title", text))
        elif tag in self.HEADINGS:
            self.blocks.append(Block("heading", text))
        elif tag == "p" and in_header:
            self.blocks.append(Block("title", text))
        elif tag == "p" and in_footer:
            self.blocks.append(Block("signature", text))
        elif tag == "p" or tag == "caption":
            self.blocks.append(Block("paragraph", text))
        elif tag == "li":
            self.blocks.append(Block("paragraph", f"• {text}"))
        elif tag == "dt":
            self._label = text
        elif tag == "dd":
            self._row(self._label or "", text)
            self._label = None
        elif tag in ("th", "td"):
            self._cells.append(text)
        elif tag == "tr" and self._cells:
            self._row(self._cells[0], " ".join(self._cells[1:]))

    def _take_text(self) -> str:
        lines = "".join(self._text).split(
            _LINE_BREAK
        )  # only <br> breaks a line; the source's newlines are spaces
        self._text = []
        return "\n".join(filter(None, (_SPACES_RE.sub(" ", line).strip() for line in lines)))

    def _row(self, label: str, value: str) -> None:
        if not self.blocks or self.blocks[-1].kind != "rows":
            self.blocks.append(Block("rows"))
        self.blocks[-1].rows.append((label, value))


def form_blocks(printout_content: str) -> list[Block]:
    reader = _FormReader()
    reader.feed(printout_content or "")
    reader.close()
    return [block for block in reader.blocks if block.text or block.rows]


# --- The PDF ---------------------------------------------------------------------------------------


class _FormPdf(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def declaration_form_pdf(declaration_request: DeclarationRequest) -> bytes:
    """The request's declaration form as PDF bytes (A4, DejaVu Sans embedded)."""
    with translation.override(settings.LANGUAGE_CODE):  # the form itself is always in Ukrainian
        number_line = _("Declaration No. %(number)s") % {"number": declaration_request.declaration_number}
        missing = _("This request no longer has a declaration form: its data were removed when it expired.")
    pdf = _FormPdf(orientation="P", unit="mm", format="A4")
    pdf.footer_text = number_line
    for style, filename in FONT_FILES.items():
        pdf.add_font(FONT_FAMILY, style, FONT_DIR / filename)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_lang(settings.LANGUAGE_CODE)
    pdf.set_title(number_line)
    pdf.set_creator("eHealth portal")
    pdf.set_creation_date(declaration_request.created_at)
    pdf.add_page()
    blocks = form_blocks(declaration_request.printout_content) or [Block("paragraph", missing)]
    first_title = True
    for block in blocks:
        if block.kind == "title":
            _title(pdf, block.text, main=first_title)
            first_title = False
        elif block.kind == "heading":
            _heading(pdf, block.text)
        elif block.kind == "rows":
            _rows(pdf, block.rows)
        elif block.kind == "signature":
            _signature(pdf, block.text)
        else:
            _paragraph(pdf, block.text)
    return bytes(pdf.output())


def _title(pdf: FPDF, text: str, *, main: bool) -> None:
    pdf.set_font(FONT_FAMILY, "B" if main else "", 14 if main else 11)
    pdf.multi_cell(0, 7 if main else 6, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2 if main else 0.5)


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(LINE_HEIGHT * 4):  # a heading is never left alone at the foot of a page
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "B", 11)
    pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rows(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    pdf.set_font(FONT_FAMILY, "", 10)
    with pdf.table(
        col_widths=(LABEL_WIDTH, pdf.epw - LABEL_WIDTH),
        first_row_as_headings=False,
        line_height=LINE_HEIGHT,
        text_align=("LEFT", "LEFT"),
        padding=1.2,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value or EMPTY)
    pdf.ln(1)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.multi_cell(0, LINE_HEIGHT, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)


def _signature(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(12):
        pdf.add_page()
    pdf.set_font(FONT_FAMILY, "", 10)
    pdf.ln(3)
    pdf.multi_cell(0, LINE_HEIGHT, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
