#!/usr/bin/env python
"""A facility's staff at scale: 10,000 employees and 500 places of service, under load, beside bare endpoints.

    .venv/bin/python bench/bench_staff.py [--employees 10000] [--divisions 500] [--other-facilities 200]
        [--seconds 10] [--connections 16] [--rounds 2] [--reuse] [--only TEXT] [--explain] [--profile] [--no-load] [--no-write]

Builds a PostgreSQL database (`ehealth_staffbench`, dropped and made anew unless --reuse, which migrates
it) with the dictionaries, one facility with N employees and M places of service among small facilities
(bench/staff_dataset.py), and its head's login (a session) and API key. Then, in this process, each path's
SQL statements (a repeated request, and the first one after a change of the public registry — a doctor of
a small facility saved, as any write of a facility, place or employee replaces the registry's cached
renderings — with its time, median of 5). Then gunicorn (2 sync workers, production
settings, Redis cache) and wrk against each path, each round in turn: requests/s as a share of the bare
endpoint of its kind (`/bench/bare` for JSON, `/bench/bare-page` — a signed-in page extending base.html —
for pages), and the server time of every measured request (gunicorn's own, without the wait for a free
worker: bench/loadrun.py). Target: server p95 under 150 ms on every path, no non-2xx answer.
--explain prints EXPLAIN ANALYZE of each path's slowest statements; --profile a cProfile of each path
(after a change). Prints a Markdown section and rewrites the staff section of docs/benchmarks.md; exit
status 1 when a target is missed. Needs Debian's `wrk`, PostgreSQL and Redis (db 10) on 127.0.0.1.
"""

import argparse
import cProfile
import datetime as dt
import os
import platform
import pstats
import shutil
import statistics
import sys
import time
import urllib.parse

from bench_api import KYIV_BBOX  # bench/ (the script's folder)
from loadrun import Site, load_average
from report import cpu_model, document_update

SITE = Site(
    database="ehealth_staffbench",
    cache_url="redis://127.0.0.1:6379/10",
    broker_url="redis://127.0.0.1:6379/10",
    port=8473,
    settings_module="staff_site_settings",
    name="staff",
)
P95_TARGET_MS = 150.0
SEARCH = "Шевченко"  # one surname in 40: about 250 of the 10,000
# (label, path — {division} is a place of the facility —, who asks: None, "session" or "key", its bare endpoint)
PATHS = [
    ("bare DRF endpoint", "/bench/bare", None, None),
    ("bare page (signed in, base.html)", "/bench/bare-page", "session", None),
    ("`/cabinet/staff/`", "/cabinet/staff/", "session", "/bench/bare-page"),
    ("`/cabinet/staff/?employee_type=DOCTOR&status=APPROVED&division=…`",
     "/cabinet/staff/?employee_type=DOCTOR&status=APPROVED&division={division}", "session", "/bench/bare-page"),
    (f"`/cabinet/staff/?q={SEARCH}`", f"/cabinet/staff/?q={urllib.parse.quote(SEARCH)}", "session",
     "/bench/bare-page"),
    ("`/cabinet/staff/?page=200`", "/cabinet/staff/?page=200", "session", "/bench/bare-page"),
    ("`/cabinet/staff/invitations/`", "/cabinet/staff/invitations/", "session", "/bench/bare-page"),
    ("`/cabinet/` (the facility with its places)", "/cabinet/", "session", "/bench/bare-page"),
    ("`GET /api/employees`", "/api/employees", "key", "/bench/bare"),
    ("`GET /api/employees?page_size=100`", "/api/employees?page_size=100", "key", "/bench/bare"),
    ("`GET /api/employees?employee_type=DOCTOR&page_size=100`", "/api/employees?employee_type=DOCTOR&page_size=100",
     "key", "/bench/bare"),
    ("`GET /api/divisions`", "/api/divisions", "key", "/bench/bare"),
    ("`GET /map/divisions.geojson` (the country)", "/map/divisions.geojson", None, "/bench/bare"),
    ("`GET /map/divisions.geojson?bbox=<Kyiv>`", f"/map/divisions.geojson?bbox={KYIV_BBOX}", None, "/bench/bare"),
]  # fmt: skip


def credentials(head) -> dict:
    """The head's session cookie (a login as the cabinet makes it) and an API key, as request headers."""
    from django.conf import settings
    from django.test import Client

    from ehealth_portal.models import ApiKey

    client = Client()
    client.force_login(head, backend="django.contrib.auth.backends.ModelBackend")
    _api_key, key = ApiKey.objects.create_key(name="staffbench", user=head)
    return {
        None: {},
        "session": {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        },
        "key": {"Authorization": f"Api-Key {key}"},
    }


def request_in_process(path: str, headers: dict):
    from django.test import Client

    client = Client(**{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
    return client.get(path)


def public_registry_changed() -> None:
    """A write of the public registry as the portal makes them: a doctor of one of the small facilities
    saved (a place on the map shows them), which replaces every cached rendering built from the registry
    (its version), as any write of a facility, a place or an employee does; seen as from another process."""
    from staff_dataset import EDRPOU

    from ehealth_portal.caching import local_caches_clear
    from registry.models import Employee

    doctor = (
        Employee.objects.filter(employee_type="DOCTOR", is_active=True)
        .exclude(legal_entity__edrpou=EDRPOU)
        .order_by("?")
        .first()
    )
    doctor.save()
    local_caches_clear()


def cost_in_process(path: str, headers: dict, *, explain: bool, profile: bool) -> dict:
    """Statements of a repeated request; statements and time of the first request after a change (median of 5)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    response = request_in_process(path, headers)
    reset_queries()  # a request starts by emptying the log: a context must start with it empty
    with CaptureQueriesContext(connection) as warm:
        response = request_in_process(path, headers)
    warm_statements = len(warm)  # now: the context reads the connection's log, which the next request empties
    warm_samples = []
    for _attempt in range(5):
        start = time.perf_counter()
        request_in_process(path, headers)
        warm_samples.append((time.perf_counter() - start) * 1000)
    samples = []
    for _attempt in range(5):
        public_registry_changed()
        reset_queries()
        with CaptureQueriesContext(connection) as cold:
            start = time.perf_counter()
            request_in_process(path, headers)
            samples.append((time.perf_counter() - start) * 1000)
        cold_queries = list(cold.captured_queries)
    if explain:
        explain_slowest(cold_queries)
    if profile:
        public_registry_changed()
        profiler = cProfile.Profile()
        profiler.runcall(request_in_process, path, headers)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    return {
        "status": response.status_code,
        "bytes": len(response.content),
        "warm_statements": warm_statements,
        "cold_statements": len(cold_queries),
        "warm_ms": statistics.median(warm_samples),
        "cold_ms": statistics.median(samples),
    }


def explain_slowest(queries: list[dict], count: int = 3) -> None:
    from django.db import connection

    for query in sorted(queries, key=lambda query: -float(query["time"]))[:count]:
        print(f"\n-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:600]}")
        if query["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n".join(row[0][:240] for row in cursor.fetchall()))


def worst(results: list[dict], key: str, *, high: bool = True) -> float:
    return (max if high else min)(result[key] for result in results)


def section(args, paths, costs, rounds, started_load, pg_version) -> tuple[str, list[str]]:
    missed = []
    lines = [
        "| Path | req/s | share of its bare | server p50 | server p95 | server p99 | server p95 by round "
        "| wrk p95 | SQL: repeat / after a change | in-process: repeat / after a change | size | non-2xx or timed out |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, path, _auth, bare in paths:
        results = rounds[path]
        shares = (
            [result["rps"] / rounds[bare][index]["rps"] for index, result in enumerate(results)]
            if bare
            else [1.0]
        )
        failures = sum(result["failures"] + result["timeouts"] for result in results)
        p95 = worst(results, "server_p95")
        cost = costs.get(path)
        if bare and (p95 >= P95_TARGET_MS or failures or cost["status"] != 200):
            missed.append(label)
        elif bare and cost["cold_ms"] >= P95_TARGET_MS:  # served from a cache that any write replaces
            missed.append(f"{label} after a change")
        by_round = ", ".join(f"{result['server_p95']:.1f}" for result in results)
        lines.append(
            f"| {label} | {worst(results, 'rps', high=False):,.0f} | {min(shares):.2f} "
            f"| {worst(results, 'server_p50'):.1f} ms | {p95:.1f} ms | {worst(results, 'server_p99'):.1f} ms "
            f"| {by_round} "
            f"| {worst(results, 'p95'):.1f} ms "
            + (
                f"| {cost['warm_statements']} / {cost['cold_statements']} "
                f"| {cost['warm_ms']:.0f} / {cost['cold_ms']:.0f} ms "
                f"| {cost['bytes'] / 1024:,.0f} KB "
                if cost
                else "| | | "
            )
            + f"| {failures} |"
        )
    verdict = "all targets met" if not missed else "missed: " + ", ".join(missed)
    loads = [result["load"] for results in rounds.values() for result in results]
    text = f"""## Staff: {args.employees:,} employees, {args.divisions:,} divisions

Measured {dt.date.today().isoformat()} by `bench/bench_staff.py` (`.venv/bin/python bench/bench_staff.py`). Machine: {cpu_model()}, nproc {os.cpu_count()}; Python {platform.python_version()}; {pg_version} and Redis on the same machine; gunicorn with 2 sync workers, production settings (DEBUG off, Redis cache); wrk with {args.connections} connections, {args.seconds} s a path after a 2 s warm-up, all on loopback (the load generator shares the cores with the server). {args.rounds} rounds, one path after another in each; the table shows the worse round of each figure. Load average (1, 5, 15 min) when the run started: {started_load}; the 1-minute load as each path ended: {min(loads):.1f}–{max(loads):.1f}.

Data (`bench/staff_dataset.py`): one facility with {args.employees:,} employees — about 70% doctors (a place of service each, eHealth's doctor block, the main speciality FAMILY_DOCTOR, THERAPIST or PEDIATRICIAN), the rest HR, ADMIN, ACCOUNTANT and ASSISTANT, about 5% dismissed, every one with a login — and {args.divisions:,} places of service in Ukraine's towns (4% inactive), 300 invitations; beside it {args.other_facilities:,} small facilities (a place, a head and 5 doctors each). The head asks: signed in (pages) or with an API key (API). Pages are compared with a bare signed-in page extending base.html, JSON with the bare DRF endpoint (no authentication, no queries), on the same server in the same run.

Server time is gunicorn's own request time (`%(D)s`: from the worker taking the request to the last byte written) of every request in the measured window; wrk's p95 adds the wait for one of the 2 workers ({args.connections} connections). SQL: statements of a repeated request, and of the first request after a change of the public registry (a doctor of a small facility saved, so one place on the country's map changes; any write of a facility, place or employee replaces the registry's cached renderings), with their in-process times (median of 5, one request at a time, in this script's process); size: the answer's body. Target: server p95 under {P95_TARGET_MS:.0f} ms and no non-2xx answer; a path served from a cache (the map) also its first request after a change.

{chr(10).join(lines)}

Result: {verdict}."""
    return text, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--divisions", type=int, default=500)
    parser.add_argument("--other-facilities", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep the database a previous run built")
    parser.add_argument(
        "--only", help="only the paths whose label or path contains this (and their bare ones)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each path's slowest statements"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each path (the first request after a change)"
    )
    parser.add_argument("--no-load", action="store_true", help="in-process costs only: no gunicorn, no wrk")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    started_load = load_average()
    if not args.reuse:
        SITE.database_create()
    SITE.django_setup()
    from django.db import connection
    from staff_dataset import EDRPOU, generate

    from registry.models import LegalEntity

    if args.reuse:
        SITE.manage("migrate", "--noinput", "-v", "0")  # the indexes of a newer checkout
        SITE.redis_flush()
        facility = LegalEntity.objects.get(edrpou=EDRPOU)
        head = facility.employees.get(employee_type="OWNER").party.user
    else:
        start = time.perf_counter()
        facility, head = generate(
            employees=args.employees, divisions=args.divisions, other_facilities=args.other_facilities
        )
        print(f"data generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = f"PostgreSQL {cursor.fetchone()[0]}"
    division = facility.divisions.filter(status="ACTIVE").order_by("name").first()
    headers = credentials(head)
    paths = [
        (label, path.replace("{division}", str(division.pk)), auth, bare) for label, path, auth, bare in PATHS
    ]
    if args.only:
        chosen = [entry for entry in paths if args.only in entry[0] or args.only in entry[1]]
        needed = {bare for *_rest, bare in chosen}
        paths = [entry for entry in paths if entry in chosen or entry[1] in needed]
    costs = {}
    for label, path, auth, bare in paths:
        if bare is not None:
            costs[path] = cost_in_process(path, headers[auth], explain=args.explain, profile=args.profile)
            print(f"{label}: {costs[path]}", file=sys.stderr)
    if args.no_load:
        return 0
    rounds = {path: [] for _label, path, _auth, _bare in paths}
    SITE.server_start()
    try:
        for _round in range(args.rounds):
            for label, path, auth, _bare in paths:
                wrk_headers = [f"{name}: {value}" for name, value in headers[auth].items()]
                result = SITE.measure(
                    path, seconds=args.seconds, connections=args.connections, headers=wrk_headers
                )
                result["load"] = float(load_average().split()[0])  # the minute's load as the path ended
                rounds[path].append(result)
                print(f"{label}: {result}", file=sys.stderr)
    finally:
        SITE.server_stop()
    text, missed = section(args, paths, costs, rounds, started_load, pg_version)
    print(text)
    if not args.no_write and not args.only:
        document_update("staff", text)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
