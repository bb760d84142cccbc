#!/usr/bin/env python
"""Read paths under load: gunicorn (2 workers) and wrk (16 connections) on loopback, beside a bare endpoint.

    .venv/bin/python bench/bench_api.py [--facilities 5000] [--seconds 10] [--connections 16] [--no-write]

Builds a PostgreSQL database (`ehealth_bench_api`, dropped and made anew) with the dictionaries and
N facilities with one division each, starts gunicorn on 127.0.0.1 with the production settings (Redis
cache), and runs wrk against each read path and against `/bench/bare` — a DRF view returning 20 small
objects with no authentication and no queries — in the same run. Each path's throughput is reported as a
share of the bare endpoint's, with p50/p99 latency. It also measures one registration through
`PUT /api/legal_entities` in-process: SQL statements and CPU time (signature verification included).
Prints a Markdown table and rewrites the API section of docs/benchmarks.md; exit status 1 when a target is
missed. Needs Debian's `wrk` (apt-get install wrk), PostgreSQL and Redis on 127.0.0.1.
"""

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from report import cpu_model, document_update  # bench/report.py (the script's folder)

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATABASE = "ehealth_bench_api"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
CACHE_URL = "redis://127.0.0.1:6379/13"
BROKER_URL = "redis://127.0.0.1:6379/12"
PORT = 8471
KYIV_BBOX = "30.2,50.3,30.8,50.6"
# (label, path, needs the API key, target share of the bare endpoint)
PATHS = [
    ("bare DRF endpoint", "/bench/bare", False, None),
    ("`GET /api/dictionaries`", "/api/dictionaries", False, 0.60),
    ("`GET /api/legal_entities?page_size=50`", "/api/legal_entities?page_size=50", True, 0.20),
    ("`GET /api/legal_entities/{id}`", "/api/legal_entities/{id}", True, 0.40),
    ("`GET /facilities/?q=Центр`", "/facilities/?q=%D0%A6%D0%B5%D0%BD%D1%82%D1%80", False, 0.30),
    ("`GET /map/divisions.geojson?bbox=<Kyiv>`", f"/map/divisions.geojson?bbox={KYIV_BBOX}", False, 0.40),
]
P99_TARGET_MS = 50.0
REGISTRATION_TARGETS = {"statements": 20, "cpu_ms": 25.0}


def environment() -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "CACHE_URL": CACHE_URL,
        "DJANGO_SETTINGS_MODULE": "api_site_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
        # As in production, tasks (the invitation email) go to the broker; no worker runs them here.
        "CELERY_BROKER_URL": BROKER_URL,
    }
    env.pop("DJANGO_DEBUG", None)
    return env


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment(), check=True)


def database_create() -> None:
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    subprocess.run(
        ["redis-cli", "-n", CACHE_URL.rsplit("/", 1)[1], "flushdb"], check=True, stdout=subprocess.DEVNULL
    )
    manage("migrate", "--noinput", "-v", "0")
    manage("load_dictionaries")


def django_setup() -> None:
    os.environ.update({key: value for key, value in environment().items() if key != "PYTHONPATH"})
    sys.path[:0] = [str(BENCH), str(ROOT)]
    import django

    django.setup()


def data_generate(facilities: int) -> tuple[str, str]:
    """N facilities with one division each around Kyiv and Lviv; returns (an API key, a facility id)."""
    import random

    from django.db import connection

    from ehealth_portal.models import ApiKey, User
    from registry.models import Division, Employee, LegalEntity, Party

    rng = random.Random(7)
    operator = User.objects.create_superuser(email="bench@ehealth.localhost", password="bench-operator-2026")
    _api_key, key = ApiKey.objects.create_key(name="bench", user=operator)
    words = ["Центр", "Клініка", "Амбулаторія", "Медичний центр", "Сімейна медицина"]
    # Places of service spread over the regional centres, a share each (Kyiv one of 24, as in the country).
    cities = [
        ("Київ", 50.45, 30.52), ("Львів", 49.84, 24.03), ("Одеса", 46.48, 30.72), ("Харків", 49.99, 36.23),
        ("Дніпро", 48.46, 35.04), ("Запоріжжя", 47.84, 35.14), ("Вінниця", 49.23, 28.47), ("Полтава", 49.59, 34.55),
        ("Чернігів", 51.49, 31.29), ("Суми", 50.91, 34.80), ("Житомир", 50.25, 28.66), ("Рівне", 50.62, 26.25),
        ("Луцьк", 50.75, 25.33), ("Тернопіль", 49.55, 25.59), ("Хмельницький", 49.42, 26.99),
        ("Чернівці", 48.29, 25.94), ("Ужгород", 48.62, 22.29), ("Івано-Франківськ", 48.92, 24.71),
        ("Черкаси", 49.44, 32.06), ("Кропивницький", 48.51, 32.26), ("Миколаїв", 46.98, 31.99),
        ("Херсон", 46.64, 32.61), ("Біла Церква", 49.80, 30.11), ("Кривий Ріг", 47.91, 33.39),
    ]  # fmt: skip
    entities, divisions = [], []
    for number in range(facilities):
        city, latitude, longitude = cities[number % len(cities)]
        address = {
            "type": "REGISTRATION",
            "country": "UA",
            "area": "М.КИЇВ" if city == "Київ" else f"{city.upper()} (ОБЛАСНИЙ ЦЕНТР)",
            "settlement": city,
            "settlement_type": "CITY",
            "street_type": "STREET",
            "street": "Хрещатик",
            "building": str(number % 200 + 1),
            "zip": "01001",
        }
        name = f"{words[number % len(words)]} первинної допомоги № {number}"
        entity = LegalEntity(
            edrpou=f"{10000000 + number}",
            name=f'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "{name.upper()}"',
            short_name=name,
            public_name=name,
            legal_form="150",
            owner_property_type="state",
            kveds=["86.21", "86.10"],
            email=f"clinic{number}@example.com",
            phones=[{"type": "MOBILE", "number": f"+38067{number:07d}"}],
            addresses=[address],
            license={
                "type": "MSP",
                "license_number": f"LIC-{number}",
                "issued_by": "МОЗ України",
                "issued_date": "2020-01-01",
                "active_from_date": "2020-01-01",
                "order_no": f"{number}",
                "what_licensed": "медична практика",
            },
            accreditation={"category": "FIRST", "order_no": f"A-{number}", "order_date": "2021-01-01"},
            nhs_verified=number % 2 == 0,
        )
        entities.append(entity)
        divisions.append(
            Division(
                legal_entity=entity,
                name=f"Амбулаторія № {number}",
                type="CLINIC",
                addresses=[{**address, "type": "RESIDENCE"}],
                phones=entity.phones,
                email=entity.email,
                latitude=round(latitude + rng.gauss(0, 0.08), 6),
                longitude=round(longitude + rng.gauss(0, 0.12), 6),
            )
        )
    heads = [
        Party(
            last_name="Коваленко",
            first_name="Олена",
            second_name="Петрівна",
            birth_date=dt.date(1970, 1, 1) + dt.timedelta(days=number),
            gender="FEMALE",
            tax_id=f"{2000000000 + number}",
        )
        for number in range(facilities)
    ]
    LegalEntity.objects.bulk_create(entities, batch_size=1000)
    Division.objects.bulk_create(divisions, batch_size=1000)
    Party.objects.bulk_create(heads, batch_size=1000)
    # Public lists and the map show a facility once its head has confirmed (an active OWNER employee).
    Employee.objects.bulk_create(
        [
            Employee(
                legal_entity=entity,
                division=division,
                party=head,
                employee_type="OWNER",
                position="P1",
                start_date=dt.date(2026, 1, 1),
            )
            for entity, division, head in zip(entities, divisions, heads, strict=True)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:  # statistics and visibility map, as autovacuum would leave them
        cursor.execute("VACUUM ANALYZE")
    return key, str(entities[len(entities) // 2].pk)


def server_start() -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "ehealth_portal.wsgi",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--log-level",
        "warning",
    ]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-api-gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        command, cwd=ROOT, env=environment(), start_new_session=True, stdout=log, stderr=subprocess.STDOUT
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/bare", timeout=1).read()
            return server
        except OSError:
            time.sleep(0.2)
    server_stop(server)
    sys.exit("gunicorn did not start")


def server_stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, headers: list[str]) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99": latency_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "failures": int(statuses.group(1)) if statuses else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def registration_cost() -> dict:
    """SQL statements and CPU time of `PUT /api/legal_entities` (in-process, warm; median of 5)."""
    import base64
    import copy
    import json

    from cryptography.hazmat.primitives import serialization
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from stdnum.ua import edrpou as edrpou_code

    from ehealth_portal.models import ApiKey, User
    from ehealth_portal.signatures.devpki import (
        ca_create,
        certificate_issue,
        cms_sign,
        crl_create,
        key_generate,
    )
    from tests.factories import EdrRecordFactory
    from tests.registry.conftest import CLINIC_NAME, CLINIC_SHORT_NAME, HEAD, PAYLOAD

    directory = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-api-pki"
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "crls").mkdir(parents=True)
    root = ca_create("Bench Root", key=key_generate("ec"))
    (directory / "bundle.pem").write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "crls" / "root.crl").write_bytes(
        crl_create(root, []).public_bytes(serialization.Encoding.PEM)
    )
    settings.SIGNATURE_CA_BUNDLE, settings.SIGNATURE_CRLS = directory / "bundle.pem", directory / "crls"
    user = User.objects.get(email="bench@ehealth.localhost")
    _api_key, key = ApiKey.objects.create_key(name="bench-registration", user=user)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    samples = []
    for attempt in range(6):
        stem = f"4{attempt:06d}"
        code = stem + edrpou_code.calc_check_digit(stem)
        EdrRecordFactory(
            kind="UO", code=code, name=CLINIC_NAME, short_name=CLINIC_SHORT_NAME,
            heads=["КОВАЛЕНКО ОЛЕНА ПЕТРІВНА"], kveds=["86.21"],
        )  # fmt: skip
        payload = copy.deepcopy(PAYLOAD)
        payload["edrpou"] = code
        head = certificate_issue(root, key_type="ec", **{**HEAD, "edrpou": code})
        envelope = cms_sign(json.dumps(payload, ensure_ascii=False).encode(), head)
        body = {
            "signed_legal_entity_request": base64.b64encode(envelope).decode(),
            "signed_content_encoding": "base64",
        }
        with CaptureQueriesContext(connection) as queries:
            start = time.process_time()
            response = client.put("/api/legal_entities", body, content_type="application/json")
            cpu_ms = (time.process_time() - start) * 1000
        if response.status_code != 201:
            sys.exit(f"registration failed: {response.status_code} {response.content[:500]!r}")
        if attempt:  # the first one warms imports and caches
            samples.append((len(queries), cpu_ms))
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run(
        ["redis-cli", "-n", BROKER_URL.rsplit("/", 1)[1], "flushdb"], check=True, stdout=subprocess.DEVNULL
    )
    return {
        "statements": max(statements for statements, _cpu in samples),
        "cpu_ms": sorted(cpu for _statements, cpu in samples)[len(samples) // 2],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    database_create()
    django_setup()
    key, facility_id = data_generate(args.facilities)
    registration = registration_cost()
    server = server_start()
    rows = []
    try:
        for label, path, keyed, target in PATHS:
            url = f"http://127.0.0.1:{PORT}" + path.replace("{id}", facility_id)
            headers = [f"Authorization: Api-Key {key}"] if keyed else []
            wrk(url, seconds=2, connections=args.connections, headers=headers)  # warm-up
            rows.append(
                (label, target, wrk(url, seconds=args.seconds, connections=args.connections, headers=headers))
            )
    finally:
        server_stop(server)
    bare = rows[0][2]["rps"]
    missed = []
    lines = [
        "| Path | req/s | share of bare | target | p50 | p99 | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, target, result in rows:
        share = result["rps"] / bare
        if target is not None and (share < target or result["p99"] > P99_TARGET_MS or result["failures"]):
            missed.append(label)
        lines.append(
            f"| {label} | {result['rps']:,.0f} | {share:.2f} | {'' if target is None else f'≥ {target:.2f}'} "
            f"| {result['p50']:.1f} ms | {result['p99']:.1f} ms | {result['failures']} |"
        )
    if (
        registration["statements"] > REGISTRATION_TARGETS["statements"]
        or registration["cpu_ms"] > REGISTRATION_TARGETS["cpu_ms"]
    ):
        missed.append("registration")
    table = "\n".join(lines)
    verdict = "all targets met" if not missed else "missed: " + ", ".join(missed)
    section = f"""## API and public read paths under load

Measured {dt.date.today().isoformat()} by `bench/bench_api.py`. Machine: {cpu_model()}, nproc {os.cpu_count()}; Python {platform.python_version()}; gunicorn with 2 sync workers, production settings (DEBUG off, Redis cache), PostgreSQL and Redis on the same machine; wrk with {args.connections} connections ({args.seconds} s a path after a 2 s warm-up), all on loopback, so the load generator shares the 2 cores with the server.

Data: {args.facilities:,} facilities with one division each around the 24 regional centres, the eHealth dictionaries. The bare endpoint is a DRF `APIView` returning 20 small objects with no authentication and no queries, through the same middleware and envelope renderer, on the same server in the same run: each path's throughput is given as a share of it. Targets: the shares below, p99 under {P99_TARGET_MS:.0f} ms.

{table}

A registration through `PUT /api/legal_entities` (ECDSA P-256 signature verified, state register checked, facility, division, person and invitation written; the email task queued on Redis), in-process, median of 5 after a warm-up: {registration["statements"]} SQL statements (target ≤ {REGISTRATION_TARGETS["statements"]}), {registration["cpu_ms"]:.1f} ms of CPU (target ≤ {REGISTRATION_TARGETS["cpu_ms"]:.0f} ms).

Result: {verdict}."""
    print(section)
    if not args.no_write:
        document_update("api", section)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
