import contextlib
import ipaddress

from django.core.management.base import BaseCommand, CommandError

from monitoring.simulator import FAULT_KINDS, CnapSimulator


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = (
        "Development and demos: serve simulated CNAP information systems (made-up appeals, no personal "
        "data) for every active CNAP at /asc/<CNAP code>/appeals/. Faults: POST /_faults from this machine."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--volume", type=int, default=20, help="Appeals per CNAP per day (default 20).")
        parser.add_argument("--page-size", type=int, default=500)
        parser.add_argument("--login", default="erepository")
        parser.add_argument("--password", default="demo-cnap-2026")
        parser.add_argument("--seed", default="2026", help="Another seed, other appeals.")
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            choices=sorted(FAULT_KINDS),
            help="Fail the next appeals request this way; repeat for more.",
        )
        parser.add_argument(
            "--allow-public",
            action="store_true",
            help="Listen on a non-loopback address (never in production).",
        )
        parser.add_argument("--verbose", action="store_true", help="Log every request.")

    def handle(self, *args, **options):
        if not _is_loopback(options["host"]) and not options["allow_public"]:
            raise CommandError(
                f"{options['host']} is not a loopback address; pass --allow-public to listen on it anyway."
            )
        if options["volume"] < 0 or options["page_size"] < 1:
            raise CommandError("--volume must be at least 0 and --page-size at least 1.")
        try:
            simulator = CnapSimulator(
                host=options["host"],
                port=options["port"],
                login=options["login"],
                password=options["password"],
                appeals_per_day=options["volume"],
                page_size=options["page_size"],
                seed=options["seed"],
                verbose=options["verbose"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        for kind in options["fault"]:
            simulator.fault(kind)
        if not simulator.cnap_codes:
            self.stderr.write(
                "No active CNAP in the database: every request will get 404 (run import_cnaps)."
            )
        self.stdout.write(
            f"CNAP simulator on http://{options['host']}:{options['port']} "
            f"(Basic Auth {options['login']} / {options['password']}), {options['volume']} appeals per CNAP per day:"
        )
        for code in sorted(simulator.cnap_codes):
            self.stdout.write(f"  {simulator.url_for(code)}")
        self.stdout.write(
            f'Faults: curl -X POST {simulator.base_url}/_faults -d \'{{"kind": "500", "times": 2}}\' '
            f"(kinds: {', '.join(sorted(FAULT_KINDS))}); curl -X DELETE {simulator.base_url}/_faults"
        )
        with contextlib.suppress(KeyboardInterrupt):
            simulator.serve_forever()
