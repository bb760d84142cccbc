#!/usr/bin/env python
"""State-register import into PostgreSQL: records per second and peak memory of `import_edr`.

    .venv/bin/python bench/bench_import_edr.py [--records 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/ehealth_bench] [--no-write]

Generates, in a temporary folder, a Format B (`<SUBJECT>`) legal-entity file of N records and a
sole-proprietor file of N/4 records, windows-1251 as published, with record sizes like the real
dumps (founders, beneficiaries, activity kinds, signers, tax registrations, contacts; a few illegal
character references). Creates the database if it is missing, migrates it, empties the register
table, then runs `manage.py import_edr` on both files twice in a child process that only imports:
first into the empty table (all new), then again (all unchanged). For each run: wall time, and peak
memory of the command and its parsing workers (see `import_run`); generation does not count. Prints
a Markdown report and rewrites the state-register section of docs/benchmarks.md. Exit status 1 if
the target (at least 20,000 records/s with peak memory under 300 MB) is missed.
"""

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import cpu_model, document_update  # bench/report.py (the script's folder)

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATE = 20_000
TARGET_RSS_MB = 300
SETTINGS = "ehealth_portal.test_settings"

SURNAMES = [
    "ШЕВЧЕНКО",
    "КОВАЛЕНКО",
    "БОНДАРЕНКО",
    "ТКАЧЕНКО",
    "КРАВЧЕНКО",
    "ОЛІЙНИК",
    "ШЕВЧУК",
    "ПОЛІЩУК",
    "МЕЛЬНИК",
    "БОЙКО",
]
SURNAMES += [
    "ЛИСЕНКО",
    "РУДЕНКО",
    "САВЧЕНКО",
    "ПЕТРЕНКО",
    "МАР'ЯНЕНКО",
    "Д'ЯЧЕНКО",
    "ГРИЦЕНКО",
    "ЗАЇКА",
    "ЯКОВЕНКО",
    "ЛЕВЧЕНКО",
]
MEN = [("ІВАН", "ІВАНОВИЧ"), ("ПЕТРО", "ПЕТРОВИЧ"), ("АНДРІЙ", "МИКОЛАЙОВИЧ"), ("ОЛЕГ", "ВАСИЛЬОВИЧ")]
WOMEN = [("ОЛЕНА", "ІВАНІВНА"), ("МАРІЯ", "ПЕТРІВНА"), ("НАТАЛІЯ", "ЮРІЇВНА"), ("ГАННА", "СТЕПАНІВНА")]
REGIONS = [
    ("01001", "м.Київ", "Шевченківський район"),
    ("61001", "Харківська обл.", "місто Харків"),
    ("79000", "Львівська обл.", "місто Львів"),
    ("65000", "Одеська обл.", "місто Одеса"),
    ("49000", "Дніпропетровська обл.", "місто Дніпро"),
    ("21000", "Вінницька обл.", "місто Вінниця"),
]
STREETS = [
    "ВУЛИЦЯ ШЕВЧЕНКА",
    "ВУЛИЦЯ СОБОРНА",
    "ПРОСПЕКТ НЕЗАЛЕЖНОСТІ",
    "ВУЛИЦЯ ГРУШЕВСЬКОГО",
    "ПРОВУЛОК ТИХИЙ",
]
KINDS = [
    ("86.21", "Загальна медична практика"),
    ("86.10", "Діяльність лікарняних закладів"),
    ("86.22", "Спеціалізована медична практика"),
    ("62.01", "Комп'ютерне програмування"),
    ("47.11", "Роздрібна торгівля в неспеціалізованих магазинах переважно продуктами харчування"),
    ("46.90", "Неспеціалізована оптова торгівля"),
    ("68.20", "Надання в оренду й експлуатацію власного чи орендованого нерухомого майна"),
    ("70.22", "Консультування з питань комерційної діяльності й керування"),
]
FORMS = [
    ("ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ", "ТОВ"),
    ("ПРИВАТНЕ ПІДПРИЄМСТВО", "ПП"),
    ("КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО", "КНП"),
    ("ГРОМАДСЬКА ОРГАНІЗАЦІЯ", "ГО"),
]
WORDS = [
    "ЗДОРОВ'Я",
    "ДОБРОБУТ",
    "СВІТАНОК",
    "ГАРМОНІЯ",
    "МЕДИЦИНА",
    "ТЕХНОЛОГІЇ",
    "ПРОГРЕС",
    "ЛІКАР",
    "ОБ'ЄДНАННЯ",
    "РОДИНА",
]
TAX_OFFICES = [
    "ГОЛОВНЕ УПРАВЛІННЯ ДПС У М.КИЄВІ, ДПІ У ШЕВЧЕНКІВСЬКОМУ РАЙОНІ (ШЕВЧЕНКІВСЬКИЙ РАЙОН М.КИЄВА)",
    "ГОЛОВНЕ УПРАВЛІННЯ ДПС У ХАРКІВСЬКІЙ ОБЛАСТІ, КИЇВСЬКА ДПІ (КИЇВСЬКИЙ РАЙОН М.ХАРКОВА)",
    "ГОЛОВНЕ УПРАВЛІННЯ ДПС У ЛЬВІВСЬКІЙ ОБЛАСТІ, ЛЬВІВСЬКА ДПІ (ГАЛИЦЬКИЙ РАЙОН М.ЛЬВОВА)",
]
STATES = ["зареєстровано"] * 8 + ["припинено", "в стані припинення"]
PROLOG = '<?xml version="1.0" encoding="windows-1251"?>\n<DATA>\n'


def person(rng: random.Random) -> str:
    first, patronymic = rng.choice(MEN if rng.random() < 0.5 else WOMEN)
    surname = rng.choice(SURNAMES)
    return f"{surname} {first} {patronymic}"


def address(rng: random.Random) -> str:
    index, region, city = rng.choice(REGIONS)
    flat = f", квартира {rng.randint(1, 200)}" if rng.random() < 0.5 else ""
    return f"{index}, {region}, {city}, {rng.choice(STREETS)}, будинок {rng.randint(1, 150)}{flat}"


def activity_kinds(rng: random.Random, count: int) -> str:
    kinds = rng.sample(KINDS, count)
    return (
        "<ACTIVITY_KINDS>"
        + "".join(
            f"<ACTIVITY_KIND><CODE>{code}</CODE><NAME>{name}</NAME>"
            f"<PRIMARY>{'так' if i == 0 else 'ні'}</PRIMARY>"
            "</ACTIVITY_KIND>"
            for i, (code, name) in enumerate(kinds)
        )
        + "</ACTIVITY_KINDS>"
    )


def exchange_data(rng: random.Random, code: str, count: int) -> str:
    answers = []
    for _ in range(count):
        answers.append(
            f"<EXCHANGE_ANSWER><AUTHORITY_NAME>{rng.choice(TAX_OFFICES)}</AUTHORITY_NAME>"
            f"<AUTHORITY_CODE>{rng.randint(10000000, 99999999)}</AUTHORITY_CODE>"
            f"<TAX_PAYER_TYPE>платник єдиного внеску</TAX_PAYER_TYPE><START_DATE>{date(rng)}</START_DATE>"
            f"<START_NUM>{rng.randint(10**9, 10**10)}</START_NUM><END_DATE></END_DATE><END_NUM></END_NUM>"
            "</EXCHANGE_ANSWER>"
        )
    return "<EXCHANGE_DATA>" + "".join(answers) + "</EXCHANGE_DATA>"


def date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1995, 2024)}"


def legal_entity(rng: random.Random, number: int, code: str) -> str:
    """A UO record; every other one in the wartime shape (no address, activities or contacts)."""
    form, short = rng.choice(FORMS)
    title = " ".join(rng.sample(WORDS, 2)) + f" {number}"
    head = person(rng)
    state = rng.choice(STATES)
    full = number % 2 == 0
    founders = "".join(
        f"<FOUNDER>{person(rng)}, розмір внеску до статутного фонду - {rng.randint(1, 500) * 100},00 грн."
        "</FOUNDER>"
        for _ in range(rng.randint(1, 2))
    )
    signers = f"<SIGNER>{head} - керівник</SIGNER>"
    if rng.random() < 0.3:
        signers += f"<SIGNER>{person(rng)} - підписант</SIGNER>"
    terminated = (
        f"{date(rng)}; {rng.randint(10**15, 10**16)}; рішення засновників" if state == "припинено" else ""
    )
    noise = "&#1;" if number % 1000 == 0 else ""  # real dumps carry such illegal references
    beneficiary_address = f"Україна, {address(rng)}, " if full else ""
    return (
        f'<SUBJECT RECORD="{number}"><NAME>{form} "{title}"{noise}</NAME>'
        f'<SHORT_NAME>{short} "{title}"</SHORT_NAME>'
        f"<OPF>{form}</OPF><EDRPOU>{code}</EDRPOU><ADDRESS>{address(rng) if full else ''}</ADDRESS>"
        f"<STAN>{state}</STAN><FOUNDING_DOCUMENT_NUM></FOUNDING_DOCUMENT_NUM>"
        "<EXECUTIVE_POWER><NAME></NAME><CODE></CODE></EXECUTIVE_POWER>\n"
        f"<FOUNDERS>{founders}</FOUNDERS>"
        f"<BENEFICIARIES><BENEFICIARY>{head}, {beneficiary_address}тип бенефіціарного володіння - Прямий "
        "вирішальний вплив, відсоток частки статутного капіталу в юридичній особі або відсоток права "
        "голосу в "
        "юридичній особі - 100</BENEFICIARY></BENEFICIARIES>\n"
        f"{activity_kinds(rng, rng.randint(1, 3)) if full else ''}\n<SIGNERS>{signers}</SIGNERS>"
        f"<AUTHORIZED_CAPITAL>{rng.randint(1, 500) * 100},00</AUTHORIZED_CAPITAL><STATUTE></STATUTE>"
        f"<REGISTRATION>{date(rng)}; {date(rng)}; {rng.randint(10**15, 10**16)}</REGISTRATION>"
        f"<MANAGING_PAPER></MANAGING_PAPER><TERMINATED_INFO>{terminated}</TERMINATED_INFO>"
        "<TERMINATION_CANCEL_INFO></TERMINATION_CANCEL_INFO>\n"
        f"{exchange_data(rng, code, rng.randint(1, 2))}\n"
        f"<CONTACTS>{f'+380{rng.randint(10**8, 10**9 - 1)}' if full else ''}</CONTACTS>"
        "<VP_DATES></VP_DATES><CURRENT_AUTHORITY>Відділ державної реєстрації юридичних осіб та фізичних "
        "осіб-підприємців</CURRENT_AUTHORITY></SUBJECT>\n"
    )


def sole_proprietor(rng: random.Random, number: int) -> str:
    state = rng.choice(STATES)
    terminated = f"{date(rng)}; {rng.randint(10**15, 10**16)}; власне рішення" if state == "припинено" else ""
    return (
        f'<SUBJECT RECORD="{number}"><NAME>{person(rng)}</NAME><ADDRESS>{address(rng)}</ADDRESS>'
        f"<STAN>{state}</STAN>\n{activity_kinds(rng, rng.randint(1, 2))}\n"
        f"<REGISTRATION>{date(rng)}; 2{number:015d}</REGISTRATION><ESTATE_MANAGER></ESTATE_MANAGER>"
        f"<TERMINATED_INFO>{terminated}</TERMINATED_INFO>"
        "<TERMINATION_CANCEL_INFO></TERMINATION_CANCEL_INFO>\n"
        f"{exchange_data(rng, '', 1)}\n<CONTACTS></CONTACTS><VP_DATES></VP_DATES>"
        "<CURRENT_AUTHORITY>Відділ державної реєстрації</CURRENT_AUTHORITY></SUBJECT>\n"
    )


def generate(directory: Path, records: int) -> list[tuple[Path, int]]:
    from ehealth_portal.validators import edrpou_check_digit

    rng = random.Random(20261122)
    uo, fop = directory / "UO.xml", directory / "FOP.xml"
    with uo.open("wb") as stream:
        stream.write(PROLOG.encode("cp1251"))
        chunk = []
        for number in range(1, records + 1):
            body = str(2000000 + number)  # unique 7-digit bodies, each with its check digit
            chunk.append(legal_entity(rng, number, body + edrpou_check_digit(body)))
            if len(chunk) == 10_000:
                stream.write("".join(chunk).encode("cp1251"))
                chunk = []
        stream.write(("".join(chunk) + "</DATA>\n").encode("cp1251"))
    fop_records = records // 4
    with fop.open("wb") as stream:
        stream.write(PROLOG.encode("cp1251"))
        chunk = []
        for number in range(1, fop_records + 1):
            chunk.append(sole_proprietor(rng, number))
            if len(chunk) == 10_000:
                stream.write("".join(chunk).encode("cp1251"))
                chunk = []
        stream.write(("".join(chunk) + "</DATA>\n").encode("cp1251"))
    return [(uo, records), (fop, fop_records)]


def database_prepare(url: str) -> None:
    """Create the benchmark database if it is missing, migrate it and empty the register table."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = child_env(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"], cwd=ROOT, env=env, check=True
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE registry_edrrecord")


def settle(url: str) -> None:
    """Start each run from a quiet machine: the generated files and the previous run's writes on disk."""
    import psycopg

    os.sync()
    # Without superuser rights the server checkpoints on its own schedule.
    with (
        psycopg.connect(url, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("CHECKPOINT")


def child_env(url: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}


def import_run(url: str, files: list[Path]) -> dict:
    """Run `manage.py import_edr` in a child that only imports: wall time, memory and counts.

    Memory: the child's `ru_maxrss` (its largest process), and the peak, sampled every 0.1 s, of the
    sum over the child and its parsing workers of RSS (shared pages counted in each process) and of
    PSS (shared pages divided among the processes that share them: the memory the import takes).
    """
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_edr", "--skip-checks", *map(str, files)],
        cwd=ROOT,
        env=child_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    peak_rss = peak_pss = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        rss, pss = tree_memory(child.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    output = child.stdout.read().decode()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"import_edr failed: {output}")
    counts = {
        label: int(number)
        for number, label in re.findall(r"(\d+) (new|updated|unchanged|skipped)", output.splitlines()[-1])
    }
    records = sum(counts.values())
    return {
        "seconds": seconds,
        "records": records,
        "rate": records / seconds,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "rss_mb": peak_rss / 1024,
        "pss_mb": peak_pss / 1024,
        **counts,
    }


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB summed over the process and its descendants (0 for those already gone)."""
    rss = pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss


def machine() -> str:
    import psycopg

    model = cpu_model()
    with psycopg.connect(os.environ["BENCH_DATABASE_URL"]) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"{model}, nproc {os.cpu_count()}; Python {platform.python_version()}; PostgreSQL {server} on the "
        f"same machine; psycopg {psycopg.__version__}"
    )


def meets_target(run: dict) -> bool:
    """Judged on the summed RSS, the largest of the memory figures."""
    return run["rate"] >= TARGET_RATE and max(run["rss_mb"], run["pss_mb"], run["maxrss_mb"]) < TARGET_RSS_MB


def report(runs: list[dict], files: list[tuple[Path, int]]) -> str:
    first, second = runs
    sizes = ", ".join(
        f"{path.name} {count:,} records ({path.stat().st_size / 2**20:,.0f} MiB, "
        f"{path.stat().st_size / count:,.0f} bytes a record)"
        for path, count in files
    )
    rows = [
        "| Run | Records | New | Unchanged | Skipped | Seconds | Records/s "
        "| Memory (PSS, all processes) | Largest process (RSS) | RSS summed | Target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, run in (("First import (empty table)", first), ("Second import (same files)", second)):
        cells = [
            label,
            f"{run['records']:,}",
            f"{run.get('new', 0):,}",
            f"{run.get('unchanged', 0):,}",
            f"{run.get('skipped', 0):,}",
            f"{run['seconds']:.1f}",
            f"{run['rate']:,.0f}",
            f"{run['pss_mb']:.0f} MB",
            f"{run['maxrss_mb']:.0f} MB",
            f"{run['rss_mb']:.0f} MB",
            "met" if meets_target(run) else "missed",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    verdict = "met" if all(map(meets_target, runs)) else "MISSED"
    return "\n".join(
        [
            "## State-register import (`import_edr`)",
            "",
            f"Measured {dt.date.today().isoformat()} by `bench/bench_import_edr.py`. Machine: {machine()}.",
            "",
            f"Generated Format B files, windows-1251: {sizes}. Each run is"
            " `manage.py import_edr UO.xml FOP.xml` in a child process that only imports, Django start-up"
            " included; it parses in one worker process per CPU and writes with COPY. The first run loads"
            " the empty table, the second finds every record unchanged. Memory is the peak, sampled every"
            " 0.1 s, over the command and its workers: PSS counts pages shared between processes once (the"
            " fair total); the summed RSS counts them in every process; the largest process is"
            " `ru_maxrss`.",
            "",
            *rows,
            "",
            f"Target: at least {TARGET_RATE:,} records/s with peak memory under {TARGET_RSS_MB} MB"
            f" (RSS summed over all the import's processes) in both runs: {verdict}.",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="legal entities (sole proprietors: a quarter)"
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/ehealth_bench")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    os.environ["BENCH_DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="bench-edr-") as directory:
        started = time.perf_counter()
        files = generate(Path(directory), args.records)
        print(
            f"generated {sum(count for _, count in files):,} records in {time.perf_counter() - started:.0f} s"
        )
        database_prepare(args.database_url)
        runs = []
        for _ in range(2):
            settle(args.database_url)
            runs.append(import_run(args.database_url, [path for path, _ in files]))
            print(runs[-1])
        met = all(map(meets_target, runs))
        section = report(runs, files)
    print(section)
    if not args.no_write:
        document_update("edr", section)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
