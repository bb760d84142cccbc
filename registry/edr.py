"""The state register (ЄДР): a local copy of the Ministry of Justice open data, and lookups in it.

Lookups go through `state_register()`, an instance of `settings.STATE_REGISTER_BACKEND`, so an online
register API can replace the local copy. `LocalStateRegister` reads `EdrRecord`, which only
`edr_import` (the `import_edr` command) writes.

The import reads the published XML files, RECORD or SUBJECT format (`registry.edr_parsing`), in the
encoding their prolog declares (windows-1251 as published, or UTF-8), plain or zipped (every `.xml`
member). The stream is cut into blocks of whole records (about 1 MB), which are parsed in order, by
worker processes for large imports; this process checks each record's key and writes. Memory stays
constant. Rows are written in batches keyed by `record_key` (UO: the EDRPOU; FOP: a digest of the name
and registration), only when their `content_hash` changed, so a second import of the same file
writes nothing. Records are never deleted: the register keeps terminated subjects, with their state.
"""

import datetime
import gc
import multiprocessing
import os
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ehealth_portal.validators import validate_edrpou_format

from .edr_parsing import (
    COLUMNS,
    NAME_KEY_LENGTH,
    RECORD_START,
    Row,
    name_key,
    records_parse,
    xml_parse,
)
from .models import EdrRecord

DEMO_REGISTER_FILES = (
    Path(__file__).resolve().parent / "data" / "demo_edr" / "uo.xml",
    Path(__file__).resolve().parent / "data" / "demo_edr" / "fop.xml",
)

# --- Names ------------------------------------------------------------------------------------------


def person_names_match(a: str, b: str) -> bool:
    """Whether two full names are the same, ignoring case, apostrophe and hyphen variants, spacing."""
    key = name_key(a)
    return bool(key) and key == name_key(b)


# --- Lookups --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterSubject:
    kind: str  # "UO" | "FOP"
    code: str  # EDRPOU ("" for FOP open data)
    name: str
    short_name: str
    legal_form: str
    address: str
    state: str
    is_registered: bool  # state == "зареєстровано"
    heads: tuple[str, ...]  # full names of the head(s) and signatories, as in the register
    kveds: tuple[str, ...]


class StateRegister(Protocol):
    def find_by_code(self, code: str) -> list[RegisterSubject]: ...

    def find_sole_proprietors(self, full_name: str) -> list[RegisterSubject]: ...  # registered or not


class LocalStateRegister:
    """The register as last imported by `import_edr`."""

    def find_by_code(self, code: str) -> list[RegisterSubject]:
        """Legal entities with this EDRPOU, registered first (the register may list a code twice)."""
        code = code.strip()
        if not code:
            return []
        records = EdrRecord.objects.filter(kind=EdrRecord.Kind.LEGAL_ENTITY, code=code)
        return [_subject(record) for record in records.order_by("-is_registered", "record_key")]

    def find_sole_proprietors(self, full_name: str) -> list[RegisterSubject]:
        """Sole proprietors with this full name (case, apostrophes and spacing ignored), any state."""
        key = name_key(full_name)[:NAME_KEY_LENGTH]
        if not key:
            return []
        records = EdrRecord.objects.filter(kind=EdrRecord.Kind.SOLE_PROPRIETOR, name_key=key)
        return [_subject(record) for record in records.order_by("-is_registered", "record_key")]


def state_register() -> StateRegister:
    return import_string(settings.STATE_REGISTER_BACKEND)()


def _subject(record: EdrRecord) -> RegisterSubject:
    return RegisterSubject(
        kind=record.kind,
        code=record.code,
        name=record.name,
        short_name=record.short_name,
        legal_form=record.legal_form,
        address=record.address,
        state=record.state,
        is_registered=record.is_registered,
        heads=tuple(record.heads),
        kveds=tuple(record.kveds),
    )


# --- Import ----------------------------------------------------------------------------------------

BATCH_SIZE = 5000
MAX_PROBLEMS = 100  # skip reasons kept for the report; the count goes on
PARALLEL_FROM_BYTES = 64 << 20  # smaller imports parse in-process: starting workers costs more
_BLOCK_SIZE = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"
_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ROOT_END = re.compile(rb"</([A-Za-z_][\w.-]*)>\s*\Z")


@dataclass
class ImportCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)  # the first MAX_PROBLEMS reasons for skipping

    @property
    def records(self) -> int:
        return self.new + self.updated + self.unchanged + self.skipped

    def __str__(self):
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped"


@dataclass
class ImportProgress:
    """What `progress` receives after each batch: counts so far and the place in the current file."""

    counts: ImportCounts
    source: str
    position: int  # bytes read of the current file (of the zip member when zipped)
    size: int


def edr_import(
    paths: list[Path | str],
    *,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportCounts:
    """Import register files (XML or zips of XML) into `EdrRecord`; see the module docstring.

    Every file is checked before anything is written (ValidationError naming the file). Records are
    parsed by `workers` processes (default: one per CPU for inputs from PARALLEL_FROM_BYTES, 0 = in
    this process; started by multiprocessing's "spawn", so the program's main module must guard its
    entry point with `if __name__ == "__main__"`, as manage.py does) and written here in file order.
    Each batch is committed on its own: an interrupted import leaves whole batches behind, and running
    it again completes it. Records without what makes them usable (a legal entity without an 8-digit
    EDRPOU, a record without a name, broken XML) are counted as skipped, with reasons in
    `counts.problems`.
    """
    paths = [Path(path) for path in paths]
    sources = [_sources_check(path) for path in paths]
    if workers is None:
        large = sum(path.stat().st_size for path in paths) >= PARALLEL_FROM_BYTES
        workers = (os.cpu_count() or 1) if large else 0
    importer = _Importer(batch_size=batch_size, progress=progress)
    gc.freeze()  # the collector need not walk everything loaded so far, again and again
    try:
        with _parsing(workers) as parse:
            for path, members in zip(paths, sources, strict=True):
                if members is None:
                    with path.open("rb") as stream:
                        importer.read(path.name, stream, path.stat().st_size, parse)
                else:
                    with zipfile.ZipFile(path) as archive:
                        for member in members:
                            with archive.open(member) as stream:
                                label = f"{path.name}:{member.filename}"
                                importer.read(label, stream, member.file_size, parse)
        importer.flush()
    finally:
        gc.unfreeze()
    return importer.counts


def _sources_check(path: Path) -> list[zipfile.ZipInfo] | None:
    """The XML members of a zip, None for a plain XML file; ValidationError for anything else."""
    if not path.is_file():
        raise ValidationError(f"{path}: no such file.")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = [info for info in archive.infolist() if info.filename.lower().endswith(".xml")]
                for member in members:
                    with archive.open(member) as stream:
                        _encoding(stream.read(1024), f"{path.name}:{member.filename}")
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as error:
            raise ValidationError(f"{path}: cannot read the zip file: {error}") from error
        if not members:
            raise ValidationError(f"{path}: the zip file has no .xml member.")
        return members
    with path.open("rb") as stream:
        _encoding(stream.read(1024), path.name)
    return None


def _encoding(head: bytes, label: str) -> str:
    """The encoding the XML prolog declares (UTF-8 without one); ValidationError if it is not XML."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(
            f"{label}: UTF-16 files are not supported; the register publishes windows-1251."
        )
    head = head.removeprefix(_UTF8_BOM)
    if not head.lstrip().startswith(b"<"):
        raise ValidationError(f"{label}: not an XML file.")
    match = _ENCODING.match(head)
    encoding = match[1].decode("ascii") if match else "utf-8"
    try:
        xml_parse(_prolog(encoding), b"")
    except (SyntaxError, LookupError, ValueError) as error:  # ParseError is a SyntaxError
        raise ValidationError(f"{label}: unsupported encoding {encoding!r}.") from error
    return encoding


def _prolog(encoding: str) -> bytes:
    return f'<?xml version="1.0" encoding="{encoding}"?>'.encode("ascii")


Job = tuple[bytes, bytes, bytes, str | None]  # records_parse's arguments
Parse = Callable[[Iterator[Job]], Iterator[list[Row | str]]]


@contextmanager
def _parsing(workers: int) -> Iterator[Parse]:
    """A function from blocks to their parsed records, in order; with workers, in child processes.

    Workers are fresh interpreters that import only `registry.edr_parsing` (no Django, no database):
    small, and safe whatever this process holds. At most four blocks per worker are in flight, so
    memory stays bounded however large the file.
    """
    if workers < 1:
        yield lambda jobs: (records_parse(*job) for job in jobs)
        return
    # The parsing makes no reference cycles: the workers need no cyclic garbage collector.
    with multiprocessing.get_context("spawn").Pool(workers, initializer=gc.disable) as pool:

        def parse(jobs: Iterator[Job]) -> Iterator[list[Row | str]]:
            pending: deque = deque()
            for job in jobs:
                pending.append(pool.apply_async(records_parse, job))
                if len(pending) >= 4 * workers:  # enough to parse on while this process writes
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

        yield parse


class _Importer:
    def __init__(self, *, batch_size: int, progress: Callable[[ImportProgress], None] | None):
        self.counts = ImportCounts()
        self.started = timezone.now()  # every row written gets it as imported_at
        self.copy_stamp = self.started.isoformat() if connection.vendor == "postgresql" else None
        self.batch: dict[str, Row] = {}
        self.batch_size = batch_size
        self.progress = progress
        self.place = ImportProgress(self.counts, "", 0, 0)
        # EDRPOUs seen in this import (a bit per possible code, 12.5 MB): a code the register lists
        # for different records gets the keys CODE, CODE#2, … in file order, so all of them are kept.
        self.codes_seen = bytearray(10**8 // 8)
        self.code_repeats: dict[str, int] = {}

    def read(self, label: str, stream: IO[bytes], size: int, parse: Parse) -> None:
        self.place.source, self.place.position, self.place.size = label, 0, size
        number = 0
        for results in parse(self._blocks(stream, label)):
            for result in results:
                number += 1
                if isinstance(result, str):
                    self.skip(f"{label}, record {number}: {result}")
                else:
                    self.add(result, label, number)

    def _blocks(self, stream: IO[bytes], label: str) -> Iterator[Job]:
        """(prolog, record start tag, whole records, copy stamp), about _BLOCK_SIZE at a time."""
        buffer = stream.read(_BLOCK_SIZE).removeprefix(_UTF8_BOM)
        prolog = _prolog(_encoding(buffer[:1024], label))
        self.place.position = len(buffer)
        start = RECORD_START.search(buffer)
        while start is None:
            chunk = stream.read(_BLOCK_SIZE)
            if not chunk:
                return
            self.place.position += len(chunk)
            buffer = buffer[-16:] + chunk
            start = RECORD_START.search(buffer)
        opener = b"<" + start[1]
        buffer = buffer[start.start() :]
        while chunk := stream.read(_BLOCK_SIZE):
            self.place.position += len(chunk)
            buffer += chunk
            cut = _last_record_start(buffer, opener)
            if cut > 0:
                yield prolog, opener, buffer[:cut], self.copy_stamp
                buffer = buffer[cut:]
        end = _ROOT_END.search(buffer)
        if end and end[1] != start[1]:
            buffer = buffer[: end.start()]
        if buffer.strip():
            yield prolog, opener, buffer, self.copy_stamp

    def add(self, row: Row, label: str, number: int) -> None:
        key, kind, digest, payload = row
        if kind == EdrRecord.Kind.LEGAL_ENTITY:
            try:
                validate_edrpou_format(key)
            except ValidationError:
                self.skip(
                    f"{label}, record {number}: a legal entity without a valid 8-digit EDRPOU ({key!r})."
                )
                return
            code = int(key)
            if self.codes_seen[code >> 3] & (1 << (code & 7)):
                key = self._repeated_code_key(key, digest)
                if key is not None:  # the record key is the payload's first field
                    old = row[0]
                    payload = (
                        key.encode() + payload[len(old) :]
                        if isinstance(payload, bytes)
                        else (key, *payload[1:])
                    )
            else:
                self.codes_seen[code >> 3] |= 1 << (code & 7)
        elif key in self.batch:
            key = None
        if key is None:
            self.skip(f"{label}, record {number}: the same record as an earlier one in this import.")
            return
        self.batch[key] = (key, kind, digest, payload)
        if len(self.batch) >= self.batch_size:
            self.flush()

    def _repeated_code_key(self, code: str, digest: str) -> str | None:
        """The key for another record with an EDRPOU seen before (None: the same record again).

        Rare in real dumps (a code listed for a terminated and a registered entity), so the database
        may be asked each time.
        """
        keys = [code, *(f"{code}#{n}" for n in range(2, self.code_repeats.get(code, 1) + 1))]
        if any(key in self.batch and self.batch[key][2] == digest for key in keys):
            return None
        flushed = [key for key in keys if key not in self.batch]
        if EdrRecord.objects.filter(record_key__in=flushed, content_hash=digest).exists():
            return None
        repeat = self.code_repeats[code] = len(keys) + 1
        return f"{code}#{repeat}"

    def skip(self, reason: str) -> None:
        self.counts.skipped += 1
        if len(self.counts.problems) < MAX_PROBLEMS:
            self.counts.problems.append(reason)

    def flush(self) -> None:
        if self.batch:
            with transaction.atomic():
                existing = _existing_digests(list(self.batch))
                new, changed = [], []
                for key, _, digest, payload in self.batch.values():
                    old = existing.get(key)
                    if old is None:
                        new.append(payload)
                    elif old != digest:
                        changed.append(payload)
                self.counts.new += len(new)
                self.counts.updated += len(changed)
                self.counts.unchanged += len(self.batch) - len(new) - len(changed)
                _write(new=new, changed=changed, imported_at=self.started)
            self.batch = {}
        if self.progress:
            self.progress(self.place)


def _last_record_start(buffer: bytes, opener: bytes) -> int:
    """Where the last record starting in the buffer begins (0: none after the first one)."""
    end = len(buffer)
    while (cut := buffer.rfind(opener, 0, end)) > 0:
        if buffer[cut + len(opener) : cut + len(opener) + 1] in (b" ", b">", b"\t", b"\r", b"\n", b"/"):
            return cut
        end = cut
    return 0


# --- Writing batches ----------------------------------------------------------------------------------


def _existing_digests(keys: list[str]) -> dict[str, str]:
    if connection.vendor == "postgresql":  # one text parameter: no keys contain a comma
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(EdrRecord._meta.db_table)
            select = f"SELECT record_key, content_hash FROM {table}"  # noqa: S608
            cursor.execute(f"{select} WHERE record_key = ANY(string_to_array(%s, ','))", [",".join(keys)])
            return dict(cursor.fetchall())
    return dict(EdrRecord.objects.filter(record_key__in=keys).values_list("record_key", "content_hash"))


def _write(*, new: list, changed: list, imported_at: datetime.datetime | None = None) -> None:
    """Insert the new rows and update the changed ones (payloads of Row), in the caller's transaction."""
    if not new and not changed:
        return
    table = connection.ops.quote_name(EdrRecord._meta.db_table)
    columns = ", ".join((*COLUMNS, "imported_at"))
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in (*COLUMNS[1:], "imported_at"))
    # The WHERE leaves a row that a concurrent import has already brought up to date.
    conflict = (
        f"ON CONFLICT (record_key) DO UPDATE SET {updates} "
        f"WHERE {table}.content_hash <> EXCLUDED.content_hash"
    )
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * (len(COLUMNS) + 1))
            stamp = connection.ops.adapt_datetimefield_value(imported_at or timezone.now())
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) {conflict}",  # noqa: S608
                [(*values, stamp) for values in [*new, *changed]],
            )
            return
        # A crash may lose the last batches, which a new run writes again; not waiting for each
        # commit's flush lets the parsing go on meanwhile.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if new:  # COPY straight into the table: the cheapest way in
            try:
                with transaction.atomic(), cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    copy.write(b"".join(new))
            except (IntegrityError, connection.Database.IntegrityError):  # another import was quicker
                changed = [*new, *changed]
        if changed:  # COPY into a temporary table, then one INSERT … ON CONFLICT
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS edr_import_batch (record_key text, kind text, "
                "code text, name text, short_name text, name_key text, legal_form text, address text, "
                "state text, is_registered boolean, heads jsonb, kveds jsonb, content_hash text, "
                "imported_at timestamptz) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(f"COPY edr_import_batch ({columns}) FROM STDIN") as copy:
                copy.write(b"".join(changed))
            insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM edr_import_batch"  # noqa: S608
            cursor.execute(f"{insert} {conflict}")
