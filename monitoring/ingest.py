"""Ingesting pulled appeals: validate each record against the §6 contract, upsert the valid ones,
quarantine the rest with their reasons.

One call takes one page of records in one transaction. Validation is hand-written over sets and dicts
(a page of 500 records must take milliseconds, not a form per record); the Register's services are
loaded once per pull run, as its pages name them. Measured in docs/benchmarks.md
(bench/bench_cnap_ingest.py).
"""

import datetime
import functools
import hashlib
import json
import logging
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from .models import AdministrativeService, Appeal, CnapSystem, PullRun, QuarantinedRecord, ServiceVariation

logger = logging.getLogger(__name__)
KYIV = ZoneInfo("Europe/Kyiv")
# RFC 3339 date-time with a required UTC offset ("Z" or ±hh:mm); fromisoformat alone accepts far more.
_rfc3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})").fullmatch
_fromisoformat = datetime.datetime.fromisoformat
_CHANNELS = frozenset(Appeal.Channel.values)
_STATUSES = frozenset(Appeal.Status.values)
_RESULTS = frozenset(Appeal.Result.values)
_APPLICANT_TYPES = frozenset(Appeal.ApplicantType.values)
_ID_MAX = Appeal._meta.get_field("appeal_id").max_length
_VARIATION_MAX = Appeal._meta.get_field("variation_code").max_length
_SERVICE_CODE_MAX = AdministrativeService._meta.get_field("identifier").max_length
_ASC_CODE_MAX_DIGITS = 12
# Dates outside these years are a broken system's, and some would overflow when converted to UTC.
_YEAR_MIN, _YEAR_MAX = 1991, 2100

# The columns ingestion writes, in COPY order; the last two are stamps, not data.
_DATA_FIELDS = (
    "cnap",
    "appeal_id",
    "service",
    "variation_code",
    "system",
    "channel",
    "applicant_type",
    "status",
    "result",
    "registered_at",
    "decided_at",
    "issued_at",
    "deadline_at",
    "deadline_from_register",
    "processing_seconds",
    "source_updated_at",
    "is_test",
    "is_consultation",
    "rating",
    "loyalty",
    "feedback_at",
)
_STAMP_FIELDS = ("first_pulled_at", "pulled_at")
_ATTNAMES = tuple(Appeal._meta.get_field(name).attname for name in _DATA_FIELDS)
_COLUMNS = tuple(Appeal._meta.get_field(name).column for name in (*_DATA_FIELDS, *_STAMP_FIELDS))
_SOURCE_UPDATED = _DATA_FIELDS.index("source_updated_at")


@dataclass
class IngestResult:
    """What one page did, counted by distinct appeal (a page's repeated id counts once)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0

    def __iadd__(self, other: "IngestResult") -> "IngestResult":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        return self


# --- The Register as validation needs it ---------------------------------------------------------------


class _Term(NamedTuple):
    days: int
    working_days: bool


class _Service(NamedTuple):
    is_active: bool
    variations: frozenset[str]  # every variation identifier the Register has for the service
    terms: dict[str, _Term | None]  # active variations only: their legal terms
    default_term: _Term | None  # the only active variation's term, for appeals that name none


class _Register:
    """The Register's services as validation needs them, loaded as the pages name them.

    A run's pages share one: a daily pull of a CNAP names a few dozen services, so a run costs the
    same whatever the size of the Register.
    """

    def __init__(self):
        self.services: dict[str, _Service | None] = {}  # None: not in the Register

    def load(self, codes: set[str]) -> dict[str, _Service | None]:
        missing = [code for code in codes if code not in self.services]
        if missing:
            variations: dict[str, dict[str, tuple[bool, _Term | None]]] = {}
            for service, identifier, days, working, active in ServiceVariation.objects.filter(
                service__identifier__in=missing
            ).values_list(
                "service__identifier", "identifier", "legal_term_days", "legal_term_working_days", "is_active"
            ):
                variations.setdefault(service, {})[identifier] = (
                    active,
                    _Term(days, working) if days is not None else None,
                )
            self.services.update(dict.fromkeys(missing))
            for identifier, is_active in AdministrativeService.objects.filter(
                identifier__in=missing
            ).values_list("identifier", "is_active"):
                own = variations.get(identifier, {})
                terms = {code: term for code, (active, term) in own.items() if active}
                default = next(iter(terms.values())) if len(terms) == 1 else None
                self.services[identifier] = _Service(is_active, frozenset(own), terms, default)
        return self.services


_registers: dict[tuple, _Register] = {}
_registers_lock = threading.Lock()
_REGISTERS_KEPT = 64  # more than the runs one worker process has open at a time


def _register(run: PullRun | None) -> _Register:
    """The run's view of the Register (its pages share it); a fresh one for a call without a run."""
    if run is None or run.pk is None:
        return _Register()
    key = (run.pk, run.created_at)  # created_at too: a test database hands out the same ids again
    with _registers_lock:
        found = _registers.get(key)
        if found is None:
            while len(_registers) >= _REGISTERS_KEPT:
                del _registers[next(iter(_registers))]
            found = _registers[key] = _Register()
    return found


# --- Deadlines ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def deadline_for(registered: datetime.date, days: int, working_days: bool) -> datetime.datetime:
    """The end (in Kyiv) of the last day of a legal term counted from the day after registration.

    Working days skip Saturdays and Sundays only: under martial law public holidays are not days off
    (Labour Code art. 73 is suspended by Law No. 2136-IX), so no holiday calendar applies for now.
    """
    day = registered
    if working_days:
        remaining = days
        while remaining:
            day += datetime.timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
    else:
        day += datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=KYIV)


# --- Validation -----------------------------------------------------------------------------------------


class _Checker:
    """Checks one record at a time, collecting reasons; returns the Appeal row values or None."""

    def __init__(self, *, system: CnapSystem, catalogue: dict[str, _Service | None]):
        self.system = system
        self.cnap_code = system.cnap.code
        self.cnap_number = int(self.cnap_code) if self.cnap_code.isdigit() else None
        self.catalogue = catalogue
        self.reasons: list[dict[str, str]] = []

    def fail(self, path: str, code: str, message: str) -> None:
        self.reasons.append({"path": path, "code": code, "message": message})

    # The helpers take the common case first: a present, valid value costs one test and a return.

    def datetime(self, record: dict, key: str, path: str, required: bool) -> datetime.datetime | None:
        value = record.get(key)
        if value.__class__ is str and _rfc3339(value):
            try:
                parsed = _fromisoformat(value)
            except ValueError:
                pass
            else:
                if _YEAR_MIN <= parsed.year <= _YEAR_MAX:
                    return parsed
                self.fail(path, "out_of_range", f"Expected a date-time from {_YEAR_MIN} to {_YEAR_MAX}.")
                return None
        elif value is None:
            if required:
                self.fail(path, "required", "This field is required.")
            return None
        self.fail(path, "invalid_datetime", "Expected an RFC 3339 date-time with a UTC offset.")
        return None

    def boolean(self, record: dict, key: str) -> bool:
        value = record.get(key)
        if value is True or value is False:
            return value
        if value is not None:
            self.fail(f"$.{key}", "invalid_type", "Expected true or false.")
        return False

    def choice(self, record: dict, key: str, choices: frozenset, required: bool) -> str:
        value = record.get(key)
        if value.__class__ is str and value in choices:
            return value
        if value is None:
            if required:
                self.fail(f"$.{key}", "required", "This field is required.")
            return ""
        self.fail(f"$.{key}", "invalid_choice", f"Expected one of: {', '.join(sorted(choices))}.")
        return ""

    def score(self, feedback: dict, key: str, low: int, high: int) -> int | None:
        value = feedback.get(key)
        if value.__class__ is int and low <= value <= high:  # not isinstance(): bool is an int
            return value
        if value is None:
            return None
        if value.__class__ is int:
            self.fail(f"$.feedback.{key}", "out_of_range", f"Expected a whole number from {low} to {high}.")
        else:
            self.fail(f"$.feedback.{key}", "invalid_type", "Expected a whole number.")
        return None

    def check(self, record: dict) -> tuple | None:
        self.reasons = []
        appeal_id = record.get("id")
        if appeal_id is None:
            self.fail("$.id", "required", "This field is required.")
        elif not isinstance(appeal_id, str) or not appeal_id:
            self.fail("$.id", "invalid_type", "Expected a non-empty string.")
        elif len(appeal_id) > _ID_MAX:
            self.fail("$.id", "too_long", f"Expected at most {_ID_MAX} characters.")
        elif not appeal_id.isprintable():  # NUL, control characters, lone surrogates: not storable
            self.fail("$.id", "invalid_characters", "Expected printable characters only.")

        asc_code = record.get("asc_code")
        if asc_code is None:
            self.fail("$.asc_code", "required", "This field is required.")
        elif type(asc_code) is not int and not (
            isinstance(asc_code, str)
            and asc_code.isascii()
            and asc_code.isdigit()
            and len(asc_code) <= _ASC_CODE_MAX_DIGITS
        ):
            self.fail("$.asc_code", "invalid_type", "Expected a CNAP code (a whole number).")
        elif int(asc_code) != self.cnap_number:
            self.fail("$.asc_code", "wrong_cnap", f"This system reports for CNAP {self.cnap_code}.")

        service_code = record.get("service_code")
        service = None
        if service_code is None:
            self.fail("$.service_code", "required", "This field is required.")
        elif not isinstance(service_code, str):
            self.fail("$.service_code", "invalid_type", "Expected a string (a Register identifier).")
        elif (service := self.catalogue.get(service_code)) is None:
            self.fail("$.service_code", "unknown_service", "No service with this identifier in the Register.")
        elif not service.is_active:
            self.fail("$.service_code", "inactive_service", "The service is switched off in the Register.")
            service = None

        variation_code = record.get("variation_code")
        if variation_code is None:
            variation_code = ""
        elif not isinstance(variation_code, str):
            self.fail("$.variation_code", "invalid_type", "Expected a string (a variation identifier).")
        elif len(variation_code) > _VARIATION_MAX:
            self.fail("$.variation_code", "too_long", f"Expected at most {_VARIATION_MAX} characters.")
        elif variation_code and service is not None and variation_code not in service.variations:
            self.fail(
                "$.variation_code", "unknown_variation", "The service has no variation with this identifier."
            )

        channel = self.choice(record, "channel", _CHANNELS, True)
        status = self.choice(record, "status", _STATUSES, True)
        result = self.choice(record, "result", _RESULTS, False)
        applicant_type = self.choice(record, "applicant_type", _APPLICANT_TYPES, False)

        registered_at = self.datetime(record, "registered_at", "$.registered_at", True)
        decided_at = self.datetime(record, "decided_at", "$.decided_at", False)
        issued_at = self.datetime(record, "issued_at", "$.issued_at", False)
        deadline_at = self.datetime(record, "deadline_at", "$.deadline_at", False)
        updated_at = self.datetime(record, "updated_at", "$.updated_at", True)
        if decided_at is not None and registered_at is not None and decided_at < registered_at:
            self.fail(
                "$.decided_at", "decided_before_registered", "decided_at is earlier than registered_at."
            )
        if issued_at is not None and registered_at is not None and issued_at < registered_at:
            self.fail("$.issued_at", "issued_before_registered", "issued_at is earlier than registered_at.")

        is_test = self.boolean(record, "is_test")
        is_consultation = self.boolean(record, "is_consultation")

        rating = loyalty = feedback_at = None
        feedback = record.get("feedback")
        if isinstance(feedback, dict):
            rating = self.score(feedback, "rating", 1, 5)
            loyalty = self.score(feedback, "loyalty", 0, 10)
            feedback_at = self.datetime(feedback, "submitted_at", "$.feedback.submitted_at", False)
        elif feedback is not None:
            self.fail("$.feedback", "invalid_type", "Expected an object.")

        if self.reasons:
            return None
        deadline_from_register = False
        if deadline_at is None:
            term = service.terms.get(variation_code) if variation_code else service.default_term
            if term is not None:
                deadline_at = deadline_for(
                    registered_at.astimezone(KYIV).date(), term.days, term.working_days
                )
                deadline_from_register = True
        # Processing ends with the decision; a system that sends only the issue time ends it there.
        ended_at = decided_at or issued_at
        processing_seconds = int((ended_at - registered_at).total_seconds()) if ended_at else None
        return (  # in _DATA_FIELDS order
            self.cnap_code,
            appeal_id,
            service_code,
            variation_code,
            self.system.pk,
            channel,
            applicant_type,
            status,
            result,
            registered_at,
            decided_at,
            issued_at,
            deadline_at,
            deadline_from_register,
            processing_seconds,
            updated_at,
            is_test,
            is_consultation,
            rating,
            loyalty,
            feedback_at,
        )


def _record_key(record: Any) -> tuple[str, str]:
    """(quarantine key, appeal id): the appeal id when usable, else a hash of the canonical record."""
    appeal_id = record.get("id") if isinstance(record, dict) else None
    if isinstance(appeal_id, str) and 0 < len(appeal_id) <= _ID_MAX and appeal_id.isprintable():
        return appeal_id, appeal_id
    canonical = json.dumps(_storable(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest(), ""


_STORABLE_DEPTH = 32


def _storable(value: Any, depth: int = 0) -> Any:
    """A received record as JSON both databases keep: jsonb refuses NUL and lone surrogates, JSON has
    no NaN or infinity, and a record nested deeper than anyone needs is cut."""
    if isinstance(value, str):
        if value.isprintable():
            return value
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if depth >= _STORABLE_DEPTH and isinstance(value, dict | list):
        return "…"
    if isinstance(value, dict):
        return {_storable(key, depth + 1): _storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item, depth + 1) for item in value]
    return value


# --- The service ----------------------------------------------------------------------------------------


@transaction.atomic
def appeals_ingest(*, system: CnapSystem, run: PullRun | None, records: list[Any]) -> IngestResult:
    """Store one page of records a system sent: valid ones as appeals, the rest in quarantine.

    Upserts by (CNAP code, appeal id); a repeated id in the page: the last one wins. A stored appeal
    changes only for a newer `updated_at` (or the same one with different values), so re-pulling the
    same data changes nothing. A valid version of an appeal removes its quarantined record.
    """
    # Codes a database can look up; any other is no Register identifier (the record fails as unknown).
    codes = {
        code
        for record in records
        if isinstance(record, dict)
        and isinstance(code := record.get("service_code"), str)
        and len(code) <= _SERVICE_CODE_MAX
        and code.isprintable()
    }
    checker = _Checker(system=system, catalogue=_register(run).load(codes))
    valid: dict[str, tuple] = {}
    invalid: dict[str, tuple[str, Any, list]] = {}  # key -> (appeal id, record, reasons)
    # Records apply in page order: a later version of an id replaces an earlier one of its kind, and a
    # valid version cancels a broken one before it (a broken one after it is quarantined).
    for record in records:
        try:
            row = checker.check(record) if isinstance(record, dict) else None
        # A record no rule foresaw is quarantined, it does not fail the page. Only errors a value can
        # cause: Celery's soft time limit (an Exception too) must still stop the run.
        except (ArithmeticError, LookupError, TypeError, ValueError):
            logger.exception("Unprocessable record from system %s", system.pk)
            row, checker.reasons = None, [_UNPROCESSABLE]
        if row is not None:
            valid[row[1]] = row
            invalid.pop(row[1], None)
            continue
        reasons = checker.reasons if isinstance(record, dict) else [_NOT_AN_OBJECT]
        key, appeal_id = _record_key(record)
        invalid[key] = (appeal_id, record, reasons)

    result = IngestResult(quarantined=len(invalid))
    now = timezone.now()
    if valid:
        rows = list(valid.values())
        # A broken version after the valid one in this page stays quarantined.
        requarantined = [appeal_id for appeal_id in valid if appeal_id in invalid]
        write = _write_postgresql if connection.vendor == "postgresql" else _write_portable
        result.created, result.updated = write(system=system, rows=rows, requarantined=requarantined, now=now)
        result.unchanged = len(rows) - result.created - result.updated
    if invalid:
        _quarantine(system=system, run=run, invalid=invalid, now=now)
    return result


_NOT_AN_OBJECT = {"path": "$", "code": "invalid_type", "message": "Expected a JSON object."}
_UNPROCESSABLE = {"path": "$", "code": "unprocessable", "message": "The record could not be read."}


def _write_postgresql(
    *, system: CnapSystem, rows: list[tuple], requarantined: list[str], now: datetime.datetime
) -> tuple[int, int]:
    """COPY the page into a temporary table, then one INSERT … ON CONFLICT; (created, updated).

    Also drops the system's quarantined records of these appeals (they came back valid).
    """
    table = connection.ops.quote_name(Appeal._meta.db_table)
    quarantine = connection.ops.quote_name(QuarantinedRecord._meta.db_table)
    columns = ", ".join(_COLUMNS)
    data = _COLUMNS[: len(_DATA_FIELDS)]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in (*data, "pulled_at"))
    stored = ", ".join(f"{table}.{column}" for column in data)
    incoming = ", ".join(f"EXCLUDED.{column}" for column in data)
    # Never overwrite a newer version; the same version only when a value differs.
    newer = (
        f"EXCLUDED.source_updated_at > {table}.source_updated_at OR "
        f"(EXCLUDED.source_updated_at = {table}.source_updated_at AND ({stored}) IS DISTINCT FROM ({incoming}))"
    )
    # Binary COPY: psycopg formats dates and numbers in C (text COPY of aware datetimes is 4x slower).
    types = [
        Appeal._meta.get_field(name).db_type(connection).split("(")[0]
        for name in (*_DATA_FIELDS, *_STAMP_FIELDS)
    ]
    with connection.cursor() as cursor:
        # A crash may lose the last pages committed, which the next pull fetches again; meanwhile the
        # pull goes on without waiting for each page's flush to disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # ON COMMIT DELETE ROWS empties it cheaply at commit; the DELETE below serves callers whose
        # transaction goes on (a page must not carry the previous one's rows along).
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS monitoring_ingest_batch ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY monitoring_ingest_batch ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row((*row, now, now))
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM monitoring_ingest_batch "  # noqa: S608
            f"ON CONFLICT (cnap_code, appeal_id) DO UPDATE SET {updates} WHERE {newer} "
            "RETURNING (xmax = 0)"
        )
        inserted = [created for (created,) in cursor.fetchall()]
        cursor.execute(
            f"DELETE FROM {quarantine} q USING monitoring_ingest_batch b "  # noqa: S608
            "WHERE q.system_id = %s AND q.record_key = b.appeal_id AND NOT q.record_key = ANY(%s)",
            [system.pk, requarantined],
        )
        cursor.execute("DELETE FROM monitoring_ingest_batch")
    created = sum(inserted)
    return created, len(inserted) - created


def _write_portable(
    *, system: CnapSystem, rows: list[tuple], requarantined: list[str], now: datetime.datetime
) -> tuple[int, int]:
    """The same decisions made in Python over the stored rows (SQLite in development)."""
    cnap_code = rows[0][0]
    stored = {
        values[1]: values
        for values in Appeal.objects.filter(cnap_id=cnap_code, appeal_id__in=[row[1] for row in rows])
        .order_by()
        .values_list(*_ATTNAMES)
    }
    new, changed = [], []
    for row in rows:
        current = stored.get(row[1])
        if current is None:
            new.append(Appeal(**dict(zip(_ATTNAMES, row, strict=True)), first_pulled_at=now, pulled_at=now))
        elif row[_SOURCE_UPDATED] > current[_SOURCE_UPDATED] or (
            row[_SOURCE_UPDATED] == current[_SOURCE_UPDATED] and row != current
        ):
            changed.append(row)
    Appeal.objects.bulk_create(new)
    for row in changed:  # auto_now would not apply to update(): pulled_at is set explicitly
        Appeal.objects.filter(cnap_id=cnap_code, appeal_id=row[1]).update(
            **dict(zip(_ATTNAMES, row, strict=True)), pulled_at=now
        )
    fixed = [row[1] for row in rows if row[1] not in requarantined]
    QuarantinedRecord.objects.filter(system=system, record_key__in=fixed).delete()
    return len(new), len(changed)


def _quarantine(
    *,
    system: CnapSystem,
    run: PullRun | None,
    invalid: dict[str, tuple[str, Any, list]],
    now: datetime.datetime,
) -> None:
    """Insert each record, or bump the one already kept under its key (one statement per record)."""
    table = connection.ops.quote_name(QuarantinedRecord._meta.db_table)
    json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (system_id, run_id, record_key, appeal_id, record, reasons, times_seen, "  # noqa: S608
            f"first_seen_at, last_seen_at) VALUES (%s, %s, %s, %s, {json_value}, {json_value}, 1, %s, %s) "
            "ON CONFLICT (system_id, record_key) DO UPDATE SET run_id = EXCLUDED.run_id, "
            "appeal_id = EXCLUDED.appeal_id, record = EXCLUDED.record, reasons = EXCLUDED.reasons, "
            f"times_seen = {table}.times_seen + 1, last_seen_at = EXCLUDED.last_seen_at",
            [
                (
                    system.pk,
                    run.pk if run is not None else None,
                    key,
                    appeal_id,
                    json.dumps(_storable(record), ensure_ascii=False, default=str),
                    json.dumps(reasons, ensure_ascii=False),
                    stamp,
                    stamp,
                )
                for key, (appeal_id, record, reasons) in invalid.items()
            ],
        )
