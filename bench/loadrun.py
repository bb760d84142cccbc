"""A site under load: its PostgreSQL database, gunicorn (2 sync workers) on loopback, and wrk against a path.

Besides wrk's throughput and client latency (which, with more connections than workers, is mostly time
spent waiting for a free worker), each path gets its *server time*: gunicorn's own request time (`%(D)s`,
from the worker picking the request up to the last byte written) of every request wrk made in the
measured window, read from gunicorn's access log. wrk's 95th percentile comes from a Lua `done` hook
(its `--latency` report stops at 50/75/90/99).
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
TMP = Path(os.environ.get("TMPDIR", "/tmp"))
# The access-log line of a request, after the project's formatter (gunicorn.conf.py): status, microseconds, path.
ACCESS_FORMAT = "bench-access %(s)s %(D)s %(U)s"
_ACCESS_RE = re.compile(r"bench-access (\d{3}) (\d+) (\S+)")
_WRK_LUA = """done = function(summary, latency, requests)
  io.write(string.format("bench-p95-us %d\\n", latency:percentile(95)))
end
"""


def percentile(values: list[float], share: float) -> float:
    """The `share` (0–100) percentile of the values, linearly interpolated between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * share / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Site:
    database: str
    cache_url: str  # redis://127.0.0.1:6379/<db>
    broker_url: str
    port: int
    settings_module: str  # a module of bench/
    name: str  # of the log files under $TMPDIR
    server: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:5432/{self.database}"

    @property
    def log(self) -> Path:
        return TMP / f"bench-{self.name}-gunicorn.log"

    def environment(self) -> dict:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CACHE_URL": self.cache_url,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
            "CELERY_BROKER_URL": self.broker_url,  # as in production; no worker runs here
        }
        env.pop("DJANGO_DEBUG", None)
        return env

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.environment(), check=True)

    def redis_flush(self) -> None:
        for url in {self.cache_url, self.broker_url}:
            subprocess.run(
                ["redis-cli", "-n", url.rsplit("/", 1)[1], "flushdb"], check=True, stdout=subprocess.DEVNULL
            )

    def database_create(self) -> None:
        """The database dropped and made anew, migrated, with the eHealth dictionaries."""
        for sql in (
            f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)",
            f"CREATE DATABASE {self.database}",
        ):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
        self.redis_flush()
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_dictionaries")

    def django_setup(self) -> None:
        """Django in this process, on the same settings and database as the server."""
        os.environ.update({key: value for key, value in self.environment().items() if key != "PYTHONPATH"})
        sys.path[:0] = [str(BENCH), str(ROOT)]
        import django

        django.setup()

    def server_start(self, *, workers: int = 2, ready_path: str = "/bench/bare") -> None:
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "ehealth_portal.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            # gunicorn.conf.py sends the access log to standard error, which goes to self.log.
            "--access-logformat",
            ACCESS_FORMAT,
        ]
        log = open(self.log, "w")  # noqa: SIM115 - the server's for its life
        self.server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}{ready_path}", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        self.server_stop()
        sys.exit(f"gunicorn did not start: see {self.log}")

    def server_stop(self) -> None:
        if self.server is not None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=30)
            self.server = None

    def measure(
        self, path: str, *, seconds: int, connections: int, headers: list[str], warmup: int = 2
    ) -> dict:
        """wrk against the path (after a warm-up), with the server times of the measured requests."""
        url = f"http://127.0.0.1:{self.port}{path}"
        wrk(url, seconds=warmup, connections=connections, headers=headers)
        self.drain()
        start = self.log.stat().st_size
        result = wrk(url, seconds=seconds, connections=connections, headers=headers)
        self.drain()  # requests wrk gave up on still run: they count, and must not slow the next path
        with open(self.log, "rb") as log:
            log.seek(start)
            lines = log.read().decode("utf-8", "replace")
        wanted = path.split("?", 1)[0]
        server_ms = [
            int(match.group(2)) / 1000 for match in _ACCESS_RE.finditer(lines) if match.group(3) == wanted
        ]
        result.update(
            requests=len(server_ms),
            server_p50=percentile(server_ms, 50),
            server_p95=percentile(server_ms, 95),
            server_p99=percentile(server_ms, 99),
        )
        return result

    def drain(self, *, quiet_seconds: float = 1.0, limit_seconds: float = 120.0) -> None:
        """Wait until the server has finished what it was given (its access log stops growing)."""
        deadline, size, since = time.monotonic() + limit_seconds, -1, time.monotonic()
        while time.monotonic() < deadline:
            current = self.log.stat().st_size
            if current != size:
                size, since = current, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return
            time.sleep(0.1)


def latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, *, seconds: int, connections: int, headers: list[str]) -> dict:
    script = TMP / "bench-wrk-p95.lua"
    if not script.exists() or script.read_text() != _WRK_LUA:
        script.write_text(_WRK_LUA)
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    timeouts = re.search(r"timeout (\d+)", errors.group(1)) if errors else None
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p95": int(re.search(r"bench-p95-us (\d+)", output).group(1)) / 1000,
        "p99": latency_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "failures": int(statuses.group(1)) if statuses else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
