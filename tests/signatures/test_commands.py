import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import CommandError, call_command

from ehealth_portal.signatures import verify_signature
from ehealth_portal.signatures.devpki import DEFAULT_PASSWORD, DevPki, cms_sign

from .conftest import CONTENT, openssl_sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev_pki(settings, tmp_path) -> DevPki:
    """settings pointing at an empty development PKI in tmp_path."""
    settings.DEVPKI_DIR = tmp_path / "pki"
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "pki" / "trust-bundle.pem"
    settings.SIGNATURE_CRLS = tmp_path / "pki" / "crls"
    return DevPki.from_settings()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_devpki_issue_sign_verify_revoke(dev_pki, tmp_path):
    run("devpki", "init", "--intermediate")
    issued = json.loads(
        run("devpki", "issue", "--out", "olena", "--surname", "Коваль", "--given-names", "Олена Петрівна",
            "--drfo", "3067305998", "--edrpou", "37367387", "--key-type", "ec")
    )  # fmt: skip
    document = tmp_path / "request.json"
    document.write_bytes(CONTENT)
    run("devpki", "sign", "--key", "olena", str(document))

    result = json.loads(run("verify_signature", str(tmp_path / "request.json.p7s")))

    signer = result["signers"][0]
    assert (signer["surname"], signer["given_names"]) == ("Коваль", "Олена Петрівна")
    assert (signer["drfo"], signer["edrpou"]) == ("3067305998", "37367387")
    assert signer["certificate"]["serial"] == issued["serial"]
    assert "Development Issuing CA" in signer["certificate"]["issuer"]
    assert signer["signing_time"] and signer["certificate"]["not_after"]
    assert result["content_length"] == len(CONTENT)
    assert (
        result["content_sha256"]
        == verify_signature(document.with_name("request.json.p7s").read_bytes()).content_sha256
    )

    run("devpki", "revoke", "olena")
    with pytest.raises(CommandError, match="certificate_revoked"):
        run("verify_signature", str(tmp_path / "request.json.p7s"))


def test_devpki_detached_signature_needs_the_content(dev_pki, tmp_path):
    run("devpki", "init")
    run(
        "devpki",
        "issue",
        "--out",
        "petro",
        "--surname",
        "Петренко",
        "--given-names",
        "Петро",
        "--drfo",
        "3067305998",
    )
    document = tmp_path / "doc.txt"
    document.write_bytes(CONTENT)
    run("devpki", "sign", "--key", "petro", "--detached", "--out", str(tmp_path / "doc.p7s"), str(document))

    with pytest.raises(CommandError, match="content_missing"):
        run("verify_signature", str(tmp_path / "doc.p7s"))
    result = json.loads(run("verify_signature", str(tmp_path / "doc.p7s"), "--content", str(document)))
    assert result["detached"] is True
    assert result["signers"][0]["edrpou"] is None


def test_devpki_issued_files_work_with_openssl(dev_pki, tmp_path):
    run("devpki", "init")
    run(
        "devpki",
        "issue",
        "--out",
        "ivan",
        "--surname",
        "Іваненко",
        "--given-names",
        "Іван",
        "--drfo",
        "3067305998",
    )
    paths = dev_pki.paths("ivan")
    key, cert, _chain = pkcs12.load_key_and_certificates(paths["p12"].read_bytes(), DEFAULT_PASSWORD.encode())
    assert cert.subject == dev_pki.credential("ivan").certificate.subject

    class Person:  # what openssl_sign needs
        cert_pem, key_pem, chain_pem = paths["cert.pem"], paths["key.pem"], None

    assert verify_signature(openssl_sign(Person, tmp_path=tmp_path)).signer.drfo == "3067305998"


def test_devpki_init_is_idempotent_unless_forced(dev_pki):
    run("devpki", "init")
    root = (dev_pki.directory / "root.cert.pem").read_bytes()
    assert "exists" in run("devpki", "init")
    assert (dev_pki.directory / "root.cert.pem").read_bytes() == root

    run("devpki", "init", "--force")
    assert (dev_pki.directory / "root.cert.pem").read_bytes() != root
    assert dev_pki.bundle.read_bytes().count(b"BEGIN CERTIFICATE") == 1  # the old root is gone


def test_devpki_keeps_other_anchors_in_the_bundle(dev_pki, test_pki):
    dev_pki.bundle.parent.mkdir(parents=True)
    dev_pki.bundle.write_bytes(test_pki.bundle.read_bytes())
    run("devpki", "init")
    assert dev_pki.bundle.read_bytes().count(b"BEGIN CERTIFICATE") == 3
    assert verify_signature(cms_sign(CONTENT, test_pki["rsa"].credential))  # still trusted


def test_devpki_crls_into_a_single_file(dev_pki, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "all.crl.pem"
    pki = DevPki.from_settings()
    pki.init(intermediate=True)
    pki.issue("anna", surname="Ан", given_names="На", drfo="3067305998")
    signature = cms_sign(CONTENT, pki.credential("anna"))
    assert verify_signature(signature)
    pki.revoke("anna")
    assert settings.SIGNATURE_CRLS.read_bytes().count(b"BEGIN X509 CRL") == 2
    with pytest.raises(Exception, match="certificate_revoked"):
        verify_signature(signature)


def test_devpki_errors_are_command_errors(dev_pki):
    with pytest.raises(CommandError, match="devpki init"):
        run("devpki", "issue", "--out", "x", "--surname", "X", "--given-names", "Y", "--drfo", "1")
    run("devpki", "init")
    with pytest.raises(CommandError):
        run("devpki", "revoke", "nobody")
    with pytest.raises(CommandError):
        run("devpki", "issue", "--out", "../escape", "--surname", "X", "--given-names", "Y", "--drfo", "1")


def test_verify_signature_command_refuses_garbage(tmp_path):
    garbage = tmp_path / "garbage.p7s"
    garbage.write_bytes(b"hello")
    with pytest.raises(CommandError, match="not_a_signature"):
        run("verify_signature", str(garbage))
    with pytest.raises(CommandError, match="cannot read"):
        run("verify_signature", str(tmp_path / "missing.p7s"))


def test_verify_signature_command_exit_status(test_pki, tmp_path):
    good = tmp_path / "good.p7s"
    good.write_bytes(cms_sign(CONTENT, test_pki["ec"].credential))
    revoked = tmp_path / "revoked.p7s"
    revoked.write_bytes(cms_sign(CONTENT, test_pki["revoked"].credential))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ehealth_portal.test_settings",
        "SIGNATURE_CA_BUNDLE": str(test_pki.bundle),
        "SIGNATURE_CRLS": str(test_pki.crls),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "manage.py", "verify_signature"]
    accepted = subprocess.run([*command, str(good)], cwd=ROOT, env=env, capture_output=True, text=True)
    refused = subprocess.run([*command, str(revoked)], cwd=ROOT, env=env, capture_output=True, text=True)

    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["signers"][0]["drfo"] == "3067305998"
    assert refused.returncode != 0
    assert "certificate_revoked" in refused.stderr
