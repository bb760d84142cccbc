"""The shared part of the commands that import a Diia JSON dump ({"entries": [...]})."""

import json
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from monitoring.services import ImportReport


class DiiaDumpImportCommand(BaseCommand):
    import_entries: Callable[..., ImportReport]  # the service, as staticmethod(services_import)

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE", help='Diia JSON dump: {"entries": [...]}')

    def handle(self, *args, file: Path, **options):
        entries = _dump_entries(file)
        try:
            report = self.import_entries(entries=entries)
        except ValidationError as error:
            raise CommandError(f"{file}: {'; '.join(error.messages)}") from error
        for problem in report.problems:
            self.stderr.write(f"skipped {problem}")
        self.stdout.write(f"{file.name}: {report}")


def _dump_entries(path: Path) -> list:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # downloaded dumps may carry a BOM
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise CommandError(f"{path} is not a JSON file: {error}") from error
    if not isinstance(data, dict) or "entries" not in data:
        raise CommandError(f'{path} is not a Diia dump: expected an object with "entries".')
    if not isinstance(data["entries"], list):
        raise CommandError(f'{path} is not a Diia dump: "entries" must be a list.')
    return data["entries"]
