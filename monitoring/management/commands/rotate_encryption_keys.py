from django.core.management.base import BaseCommand, CommandError

from ehealth_portal.encryption import SecretUnreadable
from monitoring.services import cnap_system_passwords_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (CNAP systems' passwords) with the newest FIELD_ENCRYPTION_KEYS key, "
        "in one transaction. Run it after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args, **options):
        try:
            count = cnap_system_passwords_rotate()
        except SecretUnreadable as error:
            raise CommandError(f"Nothing changed: {error}.") from error
        self.stdout.write(f"Re-encrypted {count} CNAP system password(s) with the newest key.")
