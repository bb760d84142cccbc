import sys
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.edr import BATCH_SIZE, ImportProgress, edr_import


class Command(BaseCommand):
    help = (
        "Load the state register (ЄДР) open data into the local copy: XML files of legal entities and sole "
        "proprietors in the RECORD or SUBJECT format, plain or zipped, windows-1251 as published. "
        "Idempotent: records are upserted by EDRPOU (sole proprietors by name and registration) and only "
        "changed ones are written; prints the counts of new, updated, unchanged and skipped records."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="XML or zip file")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"records per write (default {BATCH_SIZE})"
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="parsing processes (default: one per CPU for large files; 0: parse in this process)",
        )

    def handle(self, *args, files: list[Path], batch_size: int, workers: int | None, **options):
        bar = _ProgressBar(sys.stderr)
        try:
            counts = edr_import(files, batch_size=max(batch_size, 1), workers=workers, progress=bar)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        finally:
            bar.close()
        for problem in counts.problems:
            self.stderr.write(f"skipped: {problem}")
        if counts.skipped > len(counts.problems):
            self.stderr.write(f"skipped: … and {counts.skipped - len(counts.problems)} more")
        self.stdout.write(f"{counts.records} records in {bar.elapsed():.1f} s: {counts}")


class _ProgressBar:
    """One line on stderr, rewritten with \\r at most twice a second: file, percent, records/s."""

    def __init__(self, stream):
        self.stream, self.started, self.shown, self.written = stream, time.monotonic(), 0.0, False

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, place: ImportProgress) -> None:
        now = time.monotonic()
        if now - self.shown < 0.5:
            return
        self.shown = now
        percent = f"{100 * place.position / place.size:3.0f}%" if place.size else ""
        records = place.counts.records
        rate = records / max(now - self.started, 1e-9)
        self.stream.write(f"\r{place.source} {percent} {records:,} records, {rate:,.0f} records/s  ")
        self.stream.flush()
        self.written = True

    def close(self) -> None:
        if self.written:
            self.stream.write("\n")
