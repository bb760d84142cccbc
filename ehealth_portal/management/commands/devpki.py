"""`manage.py devpki init|issue|revoke|sign`: the development PKI (see ehealth_portal.signatures.devpki)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, KEY_TYPES, DevPki, DevPkiError, cms_sign


class Command(BaseCommand):
    help = (
        "Development PKI: a local test CA under settings.DEVPKI_DIR whose root is written into "
        "settings.SIGNATURE_CA_BUNDLE and whose CRLs go to settings.SIGNATURE_CRLS. Never for production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        init = actions.add_parser(
            "init", help="create the CA (unless it exists) and write the bundle and CRLs"
        )
        init.add_argument(
            "--intermediate", action="store_true", help="issue people's certificates from an intermediate CA"
        )
        init.add_argument("--force", action="store_true", help="replace an existing CA")
        init.add_argument("--key-type", choices=KEY_TYPES, default="rsa")

        issue = actions.add_parser("issue", help="issue a personal signing certificate")
        issue.add_argument(
            "--out", required=True, metavar="NAME", help="name of the files under DEVPKI_DIR/people"
        )
        issue.add_argument("--surname", required=True)
        issue.add_argument("--given-names", required=True)
        issue.add_argument("--drfo", required=True, help="РНОКПП (DRFO)")
        issue.add_argument("--edrpou", help="ЄДРПОУ of the organisation (employees)")
        issue.add_argument("--organization")
        issue.add_argument("--title")
        issue.add_argument("--key-type", choices=KEY_TYPES, default="rsa")
        issue.add_argument("--days", type=int, default=365)
        issue.add_argument(
            "--stamp", action="store_true", help="an organisation's stamp (EKU 1.2.804.2.1.1.1.3.9)"
        )
        issue.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"of the PKCS#12 file (default {DEFAULT_PASSWORD!r})"
        )

        revoke = actions.add_parser("revoke", help="list a certificate on the CRL")
        revoke.add_argument("name", metavar="NAME")

        sign = actions.add_parser("sign", help="sign a file (CMS SignedData, DER)")
        sign.add_argument("file", type=Path, metavar="FILE")
        sign.add_argument("--key", required=True, metavar="NAME", help="a certificate made by `issue`")
        sign.add_argument("--detached", action="store_true", help="leave the content out of the signature")
        sign.add_argument("--out", type=Path, help="output file (default FILE.p7s)")

    def handle(self, *args: object, action: str, **options: object) -> None:
        pki = DevPki.from_settings()
        try:
            getattr(self, f"_{action}")(pki, **options)
        except DevPkiError as error:
            raise CommandError(str(error)) from error

    def _init(
        self, pki: DevPki, *, intermediate: bool, force: bool, key_type: str, **options: object
    ) -> None:
        created = pki.init(intermediate=intermediate, force=force, key_type=key_type)
        state = "created" if created else "exists (use --force to replace it)"
        self.stdout.write(f"Development CA {state}: {pki.directory}")
        self.stdout.write(f"Trust bundle: {pki.bundle}\nCRLs: {pki.crls}")

    def _issue(self, pki: DevPki, *, out: str, password: str, **options: object) -> None:
        fields = {
            key: options[key]
            for key in (
                "surname",
                "given_names",
                "drfo",
                "edrpou",
                "organization",
                "title",
                "key_type",
                "days",
                "stamp",
            )
        }
        if not pki.exists():
            raise CommandError("no development CA: run `manage.py devpki init` first")
        credential = pki.issue(out, password=password, **fields)
        paths = {kind: str(path) for kind, path in pki.paths(out).items()}
        serial = f"{credential.certificate.serial_number:X}"
        self.stdout.write(json.dumps({"name": out, "serial": serial, **paths}, ensure_ascii=False, indent=2))

    def _revoke(self, pki: DevPki, *, name: str, **options: object) -> None:
        serial = pki.revoke(name)
        self.stdout.write(f"Revoked {name} (serial {serial:X}); CRLs updated in {pki.crls}")

    def _sign(
        self, pki: DevPki, *, file: Path, key: str, detached: bool, out: Path | None, **options: object
    ) -> None:
        try:
            content = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read: {error}") from error
        target = out or file.with_name(file.name + ".p7s")
        target.write_bytes(cms_sign(content, pki.credential(key), detached=detached))
        self.stdout.write(f"Signed {file} as {key}: {target}")
