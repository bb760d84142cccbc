"""Demo data for development: the first active demo CNAP applies with a signed application and its
system (the CNAP simulator started by run.py) is connected.

Only for DEBUG: the key file's and the system's passwords are published here and in the README.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from ehealth_portal.demo import OPERATOR_EMAIL, DemoPerson
from ehealth_portal.models import User
from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki, cms_sign

from .models import Cnap, CnapSystem, JoiningApplication
from .services import (
    cnap_system_connect,
    cnap_system_update,
    joining_application_submit,
    joining_application_text,
)

# An official of the body that runs the demo CNAP (a made-up but valid EDRPOU).
CNAP_OFFICIAL = DemoPerson("demo-cnap", "Мельник", "Ірина Василівна", "2954107135", "04012514")
CNAP_CONTACT_EMAIL = "cnap@cnap.localhost"
SIMULATOR_URL = "http://127.0.0.1:8765"  # manage.py cnap_simulator, as run.py starts it
SIMULATOR_LOGIN = "erepository"
SIMULATOR_PASSWORD = "demo-cnap-2026"
SYSTEM_NAME = "Вулик (симулятор)"


@dataclass(frozen=True)
class MonitoringDemo:
    cnap: Cnap
    application: JoiningApplication
    system: CnapSystem
    key_file: Path
    key_password: str
    changes: list[str]  # what this run did; empty when everything was in place


def simulator_base_url(simulator_url: str, cnap: Cnap) -> str:
    return f"{simulator_url.rstrip('/')}/asc/{cnap.code}/appeals/"


def official_key_ensure(pki: DevPki) -> tuple[Path, bool]:
    """The official's key file, issued once; returns its path and whether it was issued now."""
    p12 = pki.paths(CNAP_OFFICIAL.key_name)["p12"]
    if p12.exists():
        return p12, False
    pki.issue(
        CNAP_OFFICIAL.key_name,
        surname=CNAP_OFFICIAL.surname,
        given_names=CNAP_OFFICIAL.given_names,
        drfo=CNAP_OFFICIAL.rnokpp,
        edrpou=CNAP_OFFICIAL.edrpou,
        title="Начальник відділу ЦНАП",
    )
    return p12, True


def monitoring_demo_load(*, simulator_url: str = SIMULATOR_URL) -> MonitoringDemo:
    """Apply for the first active CNAP and connect its system; a second run changes nothing."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is for development only (DJANGO_DEBUG=true).")
    cnap = Cnap.objects.filter(is_active=True).order_by("code").first()
    if cnap is None:
        raise ImproperlyConfigured(
            "No active CNAP: load monitoring/data/demo/cnaps.json with `manage.py import_cnaps` first."
        )
    pki = DevPki.from_settings()
    pki.init()
    key_file, issued = official_key_ensure(pki)
    changes = [f"issued the key file {key_file}"] if issued else []
    operator = User.objects.filter(email=OPERATOR_EMAIL).first()  # from `manage.py demo_data`, if loaded
    base_url = simulator_base_url(simulator_url, cnap)
    with transaction.atomic():
        system = CnapSystem.objects.filter(cnap=cnap, is_active=True).select_related("application").first()
        if system is None:
            application = (
                JoiningApplication.objects.filter(cnap=cnap)
                .exclude(status=JoiningApplication.Status.REJECTED)
                .order_by("created_at")
                .first()
            )
            if application is None:
                application = _application_submit(cnap=cnap, pki=pki)
                changes.append(
                    f"submitted joining application {application.pk} signed by {application.signer_name}"
                )
            system = cnap_system_connect(
                application=application,
                name=SYSTEM_NAME,
                base_url=base_url,
                login=SIMULATOR_LOGIN,
                password=SIMULATOR_PASSWORD,
                actor=operator,
            )
            changes.append(f"connected system {system.pk} at {base_url}")
        elif system.base_url != base_url:
            system = cnap_system_update(system=system, actor=operator, base_url=base_url)
            changes.append(f"moved system {system.pk} to {base_url}")
    return MonitoringDemo(cnap, system.application, system, key_file, DEFAULT_PASSWORD, changes)


def _application_submit(*, cnap: Cnap, pki: DevPki) -> JoiningApplication:
    fields = {
        "cnap": cnap,
        "organisation_edrpou": CNAP_OFFICIAL.edrpou,
        "contact_email": CNAP_CONTACT_EMAIL,
        # The address the CNAP proposes; the operator connects the simulator (possibly elsewhere).
        "proposed_base_url": simulator_base_url(SIMULATOR_URL, cnap),
    }
    text = joining_application_text(**fields, day=timezone.localdate())
    signature = cms_sign(text.encode("utf-8"), pki.credential(CNAP_OFFICIAL.key_name))
    return joining_application_submit(**fields, signed_content=text, signature=signature)
