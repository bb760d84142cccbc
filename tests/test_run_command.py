"""`python3 run.py` stops its servers with itself: a stop signal (Ctrl-C, TERM from a service manager or a
container stop, HUP from a closed terminal) is passed on, and no server outlives it. Its console says
what a newcomer needs: no broker warning, one line per email with the link to it."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, missing_in_ci, wait_for

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree in /proc"),
    pytest.mark.worker,  # run.py starts a Celery worker on the broker: never beside another test's worker
]

# run.py's serve path as `python3 run.py` reaches it after the setup (which these tests do themselves).
SERVE = "import sys, run; sys.exit(run.serve(run.portal_env()))"


@pytest.fixture(scope="module")
def portal_database(tmp_path_factory):
    """A SQLite database as run.py's setup leaves it, as far as serving needs: the simulator reads the
    registers of services and CNAPs at start."""
    url = f"sqlite:///{tmp_path_factory.mktemp('run-py') / 'portal.sqlite3'}"
    env = {**_clean_env(), "DATABASE_URL": url, "DJANGO_DEBUG": "true"}
    demo = ROOT / "monitoring" / "data" / "demo"
    for command in (
        ["migrate"],
        ["import_services", demo / "services.json"],
        ["import_cnaps", demo / "cnaps.json"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command, "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return url


def _clean_env() -> dict:
    """The environment of a developer's shell: none of the test session's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.pop("EHEALTH_TEST_WORKER", None)
    env["DJANGO_READ_DOT_ENV_FILE"] = "false"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The command name is in parentheses and may hold spaces: the fields follow the last ")".
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _process_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    table = _process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


@contextlib.contextmanager
def _run_py(env: dict, log_path: Path):
    """run.py serving; yields (process, its log path); kills what is left of it afterwards."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    seen: set[int] = set()
    try:
        yield process, seen
    finally:
        for pid in _alive(seen | {process.pid}):  # only what this test started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


def _serve_then_stop(env: dict, log_path: Path, signum: int, *, ready, servers: int) -> str:
    with _run_py(env, log_path) as (process, seen):
        wait_for(lambda: process.poll() is not None or ready(log_path.read_text()), timeout=90)
        assert process.poll() is None, log_path.read_text()
        seen |= _descendants(process.pid)
        assert len(seen) >= servers, log_path.read_text()

        process.send_signal(signum)  # to run.py alone, as `kill` or a container runtime does
        assert process.wait(timeout=60) == 0
        survivors = _alive(seen)
        assert survivors == set(), f"left running: {survivors}\n{log_path.read_text()}"
        return log_path.read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_a_stop_signal_stops_the_web_server_and_the_simulator(portal_database, tmp_path, signum):
    port, simulator_port = _free_port(), _free_port()
    env = {
        **_clean_env(),
        "DATABASE_URL": portal_database,
        "PORTAL_PORT": str(port),
        "CNAP_SIMULATOR_PORT": str(simulator_port),
    }

    def ready(_log: str) -> bool:
        return _answers(f"http://127.0.0.1:{port}/") and _answers(f"http://127.0.0.1:{simulator_port}/")

    # runserver (its reloader and the serving child) and the simulator
    output = _serve_then_stop(env, tmp_path / "run.log", signum, ready=ready, servers=3)
    assert output.count("Watching for file changes") == 1, output
    assert "No hostname was supplied" not in output


def test_term_stops_the_celery_worker_too(portal_database, tmp_path):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        missing_in_ci("run.py starts a Celery worker only with CELERY_BROKER_URL=redis://...")
    port, simulator_port = _free_port(), _free_port()
    env = {
        **_clean_env(),
        "DATABASE_URL": portal_database,
        "CELERY_BROKER_URL": broker,
        "PORTAL_PORT": str(port),
        "CNAP_SIMULATOR_PORT": str(simulator_port),
    }

    def ready(log: str) -> bool:
        return " ready." in log and _answers(f"http://127.0.0.1:{port}/")

    # runserver's two processes, the simulator, the worker with its pool and beat
    output = _serve_then_stop(env, tmp_path / "run.log", signal.SIGTERM, ready=ready, servers=5)
    assert "Warm shutdown" in output


def test_a_server_that_exits_stops_the_others(portal_database, tmp_path):
    """A web server that cannot start (its port taken) ends run.py with an error, the simulator with it."""
    simulator_port = _free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            **_clean_env(),
            "DATABASE_URL": portal_database,
            "PORTAL_PORT": str(taken.getsockname()[1]),
            "CNAP_SIMULATOR_PORT": str(simulator_port),
        }
        with _run_py(env, tmp_path / "run.log") as (process, seen):
            deadline = time.monotonic() + 90
            while process.poll() is None and time.monotonic() < deadline:
                seen |= _descendants(process.pid)
                time.sleep(0.1)
            assert process.returncode not in (None, 0), (tmp_path / "run.log").read_text()
            assert _alive(seen) == set()


QUEUE_AN_EMAIL = """
from django.db import transaction
from ehealth_portal.services import email_queue
with transaction.atomic():
    email = email_queue(to="head@clinic.ua", subject="Вашу заяву отримано", text_body="/invite/secret-token/")
"""


def test_without_a_broker_an_email_is_one_console_line(portal_database):
    """The development console of a first run (no broker, no mail server): per email one line with the
    link to it, no broker warning and no line per in-process task."""
    env = {**_clean_env(), "DATABASE_URL": portal_database, "DJANGO_DEBUG": "true"}
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", QUEUE_AN_EMAIL],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = (output.stdout + output.stderr).splitlines()
    assert len(lines) == 1, lines
    assert re.search(
        r"Email to head@clinic\.ua: '.+', read it at http://127\.0\.0\.1:8000/dev/outbox/\d+/$", lines[0]
    )
