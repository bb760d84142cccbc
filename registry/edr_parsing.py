"""The state register's open-data XML, parsed into rows for `EdrRecord` (see `registry.edr`).

Standard library only, and no Django: large imports run `records_parse` in worker processes that
import just this module, so they start in a fraction of a second and take little memory.

Both published formats are read by tag name, never by position (edr-open-data.md §2–§3):

* Format A, `<DATA>/<RECORD>`: legal entities (NAME, SHORT_NAME, EDRPOU, ADDRESS, BOSS,
  KVED "86.10 Назва", STAN, …) and sole proprietors (FIO, ADDRESS, KVED, STAN);
* Format B, `<DATA>/<SUBJECT RECORD="n">`: legal entities (NAME, SHORT_NAME, OPF, EDRPOU, ADDRESS,
  STAN, ACTIVITY_KINDS, SIGNERS "ПІБ - керівник", …) and sole proprietors (NAME, ADDRESS,
  ACTIVITY_KINDS, REGISTRATION, STAN optional).

A record is a legal entity when it has an EDRPOU (or OPF, SHORT_NAME, BOSS, SIGNERS, FOUNDERS), a sole
proprietor when it has an FIO or none of those, whatever the file is called.
"""

import hashlib
import json
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - no DOCTYPE ever reaches the parser, see _records
from collections.abc import Iterator

LEGAL_ENTITY, SOLE_PROPRIETOR = "UO", "FOP"  # EdrRecord.Kind
REGISTERED = "зареєстровано"
TERMINATED = "припинено"
NAME_KEY_LENGTH = 255  # EdrRecord.name_key.max_length
# The columns of a row, in order (imported_at is added when it is written).
COLUMNS = (
    "record_key",
    "kind",
    "code",
    "name",
    "short_name",
    "name_key",
    "legal_form",
    "address",
    "state",
    "is_registered",
    "heads",
    "kveds",
    "content_hash",
)
# A record start tag: its name is the file's record tag.
RECORD_START = re.compile(rb"<(RECORD|SUBJECT)[\s>/]")

# A parsed record: (record_key, kind, content_hash, payload). The payload is the row as a line of
# COPY text when a `copy_stamp` (imported_at) is given, for PostgreSQL: made here, the writing
# process only passes it on. Otherwise it is the tuple of the COLUMNS' values.
Row = tuple[str, str, str, bytes | tuple]

_HASH = COLUMNS.index("content_hash")
_REGISTERED = COLUMNS.index("is_registered")
_SHORT_FIELD_LENGTH = 255  # legal_form, state
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 13})  # never part of a cp1251 or UTF-8 character
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
# Parts of a record the portal never reads, cut before parsing: they are most of its bytes and
# elements, and building elements is most of the time. (`[^<]*` runs in one C loop.)
_UNREAD = re.compile(
    rb"<(FOUNDERS|BENEFICIARIES|EXCHANGE_DATA|BRANCHES|EXECUTIVE_POWER|PREDECESSORS|ASSIGNEES"
    rb"|TERMINATION_STARTED_INFO|BANKRUPTCY_READJUSTMENT_INFO|FOUNDING_DOCUMENT_NUM|AUTHORIZED_CAPITAL"
    rb"|STATUTE|MANAGING_PAPER|TERMINATION_CANCEL_INFO|CONTACTS|VP_DATES|CURRENT_AUTHORITY|ESTATE_MANAGER"
    rb"|SUPERIOR_MANAGEMENT)>[^<]*(?:<(?!/\1>)[^<]*)*</\1>"
)
_ROLE_SUFFIX = re.compile(r"[-–—]\s*(?:керівник|підписант)\b", re.IGNORECASE)
_KVED_CODE = re.compile(r"\A\d{2}(?:\.\d{1,2})?\Z")
_LEGAL_ENTITY_TAGS = ("EDRPOU", "OPF", "SHORT_NAME", "BOSS", "SIGNERS", "FOUNDERS")
_JSON_SPECIAL = re.compile(r'["\\\x00-\x1f]')

# --- Names ------------------------------------------------------------------------------------------

_NAME_VARIANTS = {
    **dict.fromkeys("\u02bc\u2019\u2018`\u00b4\u02b9\u2032", "'"),  # apostrophes
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens and dashes
    **dict.fromkeys("«»“”„‟″", '"'),  # quotes in legal entities' names
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),  # invisible: soft hyphen, zero widths
}
_NAME_TRANSLATION = str.maketrans(_NAME_VARIANTS)
_NAME_VARIANT = re.compile("[" + "".join(_NAME_VARIANTS) + "]")  # translate is slow; most names need none
_SPACED_HYPHEN = re.compile(r" ?- ?")


def name_key(value: str) -> str:
    """A name normalised for comparison: upper case, one apostrophe, one hyphen, single spaces.

    Letters are never equated with other letters (Г is not Ґ, И is not І).
    """
    # NFC before and after: upper() may decompose (ΐ), and dropping an invisible character may leave
    # a letter and its combining mark side by side.
    text = unicodedata.normalize("NFC", value).upper()
    if _NAME_VARIANT.search(text):
        text = text.translate(_NAME_TRANSLATION)
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return _SPACED_HYPHEN.sub("-", text) if "-" in text else text


# --- Records ----------------------------------------------------------------------------------------


def records_parse(prolog: bytes, opener: bytes, block: bytes, copy_stamp: str | None) -> list[Row | str]:
    """Per record of a block of whole records, its Row or the reason it is skipped.

    `prolog` declares the file's encoding; `opener` is its record start tag (b"<SUBJECT").
    """
    results = []
    for element, error in _records(prolog, opener, block):
        values = _values(element) if element is not None else f"malformed XML ({error})."
        results.append(values if isinstance(values, str) else _row(values, copy_stamp))
    return results


def xml_parse(prolog: bytes, block: bytes) -> ET.Element:
    """The block parsed under the prolog and a root of our own."""
    parser = ET.XMLParser()  # noqa: S314 - see _records
    parser.feed(prolog)
    parser.feed(b"<DATA>")
    parser.feed(block)
    parser.feed(b"</DATA>")
    return parser.close()


def _records(prolog: bytes, opener: bytes, block: bytes) -> Iterator[tuple[ET.Element | None, str]]:
    """(element, "") per record of the block, or (None, error) for a record that is not XML.

    The block is cleaned (see _clean) and parsed whole; if that fails, record by record, so a broken
    record costs only itself. Blocks are parsed under our own prolog and root, never the file's: no
    DOCTYPE reaches expat, so a dump can declare no entities (no expansion bombs, no external files).
    """
    lean = _UNREAD.sub(b"", block)
    if lean.count(opener) == block.count(opener):  # else a cut crossed the end of a broken record
        try:
            root = xml_parse(prolog, _clean(lean))
        except ET.ParseError:
            pass
        else:
            for element in root:
                if element.tag in ("RECORD", "SUBJECT"):
                    yield element, ""
                element.clear()
            return
    starts = [match.start() for match in RECORD_START.finditer(block) if match[0].startswith(opener)]
    for begin, end in zip(starts, [*starts[1:], len(block)], strict=True):
        try:
            root = xml_parse(prolog, _clean(_UNREAD.sub(b"", block[begin:end])))
        except ET.ParseError as error:
            yield None, str(error).split(":")[0]
            continue
        for element in root:
            if element.tag in ("RECORD", "SUBJECT"):
                yield element, ""


def _clean(block: bytes) -> bytes:
    """Drop the control characters, raw or as `&#N;`, that XML forbids and real dumps contain."""
    block = block.translate(None, _CONTROL_BYTES)
    if b"&#" in block:
        block = _CHAR_REF.sub(_legal_reference, block)
    return block


def _legal_reference(match: re.Match) -> bytes:
    point = int(match[1], 16) if match[1] else int(match[2])
    allowed = point in (9, 10, 13) or 0x20 <= point <= 0xD7FF or 0xE000 <= point <= 0xFFFD
    return match[0] if allowed or 0x10000 <= point <= 0x10FFFF else b""


def _values(element: ET.Element) -> tuple | str:
    """The COLUMNS' values of one record, or the reason it is skipped.

    A legal entity's EDRPOU is taken as it is (its format is checked by the importer).
    """
    text = element.findtext
    address = _squeeze(text("ADDRESS"))
    kveds = [code for code in map(_kved, element.findall("KVED")) if code]
    primary = []
    for activity in _children(element, "ACTIVITY_KINDS", "ACTIVITY_KIND"):
        code = activity.findtext("CODE", "").strip()
        if _KVED_CODE.match(code) and code not in kveds and code not in primary:
            (primary if activity.findtext("PRIMARY", "").strip() == "так" else kveds).append(code)
    kveds[:0] = primary
    person, state = text("FIO"), text("STAN")
    if person is None and any(element.find(tag) is not None for tag in _LEGAL_ENTITY_TAGS):
        kind, code = LEGAL_ENTITY, text("EDRPOU", "").strip()
        name, key = _squeeze(text("NAME")), code
        short_name, legal_form = _squeeze(text("SHORT_NAME")), _squeeze(text("OPF"))[:_SHORT_FIELD_LENGTH]
        heads = [_squeeze(boss.text) for boss in element.findall("BOSS")]
        for signer in _children(element, "SIGNERS", "SIGNER"):
            entry = _squeeze(signer.text)  # "ПІБ - керівник", "ПІБ - підписант, обмеження …"
            match = _ROLE_SUFFIX.search(entry)
            heads.append(entry[: match.start()].rstrip() if match else entry)
        heads = list(dict.fromkeys(head for head in heads if head))
    else:
        kind, code, short_name, legal_form = SOLE_PROPRIETOR, "", "", ""
        name = _squeeze(person if person is not None else text("NAME"))
        if state is None:  # the FOP FULL schema has no STAN: registered unless terminated
            state = TERMINATED if _squeeze(text("TERMINATED_INFO")) else REGISTERED
        heads = [name]
        # A registration (date and record number) identifies the FOP even after a move; old dumps
        # have none, so the address stands in.
        key_source = f"{name_key(name)}\x1f{_squeeze(text('REGISTRATION')) or name_key(address)}"
        key = "FOP-" + hashlib.sha256(key_source.encode()).hexdigest()[:60]
    if not name:
        return "a record without a name."
    state = _squeeze(state)[:_SHORT_FIELD_LENGTH]  # a legal entity without one is not registered
    heads_json, kveds_json = _json_list(heads), _json_list(kveds)
    content = "\x1f".join((kind, code, name, short_name, legal_form, address, state, heads_json, kveds_json))
    return (
        key,
        kind,
        code,
        name,
        short_name,
        name_key(name)[:NAME_KEY_LENGTH],
        legal_form,
        address,
        state,
        state.lower() == REGISTERED,
        heads_json,
        kveds_json,
        hashlib.sha256(content.encode()).hexdigest(),
    )


def _row(values: tuple, copy_stamp: str | None) -> Row:
    if copy_stamp is None:
        return values[0], values[1], values[_HASH], values
    registered = "t" if values[_REGISTERED] else "f"
    fields = (*values[:_REGISTERED], registered, *values[_REGISTERED + 1 :], copy_stamp)
    return values[0], values[1], values[_HASH], _copy_line(fields)


def _copy_line(fields: tuple[str, ...]) -> bytes:
    """The fields as a line of COPY text. The register's fields are squeezed or validated, so at most
    a backslash needs escaping; anything else takes the slow way."""
    text = "\t".join(fields)
    if "\n" in text or "\r" in text or text.count("\t") != len(fields) - 1:
        text = "\t".join(
            field.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
            for field in fields
        )
    elif "\\" in text:
        text = text.replace("\\", "\\\\")
    return (text + "\n").encode()


def _json_list(items: list[str]) -> str:
    """json.dumps(items, ensure_ascii=False), without its cost for the plain strings of the register."""
    if _JSON_SPECIAL.search("".join(items)):
        return json.dumps(items, ensure_ascii=False)
    return '["' + '", "'.join(items) + '"]' if items else "[]"


def _children(element: ET.Element, parent: str, tag: str) -> list[ET.Element]:
    """element/parent/tag without ElementPath (findall with a plain tag stays in C)."""
    found = element.find(parent)
    return found.findall(tag) if found is not None else []


def _squeeze(value: str | None) -> str:
    """The text with each run of whitespace (line breaks in the dump too) made one space."""
    return " ".join(value.split()) if value else ""


def _kved(element: ET.Element) -> str:
    """The code of a Format A KVED, "86.10 Діяльність лікарняних закладів" → "86.10"."""
    code = (element.text or "").strip().partition(" ")[0]
    return code if _KVED_CODE.match(code) else ""
