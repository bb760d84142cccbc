from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from monitoring.demo import (
    CNAP_OFFICIAL,
    SIMULATOR_LOGIN,
    SIMULATOR_PASSWORD,
    SIMULATOR_URL,
    monitoring_demo_load,
)


class Command(BaseCommand):
    help = (
        "Development only: the first active demo CNAP applies with a signed joining application and its "
        "system (the CNAP simulator) is connected. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--simulator-url",
            default=SIMULATOR_URL,
            help=f"Where `manage.py cnap_simulator` listens (default {SIMULATOR_URL}); the system's base URL "
            "is <simulator-url>/asc/<CNAP code>/appeals/.",
        )

    def handle(self, *args, **options):
        try:
            demo = monitoring_demo_load(simulator_url=options["simulator_url"])
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        for change in demo.changes:
            self.stdout.write(f"Demo monitoring: {change}")
        if not demo.changes:
            self.stdout.write("Demo monitoring: already in place, nothing changed")
        self.stdout.write(
            f"CNAP {demo.cnap.code} {demo.cnap.name}: system {demo.system.base_url} "
            f"(Basic Auth {SIMULATOR_LOGIN} / {SIMULATOR_PASSWORD}), joining application {demo.application.pk}"
        )
        self.stdout.write(
            f"Key file of the CNAP official {CNAP_OFFICIAL.surname} {CNAP_OFFICIAL.given_names} "
            f"(EDRPOU {CNAP_OFFICIAL.edrpou}): {demo.key_file}  password: {demo.key_password}"
        )
