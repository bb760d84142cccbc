#!/usr/bin/env python
"""The daily pull of 2,500 CNAP systems through Celery: wall time until every run has succeeded.

    .venv/bin/python bench/bench_cnap_pull.py [--cnaps 2500] [--concurrency 4] [--appeals-per-day 20]
        [--database-url postgres://postgres@127.0.0.1:5432/ehealth_bench_cnap_pull]
        [--broker-url redis://127.0.0.1:6379/11] [--no-write]

Creates the database if it is missing, migrates it and empties the monitoring tables; imports a
Register of 200 services (one variation each) and N CNAPs, each with its own connected system.
Starts `monitoring.simulator.CnapSimulator` in child processes (250 CNAPs each, so that a simulator
keeps every generated appeal in memory) and lets them generate the appeals before the clock starts;
serving (choosing a window's appeals, rendering the still-changing ones) stays inside the clock.
Starts a real Celery worker (prefork, the given concurrency) on the Redis broker, purges its queue,
then starts the clock and calls `pull_runs_schedule()`, the daily beat task's service: one SCHEDULE
run per system for [today − 7 days, today], each queued on commit and executed by
`pull_run_execute_task` (client, `appeals_ingest` per page, counters). The clock stops when every
run has SUCCEEDED (the last `finished_at`). Prints a Markdown report and rewrites the CNAP pull
section of docs/benchmarks.md. Exit status 1 if a run failed or the target (under 2 minutes) is missed.
"""

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from report import cpu_model, document_update  # bench/report.py (the script's folder)

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = "ehealth_portal.test_settings"
TARGET_SECONDS = 120
CNAPS_PER_SIMULATOR = 250  # 250 × 58 generated days × 20 appeals stays under a simulator's cache
SERVICES = 200
LOGIN, PASSWORD = "erepository", "pa$$word"
SEED = 20261122


def service_codes() -> list[str]:
    return [f"{number:05d}" for number in range(1, SERVICES + 1)]


def child_env(url: str, broker: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
    }


def database_prepare(url: str, broker: str) -> None:
    """Create the benchmark database if it is missing, migrate it and empty the monitoring tables."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"],
        cwd=ROOT,
        env=child_env(url, broker),
        check=True,
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE monitoring_appeal, monitoring_quarantinedrecord, monitoring_pullrun, "
            "monitoring_cnapsystem, monitoring_joiningapplication, monitoring_servicevariation, "
            "monitoring_administrativeservice, monitoring_cnap CASCADE"
        )


def register_create(simulator_urls: dict[str, str]) -> None:
    """Services, CNAPs and one connected system each (bulk: set-up is not measured)."""
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
    cnaps = Cnap.objects.bulk_create(
        Cnap(code=code, name=f"ЦНАП {code}", region="Київська область", state="Діючий")
        for code in simulator_urls
    )
    applications = JoiningApplication.objects.bulk_create(
        JoiningApplication(
            cnap=cnap,
            organisation_edrpou="38782323",
            contact_email=f"cnap{cnap.code}@example.gov.ua",
            proposed_base_url=simulator_urls[cnap.code],
            signed_content="Заява про приєднання",
            signature=b"bench",
            signer_name="Коваленко Олена Петрівна",
        )
        for cnap in cnaps
    )
    systems = []
    for cnap, application in zip(cnaps, applications, strict=True):
        system = CnapSystem(
            cnap=cnap, application=application, name="Вулик", base_url=simulator_urls[cnap.code], login=LOGIN
        )
        system.password = PASSWORD
        systems.append(system)
    CnapSystem.objects.bulk_create(systems)


# --- Simulators (child processes) ----------------------------------------------------------------------


def simulator_serve(cnaps: list[str], per_day: int, start: dt.date, end: dt.date, ports, stop) -> None:
    sys.path.insert(0, str(ROOT))
    from monitoring.simulator import CnapSimulator

    simulator = CnapSimulator(
        login=LOGIN,
        password=PASSWORD,
        appeals_per_day=per_day,
        service_codes=service_codes(),
        cnap_codes=cnaps,
        seed=SEED,
    ).start()
    for code in cnaps:  # generate the appeals now: the clock measures the puller, not the rig
        simulator._selection(code, start, end)
    ports.put({code: simulator.url_for(code) for code in cnaps})
    stop.wait()
    simulator.stop()


# --- The worker ----------------------------------------------------------------------------------------


def worker_start(url: str, broker: str, concurrency: int, log: Path) -> subprocess.Popen:
    from ehealth_portal.celery import app

    app.conf.broker_url = broker
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ehealth_portal",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname=bench-pull@%h",
        ],
        cwd=ROOT,
        env=child_env(url, broker),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5)) < 1:
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise SystemExit(f"the Celery worker did not start; see {log}")
    return worker


# --- Measuring -----------------------------------------------------------------------------------------


def measure(url: str, broker: str, cnaps: int, concurrency: int, per_day: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Max, Min, Q, Sum
    from django.utils import timezone

    from ehealth_portal.celery import app
    from monitoring.models import PullRun
    from monitoring.pulling import pull_runs_schedule

    today = timezone.localdate()
    start = today - dt.timedelta(days=settings.MONITORING_PULL_WINDOW_DAYS)
    codes = [str(100001 + number) for number in range(cnaps)]
    groups = [codes[i : i + CNAPS_PER_SIMULATOR] for i in range(0, len(codes), CNAPS_PER_SIMULATOR)]
    context = multiprocessing.get_context("spawn")
    stop, ports = context.Event(), context.Queue()
    simulators = [
        context.Process(target=simulator_serve, args=(group, per_day, start, today, ports, stop))
        for group in groups
    ]
    for process in simulators:
        process.start()
    worker = None
    try:
        began = time.perf_counter()
        urls = {}
        for _ in simulators:
            urls.update(ports.get(timeout=900))
        print(f"{len(simulators)} simulators ready in {time.perf_counter() - began:.0f} s")
        register_create(urls)
        log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-cnap-pull-worker.log"
        worker = worker_start(url, broker, concurrency, log)
        app.conf.task_always_eager = False  # the test settings run tasks in-process; here the worker does
        connection.close()

        load = " ".join(f"{value:.1f}" for value in os.getloadavg())  # the machine may be shared
        clock = timezone.now()
        runs = pull_runs_schedule(today=today)
        scheduled = (timezone.now() - clock).total_seconds()
        print(f"{len(runs)} runs scheduled in {scheduled:.1f} s")
        deadline = time.monotonic() + 20 * TARGET_SECONDS
        while time.monotonic() < deadline:
            counts = PullRun.objects.aggregate(
                done=Count("pk", filter=Q(status=PullRun.Status.SUCCEEDED)),
                failed=Count("pk", filter=Q(status=PullRun.Status.FAILED)),
            )
            if counts["done"] + counts["failed"] == len(runs):
                break
            time.sleep(0.5)
        totals = PullRun.objects.aggregate(
            succeeded=Count("pk", filter=Q(status=PullRun.Status.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=PullRun.Status.FAILED)),
            unfinished=Count("pk", filter=~Q(status__in=[PullRun.Status.SUCCEEDED, PullRun.Status.FAILED])),
            pages=Sum("pages"),
            received=Sum("records_received"),
            created=Sum("records_created"),
            updated=Sum("records_updated"),
            quarantined=Sum("records_quarantined"),
            attempts=Sum("attempts"),
            first_start=Min("started_at"),
            last_finish=Max("finished_at"),
        )
        errors = list(
            PullRun.objects.filter(status=PullRun.Status.FAILED)
            .values_list("error_code", flat=True)
            .distinct()[:5]
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        stop.set()
        for process in simulators:
            process.join(timeout=10)
    seconds = (totals["last_finish"] - clock).total_seconds() if totals["last_finish"] else float("inf")
    return {
        **totals,
        "runs": len(runs),
        "errors": errors,
        "scheduled_seconds": scheduled,
        "seconds": seconds,
        "window": (start, today),
        "cnaps": cnaps,
        "simulators": len(simulators),
        "concurrency": concurrency,
        "per_day": per_day,
        "load": load,
    }


# --- Report --------------------------------------------------------------------------------------------


def machine(url: str) -> str:
    import psycopg
    import redis

    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"{cpu_model()}, nproc {os.cpu_count()}; Python {platform.python_version()}; PostgreSQL {server} and "
        f"Redis on the same machine; psycopg {psycopg.__version__}; redis-py {redis.__version__}"
    )


def meets_target(result: dict) -> bool:
    return result["succeeded"] == result["runs"] and result["seconds"] < TARGET_SECONDS


def report(result: dict, url: str) -> str:
    start, end = result["window"]
    rate = result["received"] / result["seconds"] if result["received"] else 0
    failures = f" Failed runs' errors: {', '.join(result['errors'])}." if result["errors"] else ""
    return "\n".join(
        [
            "## Daily pull of every CNAP through Celery (`pull_runs_schedule`)",
            "",
            f"Measured {dt.date.today().isoformat()} by `bench/bench_cnap_pull.py`. Machine: {machine(url)}.",
            "",
            f"{result['cnaps']:,} simulated CNAPs, each its own connected system (`monitoring.simulator`,"
            f" {result['simulators']} simulator processes, {result['per_day']} appeals a day per CNAP), a"
            f" Register of {SERVICES} services. One Celery worker on Redis, prefork pool, concurrency"
            f" {result['concurrency']}. The clock starts at `pull_runs_schedule()` (the daily beat task's"
            f" service: one SCHEDULE run per system for {start}…{end}, each queued on commit) and stops at"
            " the last run's `finished_at`; every run goes through `pull_run_execute_task` (guarded client,"
            " `appeals_ingest` per page, counters, system health). The simulators generate their appeals"
            " before the clock starts; answering requests is inside it. Load average when the clock"
            f" started: {result['load']}.",
            "",
            "| Runs | Succeeded | Failed | Attempts | Pages | Appeals received | Created | Quarantined"
            " | Scheduling | Wall time | Appeals/s | Target |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {result['runs']:,} | {result['succeeded']:,} | {result['failed']:,} | {result['attempts']:,}"
            f" | {result['pages']:,} | {result['received']:,} | {result['created']:,} | {result['quarantined']:,}"
            f" | {result['scheduled_seconds']:.1f} s | {result['seconds']:.1f} s | {rate:,.0f}"
            f" | {'met' if meets_target(result) else 'MISSED'} |",
            "",
            f"Target: every run SUCCEEDED in under {TARGET_SECONDS} s:"
            f" {'met' if meets_target(result) else 'MISSED'}.{failures}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cnaps", type=int, default=2500)
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--appeals-per-day", type=int, default=20, help="per CNAP")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/ehealth_bench_cnap_pull"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    database_prepare(args.database_url, args.broker_url)
    os.environ.update(child_env(args.database_url, args.broker_url))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    result = measure(args.database_url, args.broker_url, args.cnaps, args.concurrency, args.appeals_per_day)
    print({key: value for key, value in result.items() if key not in ("first_start", "last_finish")})
    section = report(result, args.database_url)
    print(section)
    if not args.no_write:
        document_update("cnap-pull", section)
    return 0 if meets_target(result) else 1


if __name__ == "__main__":
    sys.exit(main())
