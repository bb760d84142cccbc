#!/usr/bin/env python
"""Declarations at scale: create, approve and sign a declaration request and the doctor's declaration list,
on 2,000,000 patients, 50,000 doctors and 1,000,000 declarations.

    .venv/bin/python bench/bench_declarations.py [--samples 150] [--rebuild] [--build-only]
        [--patients 2000000] [--doctors 50000] [--declarations 1000000] [--key-type ec|rsa]
        [--only TEXT] [--explain] [--profile] [--sql] [--no-write] [--database ehealth_bench]

Builds the PostgreSQL database (`ehealth_bench`: migrated, the dictionaries, then bench/declarations_dataset.py
with COPY, about 2–3 minutes) once; a later run with the same sizes, generator and migrations reuses it
(a changed migration builds it again), --rebuild makes it anew. Then, in this one process (Django on the production settings, Redis db 9 as cache and
broker, no server, no load generator), for two doctors of one facility — SMALL with 10 declarations and BIG
with 1,800 of its 2,000 — each path `--samples` times, one call at a time, each with another patient (half of
them switching from a doctor elsewhere, whose declaration signing terminates; half without one):
* create: `declaration_request_create_for_person` (the OTP code is sent: Verification, SMS, the task queued);
* approve: `declaration_request_approve` with the code the SMS carries (read from the SMS outbox);
* sign: `declaration_request_sign` with the doctor's devpki key (ECDSA P-256 by default) over
  `declaration_request_signable_bytes` — the signature verified against the trust bundle, the chain and CRL;
* the doctor's declarations: `/cabinet/declarations/` (signed in) and `GET /api/declarations` (API key),
  through Django's test client.
Each is timed (median, p95) beside its raw operation in the same run: a bare one-row write transaction for
create and approve, `verify_signature` of the same envelope for sign, the bare signed-in page and the bare
DRF endpoint for the lists. SQL statements are counted for each path at both doctors (one call each, the same
kind of patient) and must be equal. Targets: p95 under 100 ms for sign and 50 ms for the others, SQL
statements independent of the doctor's declarations. What the run made is ended afterwards (its
declarations terminated, its requests cancelled), so every run starts from the same counts.

Prints a Markdown section and rewrites the declarations section of docs/benchmarks.md (not with --only or
--no-write); exit status 1 when a target is missed. Needs PostgreSQL and Redis on 127.0.0.1.
"""

import argparse
import cProfile
import datetime as dt
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from loadrun import Site, load_average, percentile
from report import cpu_model, document_update

TARGETS_MS = {"sign": 100.0}
DEFAULT_TARGET_MS = 50.0
SITE = Site(
    database="ehealth_bench",
    cache_url="redis://127.0.0.1:6379/9",
    broker_url="redis://127.0.0.1:6379/9",
    port=8479,
    settings_module="staff_site_settings",  # production settings plus /bench/bare and /bench/bare-page
    name="declarations",
)
_CODE_RE = re.compile(r"\b(\d{4})\b")


# --- Setup ---------------------------------------------------------------------------------------------------


def database_exists(name: str) -> bool:
    result = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip() == "1"


def pki_prepare(directory: Path, key_type: str):
    """A root CA whose certificate is the trust bundle (the settings read it from the environment)."""
    from cryptography.hazmat.primitives import serialization

    from ehealth_portal.signatures.devpki import ca_create, crl_create, key_generate

    root = ca_create("Declarations Benchmark Root", key=key_generate(key_type))
    (directory / "bundle.pem").write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "crls").mkdir(exist_ok=True)
    (directory / "crls" / "root.crl").write_bytes(
        crl_create(root, []).public_bytes(serialization.Encoding.PEM)
    )
    return root


@dataclass
class MeasuredDoctor:
    label: str
    employee: object
    user: object
    credential: object
    declarations: int  # current ones when the run starts
    patients: dict = field(default_factory=lambda: {"new": [], "switching": []})


def cast(root, key_type: str) -> tuple[object, list[MeasuredDoctor]]:
    """The bench facility and the two measured doctors with their keys."""
    from declarations_dataset import BENCH_EDRPOU, BIG_EMAIL, SMALL_EMAIL

    from declarations.models import Declaration
    from ehealth_portal.signatures.devpki import certificate_issue
    from registry.models import Employee, LegalEntity

    facility = LegalEntity.objects.get(edrpou=BENCH_EDRPOU, status="ACTIVE")
    doctors = []
    for label, email in (("small", SMALL_EMAIL), ("big", BIG_EMAIL)):
        employee = Employee.objects.select_related("party__user", "division").get(
            legal_entity=facility, party__user__email=email, employee_type="DOCTOR"
        )
        party = employee.party
        credential = certificate_issue(
            root, surname=party.last_name, given_names=f"{party.first_name} {party.second_name}".strip(),
            drfo=party.tax_id, key_type=key_type,
        )  # fmt: skip
        current = Declaration.objects.filter(employee=employee, status__in=Declaration.CURRENT).count()
        doctors.append(MeasuredDoctor(label, employee, party.user, credential, current))
    return facility, doctors


def doctors_spread() -> list[float]:
    """The median, 90th and 99th percentile of the doctors' current declarations."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "WITH counts AS (SELECT count(d.id) AS n FROM registry_employee e LEFT JOIN declarations_declaration d "
            "ON d.employee_id = e.id AND d.status IN ('active', 'pending_verification') "
            "WHERE e.employee_type = 'DOCTOR' GROUP BY e.id) "
            "SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY n) FROM counts"
        )
        return cursor.fetchone()[0]


def leftovers_end(facility, since) -> tuple[int, int]:
    """End what earlier runs made at the bench facility: their declarations terminated, requests cancelled."""
    from declarations.models import Declaration, DeclarationRequest

    ended = Declaration.objects.filter(
        legal_entity=facility, created_at__gt=since, status__in=Declaration.CURRENT
    ).update(
        status=Declaration.Status.TERMINATED,
        reason=Declaration.Reason.MANUAL_EMPLOYEE,
        reason_description="bench_declarations.py: ended after the run",
    )
    cancelled = DeclarationRequest.objects.filter(
        legal_entity=facility, created_at__gt=since, status__in=DeclarationRequest.PENDING
    ).update(status="CANCELLED")
    return ended, cancelled


def patients_pick(facility, doctors: list[MeasuredDoctor], per_doctor: int) -> None:
    """Adults with an RNOKPP confirming by SMS who never had a request at the bench facility, from a random
    point of the register: half with a current declaration elsewhere (signing terminates it), half without.
    Not a patient of a doctor at their limit: the place freed would add a write of that doctor's
    accepts-new-patients flag, and the statement counts of the two doctors must compare like with like."""
    import uuid

    from django.db import connection

    cutoff = dt.date.today() - dt.timedelta(days=19 * 365)
    wanted = per_doctor * len(doctors)
    found = {"new": [], "switching": []}
    start = uuid.uuid4()
    with connection.cursor() as cursor:
        while min(len(found["new"]), len(found["switching"])) < wanted:
            cursor.execute(
                "SELECT p.id, (SELECT bool_and(e.accepts_new_patients) FROM declarations_declaration d "
                "JOIN registry_employee e ON e.id = d.employee_id WHERE d.person_id = p.id "
                "AND d.status IN ('active', 'pending_verification')) FROM declarations_person p "
                "WHERE p.id > %s AND p.authentication_method = 'OTP' AND p.birth_date < %s AND p.is_active "
                "AND p.tax_id <> '' AND NOT EXISTS (SELECT 1 FROM declarations_declarationrequest r "
                "WHERE r.person_id = p.id AND r.legal_entity_id = %s) ORDER BY p.id LIMIT 2000",
                [start, cutoff, facility.pk],
            )
            rows = cursor.fetchall()
            if not rows:
                start = uuid.UUID(int=0)
                continue
            for person_id, former_accepts in rows:
                if former_accepts is False:  # their doctor is at the limit: signing frees a place
                    continue
                kind = "new" if former_accepts is None else "switching"
                if len(found[kind]) < wanted:
                    found[kind].append(person_id)
            start = rows[-1][0]
    for index, doctor in enumerate(doctors):
        for kind in found:
            doctor.patients[kind] = found[kind][index * per_doctor : (index + 1) * per_doctor]


# --- The paths -----------------------------------------------------------------------------------------------


def sms_code(phone_number: str) -> str:
    """The code of the latest SMS to the phone, as the patient reads it."""
    from declarations.models import SmsMessage

    message = SmsMessage.objects.filter(phone_number=phone_number).order_by("-created_at", "-id").first()
    return _CODE_RE.search(message.body).group(1)


class Flow:
    """One patient through create → approve → sign with one doctor; each step timed on its own."""

    def __init__(self, facility, doctor: MeasuredDoctor):
        self.facility, self.doctor = facility, doctor

    def create(self, person_id):
        from declarations.models import Person
        from declarations.services import declaration_request_create_for_person

        person = Person.objects.get(pk=person_id)
        employee = self.doctor.employee
        return lambda: declaration_request_create_for_person(
            legal_entity=self.facility, actor=self.doctor.user, person=person, employee=employee,
            division=employee.division,
        )  # fmt: skip

    def approve(self, request):
        from declarations.models import DeclarationRequest
        from declarations.services import declaration_request_approve

        request = DeclarationRequest.objects.get(pk=request.pk)
        code = sms_code(request.person.authentication_phone)
        return lambda: declaration_request_approve(
            declaration_request=request, actor=self.doctor.user, verification_code=code
        )

    def sign(self, request):
        from declarations.models import DeclarationRequest
        from declarations.services import declaration_request_sign, declaration_request_signable_bytes
        from ehealth_portal.signatures.devpki import cms_sign

        request = DeclarationRequest.objects.get(pk=request.pk)  # as the sign view reads it
        envelope = cms_sign(declaration_request_signable_bytes(request), self.doctor.credential)  # the client
        return (
            lambda: declaration_request_sign(
                declaration_request=request, actor=self.doctor.user, signed_envelope=envelope
            ),
            envelope,
        )


def timed(function) -> tuple[object, float]:
    start = time.perf_counter()
    result = function()
    return result, (time.perf_counter() - start) * 1000


def counted(function) -> tuple[object, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = function()
    return result, list(captured.captured_queries)


@dataclass
class Series:
    samples: list[float] = field(default_factory=list)
    statements: dict = field(default_factory=dict)  # patient kind → statements of one call
    queries: dict = field(default_factory=dict)  # patient kind → the captured queries

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)


def flows_measure(facility, doctor: MeasuredDoctor, samples: int, results: dict, *, profile: bool) -> list:
    """create → approve → sign for `samples` patients (kinds alternating), then one counted call of each
    step per patient kind. Returns the sign envelopes (for the raw verification)."""
    flow = Flow(facility, doctor)
    envelopes = []
    kinds = ["new", "switching"]
    queue = {kind: list(doctor.patients[kind]) for kind in kinds}
    steps = ("create", "approve", "sign")
    for index in range(samples + 2 * 2):
        kind = kinds[index % 2]
        person_id = queue[kind].pop()
        counting = index >= samples + 2  # the last two: one of each kind, counted (the first two warm up)
        warm = index < 2
        request = None
        for step in steps:
            if step == "create":
                call = flow.create(person_id)
            elif step == "approve":
                call = flow.approve(request)
            else:
                call, envelope = flow.sign(request)
                envelopes.append(envelope)
            series = results.setdefault((step, doctor.label), Series())
            if counting:
                outcome, queries = counted(call)
                series.statements[kind] = len(queries)
                series.queries[kind] = queries
            elif profile and index == samples + 1:
                profiler = cProfile.Profile()
                outcome = profiler.runcall(call)
                print(f"\n--- profile: {step}, {doctor.label}", file=sys.stderr)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
            else:
                outcome, ms = timed(call)
                if not warm:
                    series.samples.append(ms)
            if step == "create":
                request = outcome
    return envelopes


def raw_measure(samples: int, envelopes: list, results: dict) -> None:
    """The raw operations beside the paths: a bare one-row write transaction; `verify_signature` alone."""
    from django.db import transaction

    from declarations.models import SmsMessage
    from ehealth_portal.signatures import verify_signature

    written = []
    for index in range(samples + 2):

        def write(index=index):
            with transaction.atomic():
                return SmsMessage.objects.create(phone_number="+380670000000", body=f"bench {index}")

        message, ms = timed(write)
        written.append(message.pk)
        if index >= 2:
            results.setdefault(("raw write", "-"), Series()).samples.append(ms)
    SmsMessage.objects.filter(pk__in=written).delete()
    for index, envelope in enumerate(envelopes[: samples + 2]):
        _signer, ms = timed(lambda envelope=envelope: verify_signature(envelope))
        if index >= 2:
            results.setdefault(("raw verify", "-"), Series()).samples.append(ms)


def pages_measure(
    facility, doctors: list[MeasuredDoctor], samples: int, results: dict, available: dict, *, profile: bool
) -> None:
    """The doctor's declaration list (page and API) beside the bare page and the bare DRF endpoint."""
    from django.test import Client

    from ehealth_portal.models import ApiKey

    keys = []
    try:
        for doctor in doctors:
            session = Client()
            session.force_login(doctor.user, backend="django.contrib.auth.backends.ModelBackend")
            _api_key, key = ApiKey.objects.create_key(name="declarations-bench", user=doctor.user)
            keys.append(_api_key.pk)
            api = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
            paths = [
                ("bare page", session, "/bench/bare-page"),
                ("bare API", Client(), "/bench/bare"),
                ("cabinet list", session, f"/cabinet/declarations/?employee={doctor.employee.pk}"),
                ("API list", api, f"/api/declarations?employee_id={doctor.employee.pk}"),
            ]
            for label, client, path in paths:
                response = client.get(path)
                if response.status_code == 404 and label.endswith("list"):
                    available[label] = False
                    continue
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
                available[label] = True
                series = results.setdefault((label, doctor.label), Series())
                for _ in range(samples):
                    _response, ms = timed(lambda client=client, path=path: client.get(path))
                    series.samples.append(ms)
                _response, queries = counted(lambda client=client, path=path: client.get(path))
                series.statements["new"] = series.statements["switching"] = len(queries)
                series.queries["new"] = queries
                if profile and label.endswith("list"):
                    profiler = cProfile.Profile()
                    profiler.runcall(client.get, path)
                    print(f"\n--- profile: {label}, {doctor.label}", file=sys.stderr)
                    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    finally:
        ApiKey.objects.filter(pk__in=keys).delete()


def explain_slowest(queries: list[dict], count: int = 3) -> None:
    from django.db import connection

    for query in sorted(queries, key=lambda query: -float(query["time"]))[:count]:
        print(f"\n-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:600]}", file=sys.stderr)
        if query["sql"].lstrip().upper().startswith("SELECT") and "FOR UPDATE" not in query["sql"].upper():
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n".join(row[0][:240] for row in cursor.fetchall()), file=sys.stderr)


# --- Report --------------------------------------------------------------------------------------------------

PATHS = [  # (key, label, raw key, target)
    ("create", "create a request (`declaration_request_create_for_person`)", "raw write"),
    ("approve", "approve with the SMS code (`declaration_request_approve`)", "raw write"),
    ("sign", "sign (`declaration_request_sign`, signature verified)", "raw verify"),
    ("cabinet list", "`/cabinet/declarations/?employee=…` (the doctor, signed in)", "bare page"),
    ("API list", "`GET /api/declarations?employee_id=…` (the doctor's API key)", "bare API"),
]
RAW = [
    ("raw write", "a bare one-row write transaction (`SmsMessage` insert, commit)"),
    ("raw verify", "`verify_signature` of the same envelopes"),
    ("bare page", "bare signed-in page (base.html)"),
    ("bare API", "bare DRF endpoint (no auth, no queries)"),
]


def _statements(small: Series, big: Series) -> str:
    """The statements of one call at each doctor, per kind of patient where the kinds differ."""
    kinds = ("new", "switching")
    if all(small.statements.get(kind) == small.statements.get("new") for kind in kinds) and all(
        big.statements.get(kind) == big.statements.get("new") for kind in kinds
    ):
        return f"{small.statements.get('new')} / {big.statements.get('new')}"
    return "; ".join(
        f"{small.statements.get(kind)} / {big.statements.get(kind)} ({KIND_LABELS[kind]})" for kind in kinds
    )


KIND_LABELS = {"new": "a patient without a declaration", "switching": "one switching doctors"}


def section(args, results: dict, facts: dict) -> tuple[str, list[str]]:
    missed = []
    lines = [
        f"| Path | SMALL ({facts['small']} declarations): median / p95 | BIG ({facts['big']}): median / p95 "
        "| its raw operation's share (medians) | SQL statements: SMALL / BIG | target p95 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label, raw in PATHS:
        small, big = results.get((key, "small")), results.get((key, "big"))
        if small is None or big is None or not small.samples:
            continue
        target = TARGETS_MS.get(key, DEFAULT_TARGET_MS)
        raw_series = results.get((raw, "-")) or results.get((raw, "small"))
        share = (
            raw_series.median / statistics.median([small.median, big.median]) if raw_series else float("nan")
        )
        if max(small.p95, big.p95) >= target:
            missed.append(f"{key} p95")
        if small.statements != big.statements:
            missed.append(f"{key} statements")
        lines.append(
            f"| {label} | {small.median:.1f} / {small.p95:.1f} ms | {big.median:.1f} / {big.p95:.1f} ms "
            f"| {share:.1%} | {_statements(small, big)} | < {target:.0f} ms |"
        )
    raw_lines = []
    for key, label in RAW:
        series = results.get((key, "-")) or results.get((key, "small"))
        if series and series.samples:
            raw_lines.append(f"| {label} | {series.median:.2f} ms | {series.p95:.2f} ms |")
    verdict = "all targets met" if not missed else "missed: " + ", ".join(missed)
    text = f"""## Declarations: {args.declarations:,} declarations, {args.patients:,} patients, {args.doctors:,} doctors

Measured {dt.date.today().isoformat()} by `bench/bench_declarations.py` (`.venv/bin/python bench/bench_declarations.py`). Machine: {cpu_model()}, nproc {os.cpu_count()}; Python {platform.python_version()}; {facts["pg"]} and Redis on the same machine. In one process, one call at a time: Django on the production settings (DEBUG off, Redis cache and Celery broker, no worker), the services called directly and the pages through Django's test client, against the real database; no HTTP server, no load generator. Load average (1, 5, 15 min) when the measurements started: {facts["load_start"]}; when they ended: {facts["load_end"]}.

Data (`bench/declarations_dataset.py`, written with COPY in {facts["build"]}; the database is {facts["size"]}): {args.facilities:,} primary-care facilities with 3 places of service and 10 doctors each (family doctors 60%, therapists 25%, paediatricians 15%; 1% with a second job), {args.patients:,} patients (18% children with a confidant person; 80% confirm by SMS, their phones verified), {args.declarations:,} declarations (88% current — 3% of those waiting for verification — one per patient, matched to the doctor's speciality by age; the rest terminated, closed or rejected), each with its SIGNED request, and {facts["other_requests"]:,} other requests (NEW, APPROVED, REJECTED, CANCELLED, EXPIRED). Doctors' current declarations: {facts["at_limit"]} at their limit, as many within 10% of it, the rest log-normal (per doctor: median {facts["spread"][0]:.0f}, 90th percentile {facts["spread"][1]:.0f}, 99th {facts["spread"][2]:.0f}).

Measured at one facility for two doctors: SMALL, a family doctor with {facts["small"]} current declarations, and BIG, a therapist with {facts["big"]} of his 2,000. Each path {args.samples} times per doctor (after 2 warm-up calls), each call with another adult patient confirming by SMS — half switching from a doctor elsewhere (signing terminates that declaration), half without one. create: `declaration_request_create_for_person` (payload, checks, number, snapshots, printout; the SMS code started after commit: Verification, SmsMessage, the task sent to Redis). approve: `declaration_request_approve` with the code read from the SMS outbox (OTP check, the doctor's limit counted under its lock). sign: `declaration_request_sign` with an {facts["key"]} devpki key whose certificate names the doctor's RNOKPP, over `declaration_request_signable_bytes` (CMS parsed, digest and signature checked, chain to the trust bundle, CRL; the patient's other declarations terminated; the declaration written). Lists: the first page of the doctor's declarations, signed in (the cabinet's page: 25 rows, all statuses) or with an API key (50 rows, active ones); SMALL's pages have 10. Raw operations, in the same run: {"; ".join(label for _key, label in RAW)}. SQL statements: one call of each path for each doctor (the same kind of patient; where the kinds differ, "new / switching"). What the run made is ended afterwards (its declarations terminated, its requests cancelled), so each run starts from the same counts.

{chr(10).join(lines)}

| Raw operation | median | p95 |
|---|---:|---:|
{chr(10).join(raw_lines)}

Target: p95 under 100 ms for sign and under 50 ms for the others, and SQL statements that do not grow with the doctor's declarations. Result: {verdict}."""
    return text, missed


# --- Main ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=150, help="calls of each path per doctor")
    parser.add_argument("--patients", type=int, default=2_000_000)
    parser.add_argument("--doctors", type=int, default=50_000)
    parser.add_argument("--declarations", type=int, default=1_000_000)
    parser.add_argument("--database", default=SITE.database)
    parser.add_argument("--key-type", choices=["ec", "rsa"], default="ec")
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build the data again")
    parser.add_argument(
        "--build-only", action="store_true", help="build (or check) the data, measure nothing"
    )
    parser.add_argument(
        "--only", help="only the paths whose name contains this (create, approve, sign, list)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each path's slowest statements"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one call of each step")
    parser.add_argument("--sql", action="store_true", help="print the statements of each path's counted call")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    args.facilities = args.doctors // 10
    if args.samples + 6 > 200:
        sys.exit("--samples: at most 194 (the big doctor has room for 200 more declarations)")
    SITE.database = args.database
    pki_directory = Path(tempfile.mkdtemp(prefix="declbench-pki-"))
    os.environ["SIGNATURE_CA_BUNDLE"] = str(pki_directory / "bundle.pem")
    os.environ["SIGNATURE_CRLS"] = str(pki_directory / "crls")
    fresh = args.rebuild or not database_exists(SITE.database)
    if fresh:
        SITE.database_create()
    else:
        SITE.manage("migrate", "--noinput", "-v", "0")  # the migrations of a newer checkout
        SITE.redis_flush()
    SITE.django_setup()
    from bulk_copy import database_size, marker_read
    from declarations_dataset import (
        AT_LIMIT,
        DATASET,
        OTHER_REQUESTS,
        Parameters,
        build,
        matches,
        schema_fingerprint,
    )
    from django.db import connection

    parameters = Parameters(
        patients=args.patients,
        doctors=args.doctors,
        declarations=args.declarations,
        schema=schema_fingerprint(),
    )
    if not matches(parameters):
        if not fresh:  # another size, or a build that did not finish: start from an empty database
            connection.close()
            SITE.database_create()
        print("building the data:", file=sys.stderr)
        build(parameters, log=lambda text: print(text, file=sys.stderr))
    marker = marker_read(DATASET)
    print(
        f"data built in {marker['seconds']:.0f} s ({marker['built_at']:%Y-%m-%d}); {database_size()}",
        file=sys.stderr,
    )
    if args.build_only:
        return 0

    root = pki_prepare(pki_directory, args.key_type)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = f"PostgreSQL {cursor.fetchone()[0]}"
    facility, doctors = cast(root, args.key_type)
    ended = leftovers_end(facility, marker["built_at"])
    if any(ended):
        print(f"ended what earlier runs left: {ended[0]} declarations, {ended[1]} requests", file=sys.stderr)
        facility, doctors = cast(root, args.key_type)
    facts = {
        "pg": pg_version,
        "build": f"{marker['seconds'] / 60:.1f} min",
        "size": database_size(),
        "other_requests": sum(OTHER_REQUESTS.values()) * args.declarations // 1_000_000,
        "at_limit": max(1, args.doctors * AT_LIMIT // 50_000),
        "spread": doctors_spread(),
        "small": doctors[0].declarations,
        "big": f"{doctors[1].declarations:,}",
        "key": {"ec": "ECDSA P-256", "rsa": "RSA-2048"}[args.key_type],
        "load_start": load_average(),
    }
    results, available = {}, {}
    wanted = lambda name: not args.only or args.only in name  # noqa: E731
    try:
        if any(wanted(step) for step in ("create", "approve", "sign")):
            patients_pick(facility, doctors, args.samples // 2 + 4)
            envelopes = []
            for doctor in doctors:
                envelopes += flows_measure(facility, doctor, args.samples, results, profile=args.profile)
                print(f"{doctor.label}: flows measured", file=sys.stderr)
            raw_measure(args.samples, envelopes, results)
        if wanted("list"):
            pages_measure(facility, doctors, args.samples, results, available, profile=args.profile)
    finally:
        leftovers_end(facility, marker["built_at"])
        SITE.redis_flush()  # the queued SMS tasks (no worker runs here)
    facts["load_end"] = load_average()
    for (key, doctor), series in sorted(results.items()):
        print(
            f"{key} [{doctor}]: median {series.median:.1f} ms, p95 {series.p95:.1f} ms, "
            f"deciles {[round(percentile(series.samples, share), 1) for share in range(10, 100, 10)]}, "
            f"max {max(series.samples, default=0):.1f} ms, statements {series.statements}",
            file=sys.stderr,
        )
        if args.sql:
            for kind, queries in series.queries.items():
                print(f"  -- {kind}:", file=sys.stderr)
                for query in queries:
                    print(f"  {float(query['time']) * 1000:6.2f} ms  {query['sql'][:300]}", file=sys.stderr)
        if args.explain and series.queries:
            explain_slowest(series.queries.get("switching") or series.queries["new"])
    text, missed = section(args, results, facts)
    print(text)
    if not args.no_write and not args.only:
        document_update("declarations", text)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
