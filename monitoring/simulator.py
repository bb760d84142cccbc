"""A simulated CNAP information system: `GET /asc/<cnap code>/appeals/?start_date&end_date[&page&after]`.

It speaks the §6 contract (Basic Auth, Kyiv calendar days both included, "created or updated in the
range", pages ordered by (updated_at, id), absolute `next_page` carrying a cursor: the (updated_at, id)
of the last record sent, so a page boundary can neither drop nor repeat a record) and serves made-up
appeals with no personal data. An appeal is fixed by (seed, CNAP code, day, index), so a re-pull
returns the same appeals; only the events still in the future are hidden (an appeal registered this
morning is "in progress" until its decision time passes). Faults can be switched on to exercise the puller.

For development, demos, benchmarks and tests only: `manage.py cnap_simulator` serves on loopback.
"""

import base64
import bisect
import datetime
import hmac
import ipaddress
import json
import math
import random
import re
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

KYIV = ZoneInfo("Europe/Kyiv")
MAX_RANGE_DAYS = 31
# An appeal's last update comes at most this many days after its registration (term + delay + pickup
# + feedback), so a range also lists appeals registered up to this long before it.
LIFESPAN_DAYS = 50
CACHED_RECORDS = 300_000  # generated appeals kept between requests (~0.9 KB each: ~270 MB at most)
SELECTION_SECONDS = 60  # a range's ordered appeals are reused this long: the pages of one pull agree
FOREIGN_HOST = "cnap-elsewhere.example"

FAULT_KINDS = frozenset(
    {"slow", "500", "401", "malformed", "oversized", "redirect", "next_page_other_host", "invalid_records"}
)
_ROUTE = re.compile(r"/asc/(?P<code>[^/]+)/appeals/?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Selection(NamedTuple):
    """A range's appeals in (updated_at, id) order: the sort keys (epoch seconds, id) and the JSON."""

    keys: list[tuple[int, str]]
    bodies: list[bytes]


@dataclass(frozen=True)
class SimService:
    """A Register service the simulator reports appeals for: its variations with a term in days."""

    code: str
    variations: tuple[tuple[str, int | None, bool], ...] = ()  # (identifier, term days, working days)


@dataclass
class Fault:
    kind: str
    times: int = 1
    after_pages: int = 0  # the fault hits pages after this many (page numbers > after_pages)
    options: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "times": self.times, "after_pages": self.after_pages, **self.options}


def registry_load() -> tuple[list[SimService], list[str]]:
    """Active services (with their active variations' terms) and active CNAP codes from the database."""
    from .models import AdministrativeService, Cnap, ServiceVariation

    variations: dict[str, list] = {}
    for code, identifier, days, working in ServiceVariation.objects.filter(is_active=True).values_list(
        "service__identifier", "identifier", "legal_term_days", "legal_term_working_days"
    ):
        variations.setdefault(code, []).append((identifier, days, working))
    services = [
        SimService(code, tuple(variations.get(code, ())))
        for code in AdministrativeService.objects.filter(is_active=True).values_list("identifier", flat=True)
    ]
    cnaps = list(Cnap.objects.filter(is_active=True).values_list("code", flat=True))
    return services, cnaps


# --- Time ------------------------------------------------------------------------------------------


def _midnight(day: datetime.date) -> int:
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=KYIV).timestamp())


_hours: dict[int, tuple[str, str]] = {}


def _iso(ts: int) -> str:
    """RFC 3339 in Kyiv time; Kyiv offsets are whole hours, so the prefix is cached per hour."""
    hour = ts // 3600
    parts = _hours.get(hour)
    if parts is None:
        moment = datetime.datetime.fromtimestamp(hour * 3600, KYIV)
        offset = moment.strftime("%z")
        parts = _hours[hour] = (moment.strftime("%Y-%m-%dT%H:"), f"{offset[:3]}:{offset[3:]}")
    rest = ts % 3600
    return f"{parts[0]}{rest // 60:02d}:{rest % 60:02d}{parts[1]}"


# --- Appeals ---------------------------------------------------------------------------------------

DAY = 86400
_CHANNELS = (("offline", 0.55), ("online", 0.80), ("remote", 0.92), ("mail", 1.0))
_APPLICANTS = (("individual", 0.78), ("entrepreneur", 0.92), ("legal_entity", 1.0))
_LOYALTY = (10, 10, 10, 9, 9, 9, 8, 8, 7, 6, 5, 3, 0)
_TERMS = (1, 5, 10, 30)  # days, for services the simulator knows no term of
# A record rendered by hand (json.dumps per record costs twice as much); the pieces marked `_json`
# are JSON values already, the others are known to be plain ASCII.
_RECORD = (
    '{{"id":"{id}","asc_code":{asc_json},"service_code":{service_json},"variation_code":{variation_json},'
    '"channel":"{channel}","applicant_type":"{applicant}","registered_at":"{registered}",'
    '"deadline_at":{deadline_json},"is_test":{test_json},"is_consultation":{consultation_json},'
    '"status":"{status}","result":{result_json},"decided_at":{decided_json},"issued_at":{issued_json},'
    '"updated_at":"{updated}","feedback":{feedback_json}}}'
)


def _pick(table, u: float) -> str:
    for value, bound in table:
        if u < bound:
            return value
    return table[-1][0]


def _json_iso(ts: int | None) -> str:
    return "null" if ts is None else f'"{_iso(ts)}"'


class _Life:
    """An appeal's whole lifecycle; what a pull sees is the part already in the past."""

    __slots__ = ("fixed", "registered", "fate", "ended", "issued", "feedback", "appeal_id", "final", "body")

    def __init__(self, fixed, appeal_id, registered, fate, ended, issued, feedback):
        self.fixed = fixed  # the template fields that never change
        self.appeal_id = appeal_id
        self.registered = registered
        self.fate = fate  # open, cancelled, returned, refused, positive
        self.ended = ended  # cancelled/returned: when; refused/positive: decided
        self.issued = issued  # positive and picked up only, else None
        self.feedback = feedback  # (ts, rating, loyalty) or None
        if feedback:
            self.final = feedback[0]  # the last update, once everything has happened
        elif issued is not None:
            self.final = issued
        else:
            self.final = ended if fate != "open" else registered + 1800
        self.body: bytes | None = None  # the final record, rendered when first asked for

    def final_body(self) -> bytes:
        if self.body is None:
            self.body = self.render(math.inf)[1]
        return self.body

    def render(self, now: float) -> tuple[int, bytes] | None:
        """(updated_at, record JSON) as the CNAP system reports it at `now`; None before registration."""
        if self.registered > now:
            return None
        status, updated, result = "registered", self.registered, "null"
        decided = issued = None
        feedback = "null"
        if now >= self.registered + 1800:  # work starts half an hour after registration
            status, updated = "in_progress", self.registered + 1800
        if self.fate != "open" and self.ended <= now:
            updated = self.ended
            if self.fate in ("cancelled", "returned"):
                status = self.fate
            else:
                decided = self.ended
                status, result = (
                    ("refused", '"refusal"') if self.fate == "refused" else ("ready", '"positive"')
                )
                if self.issued is not None and self.issued <= now:
                    status, issued, updated = "issued", self.issued, self.issued
                    if self.feedback and self.feedback[0] <= now:
                        ts, rating, loyalty = self.feedback
                        feedback = f'{{"rating":{rating},"loyalty":{loyalty},"submitted_at":"{_iso(ts)}"}}'
                        updated = ts
        body = _RECORD.format(
            **self.fixed,
            id=self.appeal_id,
            registered=_iso(self.registered),
            status=status,
            result_json=result,
            decided_json=_json_iso(decided),
            issued_json=_json_iso(issued),
            updated=_iso(updated),
            feedback_json=feedback,
        )
        return updated, body.encode()


def _term_end(day: datetime.date, term: int, working: bool) -> datetime.date:
    """The last day of a legal term counted from the day after `day` (working days skip weekends)."""
    if not working:
        return day + datetime.timedelta(days=term)
    while term:
        day += datetime.timedelta(days=1)
        term -= day.weekday() < 5
    return day


def _office_time(day_start: int, after: int, days: int, u: float, gap: int = 3600) -> int:
    """A moment between 08:00 and 18:00 `days` days after `day_start`, at least `gap` s after `after`."""
    earliest = after + gap if days == 0 else day_start + days * DAY + 8 * 3600
    latest = day_start + days * DAY + 18 * 3600
    return earliest + int(u * max(0, latest - earliest))


def _lives(*, seed, cnap_code: str, day: datetime.date, count: int, services: Sequence[SimService]):
    """The day's appeals, drawn in order from one generator seeded by (seed, CNAP, day)."""
    rng = random.Random(f"{seed}:{cnap_code}:{day.isoformat()}")  # noqa: S311 - made-up data, reproducible
    r = rng.random
    asc_json = json.dumps(int(cnap_code) if cnap_code.isdigit() else cnap_code)
    day_start = _midnight(day)
    terms: dict[tuple, tuple[int, str]] = {}  # (term, working days) -> (calendar days, deadline)
    prefix = f"{cnap_code}-{day:%Y%m%d}-"
    for index in range(count):
        service = services[int(r() * len(services))]
        variation, term, working = ("", None, False)
        if service.variations:
            variation, term, working = service.variations[int(r() * len(service.variations))]
        if term is None:
            term = _TERMS[int(r() * len(_TERMS))]
        registered = day_start + 8 * 3600 + int(r() * 10 * 3600)
        term_key = (term, working)
        if term_key not in terms:
            last_day = _term_end(day, term, working)
            end_of_term = _midnight(last_day + datetime.timedelta(days=1)) - 1
            terms[term_key] = ((last_day - day).days, f'"{_iso(end_of_term)}"')
        term_days, deadline = terms[term_key]
        if r() >= 0.8:  # these send none: the puller computes it from the Register
            deadline = "null"
        fixed = {
            "asc_json": asc_json,
            "service_json": json.dumps(service.code),
            "variation_json": json.dumps(variation or None),
            "channel": _pick(_CHANNELS, r()),
            "applicant": _pick(_APPLICANTS, r()),
            "deadline_json": deadline,
            "test_json": "true" if r() < 0.005 else "false",
            "consultation_json": "true" if r() < 0.03 else "false",
        }
        # Decisions and pick-ups happen in office hours; the last update stays within LIFESPAN_DAYS.
        timing_days = min(term_days, 30)
        overdue = r() < 0.12
        decided_days = timing_days + 1 + int(r() * 10) if overdue else int(r() * (timing_days + 1))
        fate_draw = r()
        issued, feedback = None, None
        if fate_draw < 0.03:
            fate, ended = "open", registered  # stuck: the overdue backlog
        elif fate_draw < 0.07:
            fate = "cancelled" if fate_draw < 0.05 else "returned"
            ended = _office_time(day_start, registered, int(r() * 3), r())
        else:
            fate = "refused" if fate_draw < 0.14 else "positive"
            ended = _office_time(day_start, registered, decided_days, r())
            if fate == "positive" and r() < 0.92:  # the rest are never picked up
                ended_day = day_start + (ended - day_start) // DAY * DAY
                issued = _office_time(ended_day, ended, int(r() * 5), r(), gap=600)
                if r() < 0.35:
                    loyalty = _LOYALTY[int(r() * len(_LOYALTY))]
                    rating = max(1, min(5, round(loyalty / 2)))
                    feedback = (issued + 300 + int(r() * DAY), rating, loyalty)
        yield _Life(fixed, f"{prefix}{index:05d}", registered, fate, ended, issued, feedback)


def _dumps(record: dict) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


# --- The server ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a pull reuses one connection
    server_version = "CnapSimulator/1.0"

    def do_GET(self):  # noqa: N802
        self.server.simulator._handle(self, "GET")

    def do_POST(self):  # noqa: N802
        self.server.simulator._handle(self, "POST")

    def do_DELETE(self):  # noqa: N802
        self.server.simulator._handle(self, "DELETE")

    def log_message(self, format, *args):  # noqa: A002
        if self.server.simulator.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a slow-fault handler may still sleep when the simulator stops


class CnapSimulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        login: str = "erepository",
        password: str = "demo-cnap-2026",  # noqa: S107 - the published demo password
        appeals_per_day: int = 20,
        page_size: int = 500,
        service_codes: Iterable[str] | None = None,
        cnap_codes: Iterable[str] | None = None,
        seed: int | str = 2026,
        verbose: bool = False,
        cache_records: int = CACHED_RECORDS,
        tls: ssl.SSLContext | None = None,
    ):
        """Codes default to the active rows of the Register and the CNAP registry in the database
        (with the services' variations and terms); given codes are used as they are."""
        if service_codes is None or cnap_codes is None:
            db_services, db_cnaps = registry_load()
        services = db_services if service_codes is None else [SimService(code) for code in service_codes]
        self.services: list[SimService] = services
        self.cnap_codes: set[str] = set(db_cnaps if cnap_codes is None else (str(c) for c in cnap_codes))
        if not self.services:
            raise ValueError("The simulator needs at least one service code (import the Register first).")
        self.host, self.port = host, port
        self.login, self.password = login, password
        self.appeals_per_day, self.page_size, self.seed = appeals_per_day, page_size, seed
        self.verbose, self.cache_records = verbose, cache_records
        self.tls = tls  # a server-side context: https:// with its certificate
        self._expected_auth = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
        self._faults: list[Fault] = []
        self.requests = 0  # appeal requests answered (any outcome): tests count what a pull asked for
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple, list[_Life]] = OrderedDict()
        self._cached = 0
        self._selections: OrderedDict[tuple, tuple[float, _Selection]] = OrderedDict()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- Lifecycle ------------------------------------------------------------------------------------

    def start(self) -> "CnapSimulator":
        """Serve in a daemon thread; returns the simulator (its port is known now)."""
        self._listen()
        self._thread = threading.Thread(target=self._server.serve_forever, name="cnap-simulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the management command) until interrupted."""
        self._listen()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def _listen(self) -> None:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.simulator = self
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def url_for(self, cnap_code) -> str:
        return f"{self.base_url}/asc/{cnap_code}/appeals/"

    # --- Faults ---------------------------------------------------------------------------------------

    def fault(self, kind: str, times: int = 1, after_pages: int = 0, **options) -> Fault:
        """Make the next `times` appeal requests for a page after `after_pages` fail with `kind`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault {kind!r}; one of: {', '.join(sorted(FAULT_KINDS))}")
        if times < 1 or after_pages < 0:
            raise ValueError("times must be at least 1 and after_pages at least 0")
        added = Fault(kind, times, after_pages, options)
        with self._lock:
            self._faults.append(added)
        return added

    def faults_clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[dict]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def _fault_take(self, page: int) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if page > fault.after_pages:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- Data -----------------------------------------------------------------------------------------

    def _day(self, cnap_code: str, day: datetime.date) -> list[_Life]:
        key = (cnap_code, day)
        with self._lock:
            lives = self._days.get(key)
            if lives is not None:
                self._days.move_to_end(key)
                return lives
        lives = list(
            _lives(
                seed=self.seed,
                cnap_code=cnap_code,
                day=day,
                count=self.appeals_per_day,
                services=self.services,
            )
        )
        with self._lock:
            if key not in self._days:
                self._days[key] = lives
                self._cached += len(lives)
                while self._cached > self.cache_records and len(self._days) > 1:
                    _, dropped = self._days.popitem(last=False)
                    self._cached -= len(dropped)
        return lives

    def _selection(self, cnap_code: str, start: datetime.date, end: datetime.date) -> "_Selection":
        """The range's appeals (registered or updated in it) as JSON, ordered by (updated_at, id)."""
        key = (cnap_code, start, end)
        clock = time.monotonic()
        with self._lock:
            found = self._selections.get(key)
            if found is not None and found[0] > clock:
                return found[1]
        now = time.time()
        low, high = _midnight(start), _midnight(end + datetime.timedelta(days=1))
        today = datetime.datetime.fromtimestamp(now, KYIV).date()
        chosen = []
        day = start - datetime.timedelta(days=LIFESPAN_DAYS)
        while day <= min(end, today):
            in_range = day >= start
            for life in self._day(cnap_code, day):
                if life.final <= now:  # everything has happened: the cached final record
                    if in_range or low <= life.final < high:
                        chosen.append((life.final, life.appeal_id, life.final_body()))
                elif (seen := life.render(now)) is not None and (in_range or low <= seen[0] < high):
                    chosen.append((seen[0], life.appeal_id, seen[1]))
            day += datetime.timedelta(days=1)
        chosen.sort(key=lambda item: (item[0], item[1]))
        selection = _Selection(
            keys=[(updated, appeal_id) for updated, appeal_id, _body in chosen],
            bodies=[body for _updated, _id, body in chosen],
        )
        with self._lock:
            self._selections[key] = (clock + SELECTION_SECONDS, selection)
            while len(self._selections) > 32:
                self._selections.popitem(last=False)
        return selection

    def prerender(
        self, start: datetime.date, end: datetime.date, cnap_codes: Iterable[str] | None = None
    ) -> int:
        """Render every CNAP's appeals for the range ahead of the pulls (benchmarks); returns the count."""
        return sum(
            len(self._selection(str(code), start, end).bodies)
            for code in (cnap_codes or sorted(self.cnap_codes))
        )

    def records(self, cnap_code, start: datetime.date, end: datetime.date) -> list[dict]:
        """What a pull of the range receives (without faults), in order: for tests and benchmarks."""
        return [json.loads(body) for body in self._selection(str(cnap_code), start, end).bodies]

    def _invalid_records(self, cnap_code: str, start: datetime.date) -> list[bytes]:
        """Records a puller must quarantine, one per kind of error; their ids are stable across pulls."""
        life = next(_lives(seed=self.seed, cnap_code=cnap_code, day=start, count=1, services=self.services))
        valid = json.loads(life.final_body())
        asc_code = valid["asc_code"]
        broken = [
            {"service_code": "UNKNOWN-SERVICE"},
            {"asc_code": asc_code + 1 if isinstance(asc_code, int) else f"{asc_code}0"},
            {"decided_at": _iso(life.registered - 3600), "status": "refused", "result": "refusal"},
            {"channel": "pigeon"},
        ]
        return [
            _dumps({**valid, **changes, "id": f"{cnap_code}-BAD-{number}"})
            for number, changes in enumerate(broken, 1)
        ]

    # --- Requests -------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        try:
            parts = urlsplit(handler.path)
            if parts.path == "/_faults":
                self._control(handler, method)
            elif method == "GET" and (match := _ROUTE.fullmatch(parts.path)):
                self._appeals(handler, match["code"], parse_qs(parts.query))
            else:
                _send_error(handler, 404, "not_found", "No such endpoint.")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            handler.close_connection = True  # the puller gave up (a timeout, a size limit): nothing to do

    def _control(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        """Faults for a demo (`curl -X POST .../_faults -d '{"kind": "500"}'`); loopback clients only."""
        if not ipaddress.ip_address(handler.client_address[0]).is_loopback:
            _send_error(handler, 403, "forbidden", "Faults can be set from this machine only.")
            return
        if method == "DELETE":
            self.faults_clear()
        elif method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            try:
                spec = json.loads(handler.rfile.read(min(length, 10_000)) or b"{}")
                self.fault(**spec)
            except (ValueError, TypeError) as error:
                _send_error(handler, 400, "invalid_fault", str(error))
                return
        _send_json(handler, 200, {"success": True, "faults": self.faults})

    def _appeals(self, handler: BaseHTTPRequestHandler, cnap_code: str, query: dict) -> None:
        with self._lock:
            self.requests += 1
        if not hmac.compare_digest(handler.headers.get("Authorization", ""), self._expected_auth):
            _send_unauthorized(handler)
            return
        if cnap_code not in self.cnap_codes:
            _send_error(handler, 404, "unknown_asc", "No CNAP with this code is served here.")
            return
        dates = [(query.get(name) or [""])[0] for name in ("start_date", "end_date")]
        try:
            if not all(_DATE.fullmatch(value) for value in dates):
                raise ValueError
            start, end = (datetime.date.fromisoformat(value) for value in dates)
        except ValueError:
            _send_error(handler, 400, "invalid_date", "start_date and end_date must be dates (YYYY-MM-DD).")
            return
        if start > end:
            _send_error(handler, 400, "invalid_date", "start_date is after end_date.")
            return
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            _send_error(handler, 400, "range_too_large", f"At most {MAX_RANGE_DAYS} days in one request.")
            return
        page_text = (query.get("page") or ["1"])[0]
        if not (page_text.isascii() and page_text.isdigit()) or int(page_text) < 1:
            _send_error(handler, 400, "invalid_page", "page must be a whole number from 1.")
            return
        page = int(page_text)
        after = None  # the (updated_at, id) of the last record sent: the next page starts after it
        if page > 1:
            updated_text, _, after_id = (query.get("after") or [""])[0].partition(":")
            if not (updated_text.isascii() and updated_text.isdigit() and after_id):
                _send_error(handler, 400, "invalid_page", "A next page needs the after cursor it was given.")
                return
            after = (int(updated_text), after_id)

        fault = self._fault_take(page)
        kind = fault.kind if fault else None
        if kind == "401":
            _send_unauthorized(handler)
            return
        if kind == "500":
            _send_error(handler, 500, "internal", fault.options.get("message", "Simulated server error."))
            return
        if kind == "redirect":
            location = fault.options.get("location", f"http://{FOREIGN_HOST}/asc/{cnap_code}/appeals/")
            _send(handler, 302, b"", {"Location": location} if location else {})  # "": no Location
            return
        if kind == "malformed":
            _send(handler, 200, b'{"success": true, "data": [{"id": "', {"Content-Type": "application/json"})
            return
        if kind == "oversized":
            self._send_oversized(handler, fault)
            return
        if kind == "slow":
            from django.conf import settings

            time.sleep(float(fault.options.get("seconds", settings.MONITORING_PULL_READ_TIMEOUT + 1)))

        selection = self._selection(cnap_code, start, end)
        bodies = selection.bodies
        # A cursor, not an offset: an appeal updated during the pull moves to the end of the order and is
        # sent again there, and none after it shifts back over a page boundary.
        first = 0 if after is None else bisect.bisect_right(selection.keys, after)
        last = min(first + self.page_size, len(bodies))  # the page is bodies[first:last]
        chunk = bodies[first:last]
        if kind == "invalid_records":
            chunk = [*chunk, *self._invalid_records(cnap_code, start)]
        next_page = None
        if last < len(bodies) or kind == "next_page_other_host":
            host = FOREIGN_HOST if kind == "next_page_other_host" else handler.headers.get("Host")
            updated, appeal_id = selection.keys[last - 1] if last > first else (0, "-")
            query_text = urlencode(
                {"start_date": start, "end_date": end, "page": page + 1, "after": f"{updated}:{appeal_id}"}
            )
            scheme = "https" if self.tls else "http"
            next_page = (
                f"{scheme}://{host or f'{self.host}:{self.port}'}/asc/{cnap_code}/appeals/?{query_text}"
            )
        body = b"".join(
            (
                b'{"success":true,"next_page":',
                json.dumps(next_page).encode(),
                b',"count":',
                str(len(bodies)).encode(),
                b',"data":[',
                b",".join(chunk),
                b"]}",
            )
        )
        _send(handler, 200, body, {"Content-Type": "application/json"})

    def _send_oversized(self, handler: BaseHTTPRequestHandler, fault: Fault) -> None:
        """A valid-looking answer over the puller's limit, with no Content-Length: it must stop reading."""
        from django.conf import settings

        size = int(fault.options.get("bytes", settings.MONITORING_PULL_MAX_PAGE_BYTES + 1))
        handler.close_connection = True
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'{"success":true,"next_page":null,"data":[],"padding":"')
        block = b"x" * 65536
        for _sent in range(0, size, len(block)):
            handler.wfile.write(block)
        handler.wfile.write(b'"}')


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
    _send(handler, status, _dumps(payload), {"Content-Type": "application/json"})


def _send_error(handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    _send_json(handler, status, {"success": False, "error": {"code": code, "message": message}})


def _send_unauthorized(handler: BaseHTTPRequestHandler) -> None:
    body = _dumps({"success": False, "error": {"code": "unauthorized", "message": "Basic Auth required."}})
    _send(
        handler,
        401,
        body,
        {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="appeals", charset="UTF-8"'},
    )
