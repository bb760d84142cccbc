import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from ehealth_portal.caching import local_caches_clear
from ehealth_portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _isolated_caches(settings):
    """Rate-limit counters (allauth's) and used TOTP codes live in the cache: no test sees another's.

    Each test gets its own key prefix rather than a flush: a shared cache (CACHE_URL=redis://...)
    may be the broker's database too. The local-memory cache is also cleared afterwards.
    """
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }
    local_caches_clear()  # versioned caches remember their version in the process too
    yield
    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture
def admin_user(db):
    """pytest-django's `admin_user` (and so `admin_client`), with the second factor operators must have."""
    from tests.factories import SuperuserFactory

    return SuperuserFactory(email="admin@example.com")


def missing_in_ci(reason: str):
    """Skip on a developer's machine without the service; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def _database_url(database: dict) -> str:
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}/{database['NAME']}"


WORKER_LOG = Path(os.environ.get("TMPDIR", "/tmp")) / "ehealth-test-worker.log"


def worker_start(name: str, log, *options: str) -> tuple[subprocess.Popen, str]:
    """Start a Celery worker process on the broker, reading the test database; (process, node name)
    once it answers. Its own session: a test may kill it with its pool children (os.killpg)."""
    from django.db import connection

    node = f"{name}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "ehealth_portal.test_settings",
        "EHEALTH_TEST_WORKER": "1",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ehealth_portal",
            "worker",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={node}",
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not celery_app.control.ping(destination=[node], timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            pytest.fail(f"the Celery worker did not start; see {log.name}")
    return worker, node


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process on the Redis broker, reading the test database."""
    from django.db import connection

    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        missing_in_ci("the worker tests need CELERY_BROKER_URL=redis://...")
    if connection.vendor != "postgresql":
        missing_in_ci(
            "the worker tests need DATABASE_URL=postgres://... (the worker reads the test database)"
        )
    celery_app.conf.broker_url = broker
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    log = open(WORKER_LOG, "w")  # noqa: SIM115
    worker, _node = worker_start("test-worker", log, "--pool=solo")
    yield worker
    worker.terminate()
    worker.wait(timeout=30)
    log.close()


@pytest.fixture
def real_worker(celery_worker, settings):
    """Send tasks to the real worker for this test instead of running them in-process."""
    # Saved, not read back from the settings afterwards: this teardown runs before `settings` is undone.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield celery_worker
    celery_app.conf.task_always_eager = eager


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value or fail with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
