from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ehealth_portal.demo import OPERATOR_PASSWORD, OPERATOR_TOTP_SECRET, demo_data_load


class Command(BaseCommand):
    help = "Development only: the demo operator, a development CA in the trust bundle, and demo key files."

    def handle(self, *args, **options):
        try:
            loaded = demo_data_load()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        operator = loaded["operator"]
        self.stdout.write(f"Operator: {operator.email} / {OPERATOR_PASSWORD}  (http://127.0.0.1:8000/admin/)")
        self.stdout.write(
            f"Operator's authenticator app secret: {OPERATOR_TOTP_SECRET}  "
            f"(or the current code: manage.py totp_code {operator.email})"
        )
        self.stdout.write(f"Trust bundle: {loaded['pki'].bundle}")
        for key in loaded["keys"].values():
            person = key["person"]
            self.stdout.write(
                f"Key file of {person.surname} {person.given_names} (RNOKPP {person.rnokpp}): "
                f"{key['p12']}  password: {key['password']}"
            )
