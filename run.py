#!/usr/bin/env python3
"""Set up and run the portal, or its tests, on a machine that has Python 3.11 and git.

    python3 run.py          # virtualenv, install, migrate, dictionaries, demo data; serve on :8000
    python3 run.py test     # the whole test suite (extra arguments go to pytest)
    python3 run.py setup    # only the setup steps
    python3 run.py install  # only the virtualenv and the packages

Standard library only: it runs before anything is installed. Without DATABASE_URL and
CELERY_BROKER_URL the portal uses a SQLite file and runs tasks in-process; with them set it uses
PostgreSQL and starts a Celery worker (with beat) next to the web server.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
INSTALL_INPUTS = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
INSTALL_STAMP = VENV / ".installed"
SIMULATOR_PORT = 8765  # the demo CNAP's information system (manage.py cnap_simulator), loopback only
SIMULATOR_URL = f"http://127.0.0.1:{SIMULATOR_PORT}"


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


def portal_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "true")
    env.setdefault("DJANGO_SETTINGS_MODULE", "ehealth_portal.settings")
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


def serve(env: dict) -> None:
    processes = [
        subprocess.Popen([str(PYTHON), "manage.py", "runserver", "127.0.0.1:8000"], cwd=ROOT, env=env),
        subprocess.Popen(
            [str(PYTHON), "manage.py", "cnap_simulator", "--port", str(SIMULATOR_PORT)], cwd=ROOT, env=env
        ),
    ]
    if env.get("CELERY_BROKER_URL"):
        step("Starting a Celery worker with beat on " + env["CELERY_BROKER_URL"])
        worker = [str(BIN / "celery"), "-A", "ehealth_portal", "worker", "--beat", "--loglevel=INFO"]
        processes.append(subprocess.Popen(worker, cwd=ROOT, env=env))
    else:
        step("No CELERY_BROKER_URL: tasks run inside the web process")
    step(f"A simulated CNAP information system answers on {SIMULATOR_URL}/asc/<code>/appeals/")
    step("The portal is at http://127.0.0.1:8000 (the sent emails: http://127.0.0.1:8000/dev/outbox/)")
    try:
        while all(process.poll() is None for process in processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                processes[0].wait(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()


def main(argv: list[str]) -> int:
    command, extra = (argv[0], argv[1:]) if argv else ("serve", [])
    ensure_virtualenv()
    if command == "install":
        return 0
    if command == "test":
        return subprocess.run([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT).returncode
    env = portal_env()
    if command in ("serve", "setup"):
        setup(env)
        if command == "serve":
            serve(env)
        return 0
    sys.exit(f"unknown command {command!r}: use 'python3 run.py', or with test, setup or install")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
