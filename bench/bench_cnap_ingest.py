#!/usr/bin/env python
"""CNAP appeal ingestion into PostgreSQL: appeals per second from simulated CNAP endpoints to the table.

    .venv/bin/python bench/bench_cnap_ingest.py [--appeals 1000000] [--workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/ehealth_bench_cnap] [--no-write]

Creates the database if it is missing, migrates it and empties the monitoring tables; imports a
Register of 200 services (one variation each, calendar or working days) and 25 CNAPs, each with a
connected system. Starts `monitoring.simulator.CnapSimulator` in several child processes (three
CNAPs each: a simulator keeps up to 300,000 generated appeals in memory) serving a 31-day window that
ended 60 days ago (every appeal final), with as many appeals a day as make about N in all, 500 a
page. The simulators build their answers before the clock starts: generating the data is the test
rig's work, not the puller's, and a real CNAP system runs on its own machine.

Then, with W worker processes pulling CNAPs side by side (each its share, one pull run per CNAP,
through `monitoring.client.fetch_pages` and `monitoring.ingest.appeals_ingest`, one transaction a
page), measures:

1. the first pull into the empty table (end to end: HTTP, JSON, validation, upsert);
2. a re-pull of the same windows (every appeal unchanged);
3. the upsert stage alone: the pages of (1) kept in memory, the table emptied, `appeals_ingest`
   again with the same workers;
4. a raw psycopg COPY of the same rows (as ingestion writes them), a page per transaction, into an
   equivalent table (same columns, indexes and foreign keys, no upsert).

Prints a Markdown report and rewrites the CNAP ingestion section of docs/benchmarks.md. Exit status 1
if a target is missed: at least 20,000 appeals/s end to end, and the upsert at least half the COPY
rate.
"""

import argparse
import contextlib
import datetime as dt
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

from report import cpu_model, document_update  # bench/report.py (the script's folder)

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = "ehealth_portal.test_settings"
TARGET_RATE = 20_000
TARGET_COPY_SHARE = 0.5
CNAPS = 25
CNAPS_PER_SIMULATOR = 3  # 3 × 81 generated days × ~1,000 appeals stays under the simulator's cache
SERVICES = 200
PAGE_SIZE = 500
WINDOW_DAYS = 31
# Appeals in a 31-day window per appeal a day: the window's own days plus earlier appeals updated in it.
IN_WINDOW_PER_DAILY_APPEAL = 39.17
LOGIN, PASSWORD = "erepository", "pa$$word"
SEED = 20261122


def window() -> tuple[dt.date, dt.date]:
    end = dt.date.today() - dt.timedelta(days=60)
    return end - dt.timedelta(days=WINDOW_DAYS - 1), end


def cnap_codes() -> list[str]:
    return [str(1001 + number) for number in range(CNAPS)]


def service_codes() -> list[str]:
    return [f"{number:05d}" for number in range(1, SERVICES + 1)]


# --- Set-up -------------------------------------------------------------------------------------------


def child_env(url: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}


def django_setup(url: str) -> None:
    os.environ.update(child_env(url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database_prepare(url: str) -> None:
    """Create the benchmark database if it is missing, migrate it and empty the monitoring tables."""
    import subprocess

    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"],
        cwd=ROOT,
        env=child_env(url),
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_appeal_copy")
        conn.execute(
            "TRUNCATE monitoring_appeal, monitoring_quarantinedrecord, monitoring_pullrun, "
            "monitoring_cnapsystem, monitoring_joiningapplication, monitoring_servicevariation, "
            "monitoring_administrativeservice, monitoring_cnap CASCADE"
        )


def register_create(simulator_urls: dict[str, str]) -> dict[str, int]:
    """Services, CNAPs and one connected system each; {CNAP code: system id}."""
    from monitoring.models import (
        AdministrativeService,
        Cnap,
        CnapSystem,
        JoiningApplication,
        ServiceVariation,
    )

    services = AdministrativeService.objects.bulk_create(
        AdministrativeService(identifier=code, name=f"Послуга {code}") for code in service_codes()
    )
    ServiceVariation.objects.bulk_create(
        ServiceVariation(
            service=service,
            identifier="1",
            legal_term_days=(1, 5, 10, 30)[number % 4],
            legal_term_working_days=number % 2 == 1,
        )
        for number, service in enumerate(services)
    )
    systems = {}
    for code, base_url in simulator_urls.items():
        cnap = Cnap.objects.create(code=code, name=f"ЦНАП {code}", region="Київська область", state="Діючий")
        application = JoiningApplication.objects.create(
            cnap=cnap,
            organisation_edrpou="38782323",
            contact_email=f"cnap{code}@example.gov.ua",
            proposed_base_url=base_url,
            signed_content="Заява про приєднання",
            signature=b"bench",
            signer_name="Коваленко Олена Петрівна",
        )
        system = CnapSystem(cnap=cnap, application=application, name="Вулик", base_url=base_url, login=LOGIN)
        system.password = PASSWORD
        system.save()
        systems[code] = system.pk
    return systems


def copy_table_create(url: str) -> None:
    """An equivalent of the appeals table: same columns, indexes and foreign keys."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_appeal_copy (LIKE monitoring_appeal INCLUDING ALL)")
        for (definition,) in conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'monitoring_appeal'::regclass AND contype = 'f'"
        ).fetchall():
            conn.execute(f"ALTER TABLE bench_appeal_copy ADD {definition}")


# --- Simulators (child processes) ----------------------------------------------------------------------


def simulator_serve(cnaps: list[str], per_day: int, ports, stop) -> None:
    sys.path.insert(0, str(ROOT))
    from monitoring.simulator import CnapSimulator

    simulator = CnapSimulator(
        login=LOGIN,
        password=PASSWORD,
        appeals_per_day=per_day,
        page_size=PAGE_SIZE,
        service_codes=service_codes(),
        cnap_codes=cnaps,
        seed=SEED,
    ).start()
    start, end = window()
    for code in cnaps:  # build the answers now: the clock measures the puller, not the rig
        simulator._selection(code, start, end)
    ports.put({code: simulator.url_for(code) for code in cnaps})
    stop.wait()
    simulator.stop()


# --- Workers (child processes) -------------------------------------------------------------------------


def worker(url: str, systems: list[int], barrier, results) -> None:
    """Pull and ingest its systems in each phase, in step with the others through the barrier."""
    django_setup(url)
    import psycopg

    from monitoring import ingest
    from monitoring.client import fetch_pages
    from monitoring.ingest import IngestResult, appeals_ingest
    from monitoring.models import CnapSystem, PullRun

    start, end = window()
    runs = []
    for system in CnapSystem.objects.select_related("cnap").filter(pk__in=systems):
        run = PullRun.objects.create(system=system, trigger="MANUAL", window_start=start, window_end=end)
        runs.append((system, run))
    kept: list[tuple] = []  # (system, run, records) of every page of the first pull
    stats = {}

    def pull(phase: str, keep: bool) -> None:
        total, records, ingest_seconds = IngestResult(), 0, 0.0
        for system, run in runs:
            for page in fetch_pages(
                base_url=system.base_url, login=system.login, password=system.password, start=start, end=end
            ):
                began = time.perf_counter()
                total += appeals_ingest(system=system, run=run, records=page.records)
                ingest_seconds += time.perf_counter() - began
                records += len(page.records)
                if keep:
                    kept.append((system, run, page.records))
        stats[phase] = {"records": records, "ingest_seconds": ingest_seconds, **vars(total)}

    barrier.wait()  # 1: start of the first pull
    pull("first", keep=True)
    barrier.wait()  # 2
    barrier.wait()  # 3: start of the re-pull
    pull("again", keep=False)
    barrier.wait()  # 4

    barrier.wait()  # 5: the main process empties the appeals table
    barrier.wait()  # 6: start of the upsert stage alone
    total, began = IngestResult(), time.perf_counter()
    for system, run, records in kept:
        total += appeals_ingest(system=system, run=run, records=records)
    received = sum(len(records) for _system, _run, records in kept)
    stats["upsert"] = {"records": received, "ingest_seconds": time.perf_counter() - began, **vars(total)}
    barrier.wait()  # 7
    kept.clear()
    with psycopg.connect(url) as conn:
        # The rows exactly as ingestion wrote them, a page at a time.
        columns = ", ".join(column for column in ingest._COLUMNS)
        select = f"SELECT {columns} FROM monitoring_appeal WHERE system_id = ANY(%s) ORDER BY id"  # noqa: S608
        rows = conn.cursor(binary=True).execute(select, [systems]).fetchall()
        pages = [rows[i : i + PAGE_SIZE] for i in range(0, len(rows), PAGE_SIZE)]
        types = [
            info.type_code
            for info in conn.execute(f"SELECT {columns} FROM monitoring_appeal LIMIT 0").description  # noqa: S608
        ]
        conn.execute("SET synchronous_commit TO OFF")  # as ingestion does
        conn.commit()
        barrier.wait()  # 8: rows read
        barrier.wait()  # 9: start of the raw COPY
        for page in pages:
            with conn.cursor().copy(f"COPY bench_appeal_copy ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in page:
                    copy.write_row(row)
            conn.commit()
        barrier.wait()  # 10
    results.put(stats)


# --- Measuring -----------------------------------------------------------------------------------------


def settle(url: str) -> None:
    """Start each phase from a quiet machine: the previous phase's writes on disk."""
    import psycopg

    os.sync()
    with (
        psycopg.connect(url, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def measure(url: str, appeals: int, workers: int) -> dict:
    per_day = max(1, round(appeals / CNAPS / IN_WINDOW_PER_DAILY_APPEAL))
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())  # the machine may be shared
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    ports = context.Queue()
    codes = cnap_codes()
    groups = [codes[i : i + CNAPS_PER_SIMULATOR] for i in range(0, len(codes), CNAPS_PER_SIMULATOR)]
    simulators = [
        context.Process(target=simulator_serve, args=(group, per_day, ports, stop)) for group in groups
    ]
    for process in simulators:
        process.start()
    started = time.perf_counter()
    urls = {}
    for _ in simulators:
        urls.update(ports.get(timeout=600))
    print(f"{len(simulators)} simulators ready in {time.perf_counter() - started:.0f} s")
    try:
        systems = register_create(urls)
        copy_table_create(url)
        barrier = context.Barrier(workers + 1)
        results = context.Queue()
        ids = [systems[code] for code in codes]
        children = [
            context.Process(target=worker, args=(url, ids[number::workers], barrier, results))
            for number in range(workers)
        ]
        for child in children:
            child.start()
        from django.db import connection

        connection.close()
        marks = []

        def step() -> None:
            barrier.wait()
            marks.append(time.perf_counter())

        step()  # 1
        step()  # 2
        settle(url)
        step()  # 3
        step()  # 4
        step()  # 5
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE monitoring_appeal")
        settle(url)
        step()  # 6
        step()  # 7
        step()  # 8
        settle(url)
        step()  # 9
        step()  # 10
        stats = [results.get(timeout=600) for _ in children]
        for child in children:
            child.join()
    finally:
        stop.set()
        for process in simulators:
            process.join(timeout=10)
    phases = {}
    for phase, (begin, finish) in {
        "first": (0, 1),
        "again": (2, 3),
        "upsert": (5, 6),
        "copy": (8, 9),
    }.items():
        seconds = marks[finish] - marks[begin]
        source = "upsert" if phase == "copy" else phase
        summed = {key: sum(s[source][key] for s in stats) for key in stats[0][source]}
        phases[phase] = {**summed, "seconds": seconds, "rate": summed["records"] / seconds}
    return {
        "per_day": per_day,
        "simulators": len(simulators),
        "workers": workers,
        "phases": phases,
        "load": load,
    }


# --- Report --------------------------------------------------------------------------------------------


def machine(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"{cpu_model()}, nproc {os.cpu_count()}; Python {platform.python_version()}; PostgreSQL {server} on the "
        f"same machine; psycopg {psycopg.__version__}"
    )


def meets_targets(result: dict) -> tuple[bool, bool]:
    phases = result["phases"]
    return (
        phases["first"]["rate"] >= TARGET_RATE,
        phases["upsert"]["rate"] >= TARGET_COPY_SHARE * phases["copy"]["rate"],
    )


def report(result: dict, url: str) -> str:
    phases = result["phases"]
    first, again, upsert, copy = (phases[name] for name in ("first", "again", "upsert", "copy"))
    end_to_end_met, copy_share_met = meets_targets(result)
    rows = [
        "| Phase | Appeals | Created | Updated | Unchanged | Quarantined | Seconds | Appeals/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, phase, counted in (
        ("First pull, end to end (empty table)", first, True),
        ("Re-pull of the same windows, end to end", again, True),
        ("Upsert stage alone (`appeals_ingest`, pages in memory)", upsert, True),
        ("Raw COPY of the same rows into an equivalent table", copy, False),
    ):
        counts = (
            [f"{phase[key]:,}" for key in ("created", "updated", "unchanged", "quarantined")]
            if counted
            else ["—"] * 4
        )
        rows.append(
            f"| {label} | {phase['records']:,} | {' | '.join(counts)} | {phase['seconds']:.1f} | {phase['rate']:,.0f} |"
        )
    share = upsert["rate"] / copy["rate"]
    start, end = window()
    return "\n".join(
        [
            "## CNAP appeal ingestion (`appeals_ingest`)",
            "",
            f"Measured {dt.date.today().isoformat()} by `bench/bench_cnap_ingest.py`. Machine: {machine(url)}.",
            "",
            f"{CNAPS} simulated CNAPs (`monitoring.simulator`, {result['simulators']} simulator processes,"
            f" {result['per_day']:,} appeals a day each) serve the {WINDOW_DAYS}-day window {start}…{end}"
            f" at {PAGE_SIZE} appeals a page; a Register of {SERVICES} services with one variation each."
            " The simulators build their answers before the clock starts (generating data is the rig's"
            " work; a real CNAP system runs on its own machine). "
            f"{result['workers']} worker processes pull the CNAPs side by side, each its share in turn, one"
            " pull run per CNAP: `monitoring.client.fetch_pages` (urllib3, keep-alive, JSON) then"
            " `appeals_ingest` per page, one transaction a page (validation, COPY into a temporary table,"
            " `INSERT … ON CONFLICT … WHERE` newer or different, quarantine clean-up). The upsert stage"
            " alone repeats the first pull's pages from memory into the emptied table; the raw COPY writes"
            " the same rows (as ingestion wrote them, read back), binary, a page per transaction, into a"
            " table with the same columns, indexes and foreign keys: the most the database takes on this"
            " machine with nothing else to do. During the first pull each worker spent"
            f" {first['ingest_seconds'] / result['workers'] / first['seconds']:.0%} of its wall time inside"
            " `appeals_ingest` (the rest: HTTP and JSON in the client)."
            f" Load average when the run started: {result['load']}.",
            "",
            *rows,
            "",
            f"Upsert / raw COPY: {share:.0%}.",
            "",
            f"Targets: at least {TARGET_RATE:,} appeals/s end to end: {'met' if end_to_end_met else 'MISSED'};"
            f" upsert at least {TARGET_COPY_SHARE:.0%} of the COPY rate: {'met' if copy_share_met else 'MISSED'}.",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals in all windows (about)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="pulling processes")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/ehealth_bench_cnap")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    database_prepare(args.database_url)
    django_setup(args.database_url)
    result = measure(args.database_url, args.appeals, args.workers)
    for name, phase in result["phases"].items():
        print(
            name,
            {key: round(value, 2) if isinstance(value, float) else value for key, value in phase.items()},
        )
    section = report(result, args.database_url)
    print(section)
    if not args.no_write:
        document_update("cnap-ingest", section)
    return 0 if all(meets_targets(result)) else 1


if __name__ == "__main__":
    sys.exit(main())
