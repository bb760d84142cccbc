import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.services import LoadReport, kveds_load_classifier, reference_data_load

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "dictionaries.json"


class Command(BaseCommand):
    help = (
        "Load the eHealth dictionaries and global parameters shipped in registry/data/dictionaries.json "
        "(or FILE), and optionally the official KVED-2010 classifier into KVEDS. Idempotent: dictionaries "
        "are matched by name, values by key, parameters by name; a second run reports 0 created, 0 updated. "
        "Labels, positions and parameter values come from the file. The active flag of an existing "
        "dictionary or value is the operators' and is kept (a value switched off in the admin stays off) "
        "unless --reset-active is given. Rows missing from the file are never deleted or deactivated. "
        "KVEDS labels from --kved-file win over the shipped subset, which only adds missing codes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=DEFAULT_FILE,
            help="dictionaries JSON (default: the shipped one)",
        )
        parser.add_argument(
            "--kved-file",
            type=Path,
            help='KVED-2010 classifier JSON from data.gov.ua ({"sections": [[{..., "divisions": [...]}]]}); '
            "its classes are loaded into KVEDS after the dictionaries",
        )
        parser.add_argument(
            "--reset-active",
            action="store_true",
            help="switch every loaded dictionary and value back to the file's active flag",
        )

    def handle(self, *args, file: Path, kved_file: Path | None, reset_active: bool, **options):
        try:
            report = reference_data_load(data=self._read(file), reset_active=reset_active)
            self._print(file, report)
            if kved_file:
                self._print(
                    kved_file,
                    kveds_load_classifier(classifier=self._read(kved_file), reset_active=reset_active),
                )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error

    def _read(self, path: Path):
        try:
            return json.loads(path.read_text(encoding="utf-8-sig"))  # data.gov.ua files may carry a BOM
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error

    def _print(self, path: Path, report: LoadReport) -> None:
        self.stdout.write(f"{path.name}:")
        self.stdout.write(f"  dictionaries: {report.dictionaries}")
        self.stdout.write(f"  values: {report.values}")
        self.stdout.write(f"  global parameters: {report.global_parameters}")
