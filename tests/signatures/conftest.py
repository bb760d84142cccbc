"""A test PKI made once per session: roots, an intermediate, people with assorted certificates."""

import base64
import datetime as dt
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ehealth_portal.signatures.devpki import (
    Credential,
    ca_create,
    certificate_issue,
    crl_create,
    key_generate,
)

OPENSSL = "/usr/bin/openssl"
CONTENT = '{"declaration": "Декларація", "id": 42}\n'.encode()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)

PEOPLE = {
    # name: (issuer, key, certificate_issue options)
    "rsa": ("root", "rsa", {}),
    "ec": ("root_ec", "ec", {}),
    "p384": ("root_ec", "ec384", {}),
    "via_intermediate": ("intermediate", "rsa", {}),
    "etsi_only": ("root", "ec", {"directory_attributes": False}),
    "sda_only": ("root", "ec", {"etsi_identifiers": False}),
    "expired": (
        "root",
        "rsa",
        {"not_before": NOW - dt.timedelta(days=400), "not_after": NOW - dt.timedelta(days=35)},
    ),
    "not_yet_valid": ("root", "rsa", {"not_before": NOW + dt.timedelta(days=10)}),
    "revoked": ("root", "rsa", {}),
    "encryption_only": ("root", "rsa", {"key_usage": ("key_encipherment",)}),
    "unknown": ("unknown_root", "rsa", {}),
    "second": ("root_ec", "ec", {"drfo": "2222222222", "surname": "Франко", "given_names": "Іван Якович"}),
    "stamp": ("root", "ec", {"stamp": True, "organization": "КНП «Поліклініка»"}),
}


@dataclass
class Person:
    credential: Credential
    cert_pem: Path
    key_pem: Path
    chain_pem: Path | None  # intermediates, for openssl -certfile

    @property
    def certificate(self) -> x509.Certificate:
        return self.credential.certificate


@dataclass
class TestPki:
    directory: Path
    bundle: Path
    crls: Path
    cas: dict[str, Credential]
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


def _pem_write(path: Path, *items: x509.Certificate | x509.CertificateRevocationList) -> Path:
    path.write_bytes(b"".join(item.public_bytes(serialization.Encoding.PEM) for item in items))
    return path


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory) -> TestPki:
    directory = tmp_path_factory.mktemp("pki")
    keys = {kind: key_generate(kind) for kind in ("rsa", "ec", "ec384")}  # shared: key generation is slow
    root = ca_create("Test Root RSA", key=key_generate("rsa"))
    root_ec = ca_create("Test Root EC", key=key_generate("ec"))
    cas = {
        "root": root,
        "root_ec": root_ec,
        "intermediate": ca_create("Test Intermediate", issuer=root, key=keys["ec"], path_length=0),
        "unknown_root": ca_create("Test Root Nobody Trusts", key=keys["rsa"]),
    }
    pki = TestPki(directory, directory / "bundle.pem", directory / "crls", cas)
    _pem_write(pki.bundle, root.certificate, root_ec.certificate)
    for name, (issuer, key, options) in PEOPLE.items():
        fields = {
            "surname": "Шевченко",
            "given_names": "Тарас Григорович",
            "drfo": "3067305998",
            "edrpou": "37367387",
        }
        credential = certificate_issue(cas[issuer], key=keys[key], **{**fields, **options})
        intermediates = credential.chain[:-1]
        pki.people[name] = Person(
            credential=credential,
            cert_pem=_pem_write(directory / f"{name}.cert.pem", credential.certificate),
            key_pem=directory / f"{name}.key.pem",
            chain_pem=_pem_write(directory / f"{name}.chain.pem", *intermediates) if intermediates else None,
        )
        pki.people[name].key_pem.write_bytes(
            keys[key].private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    pki.crls.mkdir()
    _pem_write(pki.crls / "root.crl", crl_create(root, [pki["revoked"].certificate.serial_number]))
    (pki.crls / "root-ec.crl").write_bytes(crl_create(root_ec, []).public_bytes(serialization.Encoding.DER))
    _pem_write(pki.crls / "forged.crl", _forged_crl(root, keys["rsa"], pki["rsa"].certificate.serial_number))
    return pki


def _forged_crl(victim: Credential, key, serial: int) -> x509.CertificateRevocationList:
    """A CRL naming `victim` as issuer (name and key identifier) but signed by another key."""
    entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW).build()
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(victim.private_key.public_key())
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(victim.certificate.subject)
        .last_update(NOW)
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(aki, critical=False)
        .add_revoked_certificate(entry)
    )
    return builder.sign(key, hashes.SHA256())


@pytest.fixture(autouse=True)
def _trust_settings(settings, test_pki):
    settings.SIGNATURE_CA_BUNDLE = test_pki.bundle
    settings.SIGNATURE_CRLS = test_pki.crls


def openssl_sign(
    person: Person,
    content: bytes = CONTENT,
    *,
    detached: bool = False,
    form: str = "DER",
    options: tuple[str, ...] = (),
    tmp_path: Path,
) -> bytes:
    """A signature made by the real `openssl cms -sign`; form DER, PEM or BASE64 (of DER)."""
    source = tmp_path / "content.bin"
    target = tmp_path / "signature"
    source.write_bytes(content)
    command = [
        OPENSSL, "cms", "-sign", "-binary", "-in", str(source), "-signer", str(person.cert_pem),
        "-inkey", str(person.key_pem), "-outform", "PEM" if form == "PEM" else "DER", "-out", str(target),
    ]  # fmt: skip
    if not detached:
        command.append("-nodetach")
    if person.chain_pem:
        command += ["-certfile", str(person.chain_pem)]
    subprocess.run([*command, *options], check=True, capture_output=True)
    signature = target.read_bytes()
    return base64.encodebytes(signature) if form == "BASE64" else signature
