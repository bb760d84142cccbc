"""The declaration form as PDF (declarations.pdf, `/cabinet/declaration-requests/<id>/form.pdf`): a real PDF
with the Cyrillic text of the printed form, set in the bundled DejaVu Sans, embedded.

The text is read back without another PDF library: fpdf2 sets text in an embedded TrueType subset (Type0,
Identity-H), two bytes a glyph in the content streams, and the font's ToUnicode CMap maps them back to
Unicode; `pdf_text` reads exactly that much.
"""

import re
import zlib

import pytest
from django.urls import reverse

from declarations import services
from declarations.models import DeclarationRequest
from declarations.pdf import FONT_DIR, FONT_FILES, declaration_form_pdf, form_blocks
from tests.declaration_data import CONFIDANT_PHONE, child
from tests.declarations.conftest import patient_register, phone_verified

pytestmark = pytest.mark.django_db


_OBJECT_RE = re.compile(rb"(\d+) 0 obj\s*<<((?:(?!endobj).)*?)>>\s*stream\r?\n", re.S)
_LENGTH_RE = re.compile(rb"/Length (\d+)")
_TO_UNICODE_RE = re.compile(rb"(\d+) 0 obj\s*<<(?:(?!endobj).)*?/ToUnicode (\d+) 0 R", re.S)
_FONT_RESOURCE_RE = re.compile(rb"/(F\d+) (\d+) 0 R")
_BFCHAR_RE = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE_RE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_HEX_RE = re.compile(rb"<([0-9A-Fa-f]+)>")
_CONTENT_TOKEN_RE = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|(\()|\bET\b")


def pdf_streams(pdf: bytes) -> dict[int, bytes]:
    """Every stream of the file by its object number (Flate-decoded)."""
    streams = {}
    for match in _OBJECT_RE.finditer(pdf):
        header = match.group(2)
        length = _LENGTH_RE.search(header)
        if length is None:
            continue
        data = pdf[match.end() : match.end() + int(length.group(1))]
        streams[int(match.group(1))] = zlib.decompress(data) if b"/FlateDecode" in header else data
    return streams


def _cmap(stream: bytes) -> dict[bytes, str]:
    mapping: dict[bytes, str] = {}
    for block in _BFCHAR_RE.findall(stream):
        codes = _HEX_RE.findall(block)
        for code, text in zip(codes[::2], codes[1::2], strict=False):
            mapping[bytes.fromhex(code.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in _BFRANGE_RE.findall(stream):
        codes = _HEX_RE.findall(block)
        for low, high, first in zip(codes[::3], codes[1::3], codes[2::3], strict=False):
            start, end, target = int(low, 16), int(high, 16), int(first, 16)
            for offset in range(end - start + 1):
                mapping[(start + offset).to_bytes(2, "big")] = chr(target + offset)
    return mapping


def _literal_string(content: bytes, index: int) -> tuple[bytes, int]:
    """The (…) string opening at `index` with PDF's backslash escapes undone, and the index after it."""
    depth, index, out = 1, index + 1, bytearray()
    while True:
        char = content[index]
        if char == 0x5C:  # a backslash
            following = content[index + 1]
            if 0x30 <= following <= 0x37:  # an octal code
                digits = re.match(rb"[0-7]{1,3}", content[index + 1 : index + 4]).group()
                out.append(int(digits, 8))
                index += 1 + len(digits)
                continue
            escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
            out += escapes.get(following, bytes([following]))
            index += 2
            continue
        depth += {0x28: 1, 0x29: -1}.get(char, 0)
        if not depth:
            return bytes(out), index + 1
        out.append(char)
        index += 1


def pdf_text(pdf: bytes) -> str:
    """The text the PDF shows, one line per text object (BT … ET), each string read with its font's CMap."""
    streams = pdf_streams(pdf)
    cmap_of_font = {int(font): _cmap(streams[int(cmap)]) for font, cmap in _TO_UNICODE_RE.findall(pdf)}
    cmap_of_name = {name: cmap_of_font.get(int(font), {}) for name, font in _FONT_RESOURCE_RE.findall(pdf)}
    # (names and numbers as bytes: looked up by the bytes of the content stream's Tf)
    lines, line, cmap = [], [], {}
    for stream in streams.values():
        if b"Tj" not in stream and b"TJ" not in stream:
            continue
        index = 0
        while match := _CONTENT_TOKEN_RE.search(stream, index):
            index = match.end()
            if match.group(1):
                cmap = cmap_of_name.get(match.group(1), {})
            elif match.group(2):
                glyphs, index = _literal_string(stream, match.start())
                line.append("".join(cmap.get(glyphs[i : i + 2], "") for i in range(0, len(glyphs) - 1, 2)))
            else:
                lines.append("".join(line))
                line = []
    return "\n".join(line for line in lines if line)


# --- Tests ---------------------------------------------------------------------------------------------


@pytest.fixture
def declaration_request(clinic, patient) -> DeclarationRequest:
    return services.declaration_request_create_for_person(
        legal_entity=clinic.legal_entity,
        actor=clinic.receptionist,
        person=patient,
        employee=clinic.family_doctor,
        division=clinic.division,
    )


def test_the_pdf_page_is_a_pdf_named_by_the_number_and_not_cached(client, clinic, declaration_request):
    client.force_login(clinic.receptionist)

    response = client.get(reverse("declarations:request-form-pdf", args=[declaration_request.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"declaration-{declaration_request.declaration_number}.pdf" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")


def test_the_pdf_has_the_forms_cyrillic_text(clinic, declaration_request):
    text = pdf_text(declaration_form_pdf(declaration_request))

    assert "Іваненко Петро Миколайович" in text  # the patient
    assert "Шевченко Тарас Олександрович" in text  # the doctor
    assert declaration_request.declaration_number in text
    assert clinic.division.name in text
    assert "вул. Хрещатик, 15" in text  # the residence address, as on the printed form
    assert "Квітка2024" not in text  # the secret word is never printed


def test_the_bundled_font_is_embedded(declaration_request):
    pdf = declaration_form_pdf(declaration_request)

    fonts = set(re.findall(rb"/BaseFont /([A-Z]{6}\+[A-Za-z-]+)", pdf))
    assert fonts and all(b"DejaVuSans" in font for font in fonts)  # subsets of DejaVu Sans, nothing else
    assert b"/FontFile2" in pdf  # the TrueType program itself is in the file
    assert all((FONT_DIR / name).is_file() for name in FONT_FILES.values())
    assert (FONT_DIR / "LICENSE-DejaVu.txt").is_file()


def test_a_childs_form_names_the_confidant_person(clinic, reference_data):
    phone_verified(CONFIDANT_PHONE)
    patient = patient_register(child(age=7))
    declaration_request = services.declaration_request_create_for_person(
        legal_entity=clinic.legal_entity,
        actor=clinic.receptionist,
        person=patient,
        employee=clinic.paediatrician,
        division=clinic.division,
    )

    text = pdf_text(declaration_form_pdf(declaration_request))

    assert "Іваненко Марійка Петрівна" in text
    assert "Іваненко Ірина Олегівна" in text


def test_a_request_whose_form_was_removed_still_gives_a_readable_pdf(declaration_request):
    DeclarationRequest.objects.filter(pk=declaration_request.pk).update(printout_content="")
    declaration_request.refresh_from_db()

    pdf = declaration_form_pdf(declaration_request)

    assert pdf.startswith(b"%PDF-")
    assert declaration_request.declaration_number in pdf_text(pdf)


def test_form_blocks_read_headings_rows_and_paragraphs_of_either_markup():
    html = """
    <article><header><h2>Декларація</h2><p>№ 0001-AAAA-BBBB</p></header>
    <section><h3>1. Пацієнт</h3><dl><div><dt>Прізвище</dt><dd>Іваненко &amp; Ко</dd></div></dl></section>
    <section><h3>Лікар</h3><table><tr><th>Ім’я</th><td>Тарас<br>Шевченко</td></tr></table></section>
    <p>Згода   на
       обробку</p><footer><p>Пацієнт: ____</p></footer></article>
    """

    blocks = [(block.kind, block.text or block.rows) for block in form_blocks(html)]

    assert blocks == [
        ("title", "Декларація"),
        ("title", "№ 0001-AAAA-BBBB"),
        ("heading", "1. Пацієнт"),
        ("rows", [("Прізвище", "Іваненко & Ко")]),
        ("heading", "Лікар"),
        ("rows", [("Ім’я", "Тарас\nШевченко")]),
        ("paragraph", "Згода на обробку"),
        ("signature", "Пацієнт: ____"),
    ]
