"""Shared fixtures for facility registration: reference data, a test PKI, payloads, the register.

def test_x(registration, pki):
    head = pki.person()                       # the demo head (RNOKPP 3185409128, EDRPOU 38782323)
    data = registration.payload()             # a valid eHealth payload for the demo clinic
    signature = pki.sign(head, legal_entity_payload_canonical(data))
    registration.register_clinic()            # the clinic in the state-register copy
"""

import copy
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core import mail

from ehealth_portal.signatures.devpki import (
    Credential,
    ca_create,
    certificate_issue,
    cms_sign,
    crl_create,
    key_generate,
)
from registry.payloads import legal_entity_payload_canonical, legal_entity_payload_validate
from registry.services import reference_data_load
from tests.factories import EdrRecordFactory

ROOT = Path(__file__).resolve().parents[2]
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

CLINIC_EDRPOU = "38782323"
CLINIC_NAME = "ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ «ДЕМО КЛІНІКА»"
CLINIC_SHORT_NAME = "ТОВ «ДЕМО КЛІНІКА»"
HEAD = {
    "surname": "Коваленко",
    "given_names": "Олена Петрівна",
    "drfo": "3185409128",
    "edrpou": CLINIC_EDRPOU,
}
HEAD_EMAIL = "head@clinic.example"
FOP_RNOKPP = "2904501273"
FOP_HEAD = {"surname": "Шевчук", "given_names": "Андрій Іванович", "drfo": FOP_RNOKPP, "edrpou": None}

PAYLOAD = {
    "name": CLINIC_NAME,
    "short_name": CLINIC_SHORT_NAME,
    "public_name": "Демо Клініка",
    "type": "MSP",
    "owner_property_type": "PRIVATE",
    "legal_form": "240",
    "edrpou": CLINIC_EDRPOU,
    "kveds": ["86.21", "86.90"],
    "addresses": [
        {
            "type": "REGISTRATION",
            "country": "UA",
            "area": "Київ",
            "settlement": "Київ",
            "settlement_type": "CITY",
            "street_type": "STREET",
            "street": "Хрещатик",
            "building": "1",
            "zip": "01001",
        }
    ],
    "phones": [{"type": "MOBILE", "number": "+380501234567"}],
    "email": "Clinic@Clinic.example",
    "website": "clinic.example",
    "owner": {
        "last_name": "Коваленко",
        "first_name": "Олена",
        "second_name": "Петрівна",
        "tax_id": "3185409128",
        "birth_date": "1980-05-17",
        "gender": "FEMALE",
        "email": HEAD_EMAIL,
        "documents": [
            {"type": "NATIONAL_ID", "number": "001234567", "issued_by": "7101", "issued_at": "2018-01-10"}
        ],
        "phones": [{"type": "MOBILE", "number": "+380671234567"}],
        "position": "P2",
    },
    "medical_service_provider": {
        "licenses": [
            {
                "license_number": "АЕ123456",
                "issued_by": "МОЗ України",
                "issued_date": "2020-01-15",
                "active_from_date": "2020-01-15",
                "order_no": "15-Л",
            }
        ],
        "accreditation": {"category": "FIRST", "order_no": "77", "order_date": "2021-03-01"},
    },
    "security": {"redirect_uri": "https://clinic.example/auth"},
    "public_offer": {"consent": True, "consent_text": "Згоден з умовами публічної оферти"},
    "division": {
        "name": "Амбулаторія на Хрещатику",
        "type": "CLINIC",
        "addresses": [
            {
                "type": "RESIDENCE",
                "country": "UA",
                "area": "Київ",
                "settlement": "Київ",
                "settlement_type": "CITY",
                "street": "Хрещатик",
                "building": "1",
            }
        ],
        "phones": [{"type": "LAND_LINE", "number": "+380441234567"}],
        "email": "ambulatory@clinic.example",
        "location": {"latitude": 50.4501, "longitude": 30.5234},
    },
}


# The clinic of the demo register (registry/data/demo_edr/uo.xml), whose head is the demo head.
DEMO_CLINIC = {
    "name": "КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО «ДЕМО ЦЕНТР ПЕРВИННОЇ МЕДИКО-САНІТАРНОЇ ДОПОМОГИ»",
    "short_name": "КНП «ДЕМО ЦПМСД»",
    "legal_form": "150",
    "owner_property_type": "STATE",
}


@pytest.fixture
def demo_register(db):
    """The demo state register, imported as `import_edr` imports it."""
    from registry.edr import DEMO_REGISTER_FILES, edr_import

    return edr_import(list(DEMO_REGISTER_FILES))


@pytest.fixture
def reference_data(db):
    reference_data_load(data=json.loads((ROOT / "registry/data/dictionaries.json").read_text()))


# --- PKI --------------------------------------------------------------------------------------------


@dataclass
class Head:
    credential: Credential
    cert_pem: Path
    key_pem: Path
    chain_pem: Path | None = None  # openssl_sign's Person shape


@dataclass
class RegistrationPki:
    directory: Path
    root: Credential
    bundle: Path
    crls: Path
    _key = None
    _issued: dict = field(default_factory=dict)

    def person(self, **fields) -> Head:
        """A certificate under the trusted root; the demo head unless fields say otherwise."""
        fields = {**HEAD, **fields}
        cache_key = tuple(sorted(fields.items(), key=lambda item: item[0]))
        if cache_key not in self._issued:
            if self._key is None:
                self._key = key_generate("ec")  # one key for everybody: generation is the slow part
            credential = certificate_issue(self.root, key=self._key, **fields)
            stem = self.directory / f"person{len(self._issued)}"
            cert_pem = stem.with_suffix(".cert.pem")
            key_pem = stem.with_suffix(".key.pem")
            cert_pem.write_bytes(credential.certificate.public_bytes(serialization.Encoding.PEM))
            key_pem.write_bytes(
                self._key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            self._issued[cache_key] = Head(credential, cert_pem, key_pem)
        return self._issued[cache_key]

    def sign(self, person: Head, content: bytes, *, detached: bool = False) -> bytes:
        return cms_sign(content, person.credential, detached=detached)

    def openssl_sign(self, person: Head, content: bytes, *, detached: bool = False) -> bytes:
        """DER made by the real `openssl cms -sign`, as a MIS would make it."""
        source = self.directory / "content.bin"
        target = self.directory / "signature.p7s"
        source.write_bytes(content)
        command = [
            OPENSSL, "cms", "-sign", "-binary", "-in", str(source), "-signer", str(person.cert_pem),
            "-inkey", str(person.key_pem), "-outform", "DER", "-out", str(target),
        ]  # fmt: skip
        if not detached:
            command.append("-nodetach")
        subprocess.run(command, check=True, capture_output=True)
        return target.read_bytes()


@pytest.fixture(scope="session")
def _registration_pki(tmp_path_factory) -> RegistrationPki:
    directory = tmp_path_factory.mktemp("registration-pki")
    root = ca_create("Registration Test Root", key=key_generate("ec"))
    bundle = directory / "bundle.pem"
    bundle.write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    crls = directory / "crls"
    crls.mkdir()
    (crls / "root.crl").write_bytes(crl_create(root, []).public_bytes(serialization.Encoding.PEM))
    return RegistrationPki(directory, root, bundle, crls)


@pytest.fixture
def pki(_registration_pki, settings) -> RegistrationPki:
    settings.SIGNATURE_CA_BUNDLE = _registration_pki.bundle
    settings.SIGNATURE_CRLS = _registration_pki.crls
    return _registration_pki


# --- Payloads and the state register ------------------------------------------------------------------


class Registration:
    """Builders for the registration tests."""

    def payload(self, **changes) -> dict:
        """The demo clinic's validated payload; `changes` replace top-level members."""
        data = copy.deepcopy(PAYLOAD)
        data.update(changes)
        return legal_entity_payload_validate(data)

    def fop_payload(self, *, names=("Шевчук", "Андрій", "Іванович"), rnokpp=FOP_RNOKPP, **changes) -> dict:
        data = copy.deepcopy(PAYLOAD)
        owner = {**data["owner"], "last_name": names[0], "first_name": names[1], "second_name": names[2]}
        owner.update(tax_id=rnokpp, gender="MALE", position="P26", email="fop@clinic.example")
        data.update(
            name=" ".join(names),
            short_name=f"ФОП {names[0]}",
            legal_form="910",
            edrpou=rnokpp,
            owner=owner,
        )
        data.update(changes)
        return legal_entity_payload_validate(data)

    def canonical(self, data: dict) -> bytes:
        return legal_entity_payload_canonical(data)

    def register_clinic(self, **fields):
        defaults = {
            "kind": "UO",
            "code": CLINIC_EDRPOU,
            "name": CLINIC_NAME,
            "short_name": CLINIC_SHORT_NAME,
            "heads": ["КОВАЛЕНКО ОЛЕНА ПЕТРІВНА"],
            "kveds": ["86.21"],
        }
        return EdrRecordFactory(**{**defaults, **fields})

    def register_fop(self, name: str = "Шевчук Андрій Іванович", **fields):
        return EdrRecordFactory(kind="FOP", code="", name=name, short_name="", heads=[], **fields)


@pytest.fixture
def registration(reference_data) -> Registration:
    return Registration()


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks of a block (tasks, emails), as a committed request would."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox
