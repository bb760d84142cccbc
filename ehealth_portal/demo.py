"""Demo data for development: an operator account and a development PKI with demo key files.

Only for DEBUG: the operator's password and authenticator secret are published in the README.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.utils import encrypt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from .models import User
from .signatures.devpki import DEFAULT_PASSWORD, DevPki

OPERATOR_EMAIL = "operator@ehealth.localhost"
OPERATOR_PASSWORD = "demo-operator-2026"
# Operators must have a second factor (ehealth_portal.mfa): the demo operator's authenticator app is
# this published, development-only secret (add it to an app, or run `manage.py totp_code EMAIL`).
OPERATOR_TOTP_SECRET = "EHEALTHDEMOOPERATORTOTPDEVONLY22"


@dataclass(frozen=True)
class DemoPerson:
    """A person with a qualified-signature key file, as the demo flows need them."""

    key_name: str
    surname: str
    given_names: str
    rnokpp: str
    edrpou: str | None = None


# The head of the demo clinic (EDRPOU 38782323); later flows register the clinic with this key.
DEMO_PEOPLE = [
    DemoPerson("demo-head", "Коваленко", "Олена Петрівна", "3185409128", "38782323"),
    DemoPerson("demo-doctor", "Шевчук", "Андрій Іванович", "2904501273"),
]


@transaction.atomic
def operator_ensure() -> User:
    user, _ = User.objects.get_or_create(email=OPERATOR_EMAIL)
    user.first_name, user.last_name = "Оператор", "Демо"
    user.is_staff = user.is_superuser = True
    user.set_password(OPERATOR_PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=OPERATOR_EMAIL, defaults={"verified": True, "primary": True}
    )
    Authenticator.objects.update_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": encrypt(OPERATOR_TOTP_SECRET)}}
    )
    RecoveryCodes.activate(user)  # kept if they exist
    return user


def demo_keys_ensure(pki: DevPki) -> dict[str, dict]:
    """Issue each demo person's key file once; later runs keep the existing files."""
    issued = {}
    for person in DEMO_PEOPLE:
        paths = pki.paths(person.key_name)
        if not paths["p12"].exists():
            pki.issue(
                person.key_name,
                surname=person.surname,
                given_names=person.given_names,
                drfo=person.rnokpp,
                edrpou=person.edrpou,
            )
        issued[person.key_name] = {"person": person, "p12": paths["p12"], "password": DEFAULT_PASSWORD}
    return issued


def demo_data_load() -> dict:
    if not settings.DEBUG:
        raise ImproperlyConfigured("Demo data is for development only (DJANGO_DEBUG=true).")
    pki = DevPki.from_settings()
    pki.init()
    return {"operator": operator_ensure(), "keys": demo_keys_ensure(pki), "pki": pki}
