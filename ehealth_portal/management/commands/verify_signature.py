"""`manage.py verify_signature FILE [--content FILE]`: check a signature the way the portal does."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ehealth_portal.signatures import SignatureError, verify_signature


class Command(BaseCommand):
    help = (
        "Verify a CMS/PKCS#7 signature (DER, PEM or base64) against the configured trust bundle and CRLs; "
        "print the signers and the content digest as JSON, or the reason for refusing it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the signature file")
        parser.add_argument("--content", type=Path, help="the signed document, for a detached signature")
        parser.add_argument("--signers", type=int, default=1, help="expected number of signers (default 1)")

    def handle(
        self, *args: object, file: Path, content: Path | None, signers: int, **options: object
    ) -> None:
        try:
            signature = file.read_bytes()
            document_bytes = content.read_bytes() if content else None
        except OSError as error:
            raise CommandError(f"cannot read: {error}") from error
        try:
            document = verify_signature(signature, document_bytes, signers=signers)
        except SignatureError as error:
            raise CommandError(f"{error.code}: {error.message} ({error.detail})") from error
        self.stdout.write(json.dumps(document.as_dict(), ensure_ascii=False, indent=2))
