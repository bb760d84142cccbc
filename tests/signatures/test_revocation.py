"""Revocation: SIGNATURE_REVOCATION "soft" accepts CAs without a current CRL, "hard" refuses them."""

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ehealth_portal.signatures import SignatureError, trust, verify_signature
from ehealth_portal.signatures.certificates import certificate_load
from ehealth_portal.signatures.devpki import Credential, cms_sign, crl_create

from .conftest import CONTENT, NOW


def refusal(signature: bytes) -> str:
    with pytest.raises(SignatureError) as error:
        verify_signature(signature)
    return error.value.code


def signed_by(test_pki, name: str) -> bytes:
    return cms_sign(CONTENT, test_pki[name].credential)


def crl_write(folder: Path, name: str, crl: x509.CertificateRevocationList) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(crl.public_bytes(serialization.Encoding.PEM))


def expired_crl(issuer: Credential, serials=()) -> x509.CertificateRevocationList:
    """Correctly signed, but its nextUpdate has passed: the CA has not published since."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(NOW - dt.timedelta(days=10))
        .next_update(NOW - dt.timedelta(days=1))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.private_key.public_key()),
            critical=False,
        )
    )
    for serial in serials:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW).build()
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.private_key, hashes.SHA256())


@pytest.fixture
def hard(settings):
    settings.SIGNATURE_REVOCATION = "hard"


# --- Soft-fail (the default) ----------------------------------------------------------------------


def test_soft_is_the_default_and_accepts_a_ca_without_crl(test_pki, settings, tmp_path):
    assert trust.revocation_mode() == "soft"
    settings.SIGNATURE_CRLS = tmp_path / "none"
    assert verify_signature(signed_by(test_pki, "rsa")).content == CONTENT


def test_soft_accepts_an_expired_crl_that_does_not_list_the_signer(test_pki, settings, tmp_path):
    settings.SIGNATURE_REVOCATION = "soft"
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    crl_write(settings.SIGNATURE_CRLS, "root.crl", expired_crl(test_pki.cas["root"]))
    assert verify_signature(signed_by(test_pki, "rsa")).content == CONTENT


# --- Hard-fail ------------------------------------------------------------------------------------


def test_hard_accepts_a_ca_with_a_current_crl(test_pki, hard):
    assert verify_signature(signed_by(test_pki, "rsa")).content == CONTENT
    assert verify_signature(signed_by(test_pki, "ec")).content == CONTENT  # a DER CRL counts too


def test_hard_refuses_when_no_crl_is_loaded(test_pki, hard, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "none"
    assert refusal(signed_by(test_pki, "rsa")) == "revocation_unknown"


def test_hard_refuses_when_the_crl_is_past_its_next_update(test_pki, hard, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    crl_write(settings.SIGNATURE_CRLS, "root.crl", expired_crl(test_pki.cas["root"]))
    assert refusal(signed_by(test_pki, "rsa")) == "revocation_unknown"


def test_hard_checks_every_ca_in_the_chain(test_pki, hard):
    # The root has a current CRL; the intermediate that issued this signer has none.
    assert refusal(signed_by(test_pki, "via_intermediate")) == "revocation_unknown"


def test_hard_refuses_when_the_only_crl_is_forged(test_pki, hard, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    (tmp_path / "crls").mkdir()
    (tmp_path / "crls" / "forged.crl").write_bytes((test_pki.crls / "forged.crl").read_bytes())
    assert refusal(signed_by(test_pki, "ec")) == "revocation_unknown"  # root_ec: no CRL at all
    assert refusal(signed_by(test_pki, "rsa")) == "revocation_unknown"  # root: only a forged one


def test_hard_accepts_once_the_crl_is_published(test_pki, hard, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    signature = signed_by(test_pki, "via_intermediate")
    crl_write(tmp_path / "crls", "root.crl", crl_create(test_pki.cas["root"], []))
    assert refusal(signature) == "revocation_unknown"
    crl_write(tmp_path / "crls", "intermediate.crl", crl_create(test_pki.cas["intermediate"], []))
    assert verify_signature(signature).content == CONTENT


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_a_listed_certificate_is_refused_in_both_modes_even_by_an_expired_crl(
    test_pki, settings, tmp_path, mode
):
    settings.SIGNATURE_REVOCATION = mode
    assert refusal(signed_by(test_pki, "revoked")) == "certificate_revoked"
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    serial = test_pki["revoked"].certificate.serial_number
    crl_write(settings.SIGNATURE_CRLS, "root.crl", expired_crl(test_pki.cas["root"], [serial]))
    assert refusal(signed_by(test_pki, "revoked")) == "certificate_revoked"


@pytest.mark.parametrize("value", ["Hard", " hard "])
def test_the_setting_is_read_leniently(settings, value):
    settings.SIGNATURE_REVOCATION = value
    assert trust.revocation_mode() == "hard"


def test_an_unknown_mode_fails_closed(test_pki, settings, tmp_path):
    settings.SIGNATURE_REVOCATION = "strict"
    settings.SIGNATURE_CRLS = tmp_path / "none"
    assert trust.revocation_mode() == "hard"
    assert refusal(signed_by(test_pki, "rsa")) == "revocation_unknown"


def test_crl_required_for_names_the_cas_without_a_current_crl(test_pki, settings):
    root = certificate_load(test_pki.cas["root"].certificate.public_bytes(serialization.Encoding.DER))
    intermediate = certificate_load(
        test_pki.cas["intermediate"].certificate.public_bytes(serialization.Encoding.DER)
    )
    assert not trust.crl_required_for(intermediate, trust.revocation_lists())  # soft: never
    settings.SIGNATURE_REVOCATION = "hard"
    lists = trust.revocation_lists()
    assert (trust.crl_required_for(root, lists), trust.crl_required_for(intermediate, lists)) == (False, True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)  # conftest CRLs are valid for 30 days
    assert trust.crl_required_for(root, lists, later)


def test_state_token_follows_the_mode_and_the_crls(test_pki, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "crls"
    crl_write(tmp_path / "crls", "root.crl", crl_create(test_pki.cas["root"], []))
    soft = trust.state_token()
    settings.SIGNATURE_REVOCATION = "hard"
    hard_token = trust.state_token()
    assert hard_token != soft
    crl_write(tmp_path / "crls", "intermediate.crl", crl_create(test_pki.cas["intermediate"], []))
    assert trust.state_token() != hard_token
