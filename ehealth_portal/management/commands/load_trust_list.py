"""`manage.py load_trust_list FILE… [--bundle PATH] [--dry-run]`: trusted lists → the signature trust bundle."""

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ehealth_portal.signatures import trust
from ehealth_portal.signatures.trust_list import (
    Anchor,
    TrustListError,
    anchor_from_der,
    bundle_change,
    bundle_pem,
    trust_list_anchors,
    trust_list_parse,
)


class Command(BaseCommand):
    help = (
        "Replace the signature trust bundle with the CA certificates of the granted qualified-certificate "
        "services (CA/QC) in ETSI TS 119 612 trusted lists (TL-UA-DSTU.xml, TL-UA-EC.xml), and print "
        "what changed. Pass every list in use at once: anchors missing from the given lists are removed. "
        "The lists' XML signature is NOT verified: download them from the Central Certification "
        "Authority's official site over HTTPS (see docs/security.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="a trusted list (XML)")
        parser.add_argument(
            "--bundle", type=Path, help="the PEM bundle to write (default settings.SIGNATURE_CA_BUNDLE)"
        )
        parser.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")

    def handle(
        self, *args: object, files: list[Path], bundle: Path | None, dry_run: bool, **_: object
    ) -> None:
        bundle = bundle or self._default_bundle()
        now = datetime.now(UTC)
        anchors: dict[bytes, Anchor] = {}
        for path in files:
            for anchor in self._list_anchors(path, now):
                anchors.setdefault(anchor.der, anchor)
        if not anchors:
            raise CommandError("the lists name no granted CA/QC certificate: the bundle was left as it is")
        change = bundle_change(self._current(bundle), anchors.values())
        for label, items in (("added", change.added), ("removed", change.removed)):
            for anchor in items:
                self.stdout.write(f"{label}: {anchor.subject}  SHA-256 {anchor.fingerprint}")
        summary = f"{len(change.added)} added, {len(change.removed)} removed, {len(change.kept)} unchanged"
        if dry_run:
            self.stdout.write(f"dry run, {bundle} not written: {summary}")
            return
        if change.added or change.removed:
            _write_atomically(bundle, bundle_pem(anchors.values(), source=", ".join(p.name for p in files)))
        self.stdout.write(self.style.SUCCESS(f"{bundle}: {summary}"))

    def _default_bundle(self) -> Path:
        configured = settings.SIGNATURE_CA_BUNDLE
        if isinstance(configured, (list, tuple)):
            raise CommandError("SIGNATURE_CA_BUNDLE lists several files: choose one with --bundle")
        return Path(configured)

    def _list_anchors(self, path: Path, now: datetime) -> tuple[Anchor, ...]:
        try:
            trust_list = trust_list_parse(path.read_bytes())
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        except TrustListError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(
            f"{path.name}: {trust_list.operator or 'unknown operator'} ({trust_list.territory}), "
            f"sequence {trust_list.sequence_number or '?'}, issued {trust_list.issued or '?'}"
        )
        if trust_list.next_update is not None and trust_list.next_update < now:
            self.stderr.write(
                self.style.WARNING(f"{path.name}: outdated, next update was due {trust_list.next_update}")
            )
        selection = trust_list_anchors(trust_list, now=now)
        for reason in selection.skipped:
            self.stdout.write(f"skipped: {reason}")
        return selection.anchors

    def _current(self, bundle: Path) -> list[Anchor]:
        try:
            data = bundle.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise CommandError(f"{bundle}: {error.strerror}") from None
        current = []
        for der in trust.bundle_certificates(data, bundle):
            try:
                current.append(anchor_from_der(der))
            except ValueError:
                continue  # a malformed entry in the old bundle is replaced like any other
        return current


def _write_atomically(path: Path, data: bytes) -> None:
    """A new file renamed into place: verifications read the old or the new bundle, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
