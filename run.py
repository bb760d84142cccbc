#!/usr/bin/env python3
"""Set up and run the portal, or its tests, on a machine that has Python 3.11 and git.

    python3 run.py          # virtualenv, install, migrate, dictionaries, demo data; serve on :8000
    python3 run.py test     # the whole test suite (extra arguments go to pytest)
    python3 run.py setup    # only the setup steps
    python3 run.py start    # only start the servers (after a setup)
    python3 run.py install  # only the virtualenv and the packages

Standard library only: it runs before anything is installed. Without DATABASE_URL and
CELERY_BROKER_URL the portal uses a SQLite file and runs tasks in-process; with them set it uses
PostgreSQL and starts a Celery worker (with beat) next to the web server. PORTAL_PORT (8000) and
CNAP_SIMULATOR_PORT (8765) move the web server and the simulated CNAP system to other ports.

The servers stop together: a stop signal to this process (Ctrl-C, TERM from a service manager or
`docker stop`, HUP when the terminal closes) is passed on to each of them, and this process waits
for them to exit.
"""

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
INSTALL_INPUTS = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
INSTALL_STAMP = VENV / ".installed"
PORTAL_PORT = int(os.environ.get("PORTAL_PORT", "8000"))
PORTAL_URL = f"http://127.0.0.1:{PORTAL_PORT}"
# The demo CNAP's information system (manage.py cnap_simulator), loopback only.
SIMULATOR_PORT = int(os.environ.get("CNAP_SIMULATOR_PORT", "8765"))
SIMULATOR_URL = f"http://127.0.0.1:{SIMULATOR_PORT}"
# Stop signals passed on to the servers. HUP stops them too (the terminal closed): passed on as TERM,
# since a Celery worker would take HUP as "restart".
STOP_SIGNALS = {
    getattr(signal, name): getattr(signal, forwarded)
    for name, forwarded in (("SIGINT", "SIGINT"), ("SIGTERM", "SIGTERM"), ("SIGHUP", "SIGTERM"))
    if hasattr(signal, name)
}
STOP_TIMEOUT = 30  # s a server may take to stop (a worker finishing its task) before it is killed


def step(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def run(*args, env=None) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=True)


def ensure_virtualenv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Python 3.11 is required, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        step("Creating the virtual environment in .venv")
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in INSTALL_INPUTS)).hexdigest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text() == digest:
        return
    step("Installing the portal and its pinned dependencies")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", ".[dev]")
    INSTALL_STAMP.write_text(digest)


def ensure_node_modules() -> None:
    """axe-core for the accessibility tests (npm, test only; package-lock.json). Without npm those tests
    are skipped on a developer's machine; CI has npm."""
    stamp = ROOT / "node_modules" / ".installed-from"
    lock = (ROOT / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock).hexdigest()
    if not shutil.which("npm") or (stamp.exists() and stamp.read_text() == digest):
        return
    step("Installing axe-core for the accessibility tests (npm ci)")
    run("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
    stamp.write_text(digest)


def portal_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "true")
    env.setdefault("DJANGO_SETTINGS_MODULE", "ehealth_portal.settings")
    env.setdefault("PORTAL_BASE_URL", PORTAL_URL)  # the links in emails
    return env


def setup(env: dict) -> None:
    (ROOT / "var").mkdir(exist_ok=True)
    step("Applying database migrations")
    run(PYTHON, "manage.py", "migrate", "--noinput", env=env)
    step("Loading the reference dictionaries")
    run(PYTHON, "manage.py", "load_dictionaries", env=env)
    step("Loading the demo state register (ЄДР)")
    run(
        PYTHON,
        "manage.py",
        "import_edr",
        *sorted((ROOT / "registry" / "data" / "demo_edr").glob("*.xml")),
        env=env,
    )
    step("Loading the demo registers of administrative services and CNAPs")
    demo = ROOT / "monitoring" / "data" / "demo"
    run(PYTHON, "manage.py", "import_services", demo / "services.json", env=env)
    run(PYTHON, "manage.py", "import_cnaps", demo / "cnaps.json", env=env)
    step("Preparing the development PKI and the demo data")
    run(PYTHON, "manage.py", "demo_data", env=env)
    step("Connecting a demo CNAP whose information system is the local simulator")
    run(PYTHON, "manage.py", "monitoring_demo", "--simulator-url", SIMULATOR_URL, env=env)


def serve(env: dict) -> int:
    """Run the web server, the CNAP simulator and (with a broker) a Celery worker until a stop signal
    or until one of them exits; then stop the others and wait for them. The exit status: 0 after a
    stop signal, else the status of the server that ended first."""
    received: list[int] = []  # stop signals, in the order they came
    previous = {
        signum: signal.signal(signum, lambda signum, _frame: received.append(signum))
        for signum in STOP_SIGNALS
    }
    commands = [
        ["manage.py", "runserver", f"127.0.0.1:{PORTAL_PORT}"],
        ["manage.py", "cnap_simulator", "--port", str(SIMULATOR_PORT)],
    ]
    if env.get("CELERY_BROKER_URL"):
        step("Starting a Celery worker with beat on " + env["CELERY_BROKER_URL"])
        commands.append(["-m", "celery", "-A", "ehealth_portal", "worker", "--beat", "--loglevel=INFO"])
    else:
        step("No CELERY_BROKER_URL: tasks run inside the web process")
    processes: list[subprocess.Popen] = []
    try:
        for command in commands:
            if not received:
                processes.append(_start(command, env))
        if not received:
            step(f"A simulated CNAP information system answers on {SIMULATOR_URL}/asc/<code>/appeals/")
            step(f"The portal is at {PORTAL_URL} (the sent emails: {PORTAL_URL}/dev/outbox/)")
        while not received and all(process.poll() is None for process in processes):
            time.sleep(0.2)
        ended = next((process.returncode for process in processes if process.returncode is not None), 0)
        status = 0 if received else ended
        if not received:  # a server ended by itself: stop the others
            received.append(signal.SIGTERM)
        _stop(processes, received)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


def _start(command: list[str], env: dict) -> subprocess.Popen:
    # Its own process group: a terminal's Ctrl-C reaches only this process, which passes it on once
    # (a Celery worker given a second INT would abandon its running tasks), and `_stop` can end what a
    # server started itself (runserver's reloaded child, the worker's pool). No terminal input: a
    # background process reading it would be stopped (a breakpoint() gets end-of-file instead).
    group = {"process_group": 0} if os.name == "posix" else {}
    return subprocess.Popen([str(PYTHON), *command], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, **group)


def _stop(processes: list[subprocess.Popen], received: list[int]) -> None:
    """Pass each stop signal on to the servers still running, including those that come meanwhile (a
    second Ctrl-C: a worker stops without finishing its task); after STOP_TIMEOUT kill what is left,
    and the servers' own children."""
    passed = 0
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(process.poll() is None for process in processes) and time.monotonic() < deadline:
        count = len(received)
        for signum in received[passed:count]:
            for process in processes:
                if process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(STOP_SIGNALS[signum])
        passed = count
        time.sleep(0.1)
    for process in processes:
        if os.name == "posix":  # normally an empty group by now
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
        process.wait()


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv else ("serve", [])
    ensure_virtualenv()
    if command == "install":
        return 0
    if command == "test":
        ensure_node_modules()
        return subprocess.run([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT).returncode
    env = portal_env()
    if command in ("serve", "setup"):
        setup(env)
    if command in ("serve", "start"):
        return serve(env)
    if command == "setup":
        return 0
    sys.exit(f"unknown command {command!r}: use 'python3 run.py', or with test, setup, start or install")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
