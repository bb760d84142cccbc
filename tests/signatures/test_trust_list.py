"""The official trust list: ETSI TS 119 612 XML → the trust bundle; .p7b and several bundle files."""

import base64
import datetime as dt
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import CommandError, call_command

from ehealth_portal.signatures import SignatureError, trust, verify_signature
from ehealth_portal.signatures.certificates import certificate_load
from ehealth_portal.signatures.devpki import cms_sign
from ehealth_portal.signatures.trust_list import (
    TrustListError,
    fingerprint,
    trust_list_anchors,
    trust_list_parse,
)

from .conftest import CONTENT

DATA = Path(__file__).parent / "data" / "trust_list"
DSTU_LIST = DATA / "TL-UA-DSTU-sample.xml"
EC_LIST = DATA / "TL-UA-EC-sample.xml"


def der_of(name: str) -> bytes:
    return trust.bundle_certificates((DATA / f"{name}.pem").read_bytes())[0]


def subjects(bundle: Path) -> set[str]:
    return {certificate_load(der).subject_text for der in trust.bundle_certificates(bundle.read_bytes())}


def load(*args: object) -> str:
    out = StringIO()
    call_command("load_trust_list", *map(str, args), stdout=out, stderr=StringIO())
    return out.getvalue()


def tsl_xml(*certificates: bytes, status: str = "granted") -> bytes:
    """A minimal trusted list with one granted CA/QC service per certificate."""
    services = "".join(
        f"""<TSPService><ServiceInformation>
        <ServiceTypeIdentifier>http://uri.etsi.org/TrstSvc/Svctype/CA/QC</ServiceTypeIdentifier>
        <ServiceName><Name xml:lang="en">Service {index}</Name></ServiceName>
        <ServiceDigitalIdentity><DigitalId><X509Certificate>{base64.b64encode(der).decode()}</X509Certificate>
        </DigitalId></ServiceDigitalIdentity>
        <ServiceStatus>http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/{status}</ServiceStatus>
        </ServiceInformation></TSPService>"""
        for index, der in enumerate(certificates)
    )
    return f"""<?xml version="1.0"?><TrustServiceStatusList xmlns="http://uri.etsi.org/02231/v2#">
    <SchemeInformation><SchemeTerritory>UA</SchemeTerritory></SchemeInformation>
    <TrustServiceProviderList><TrustServiceProvider>
    <TSPInformation><TSPName><Name xml:lang="en">Test provider</Name></TSPName></TSPInformation>
    <TSPServices>{services}</TSPServices></TrustServiceProvider></TrustServiceProviderList>
    </TrustServiceStatusList>""".encode()


# --- Parsing --------------------------------------------------------------------------------------


def test_the_list_is_read_with_its_scheme_information():
    trust_list = trust_list_parse(DSTU_LIST.read_bytes())
    assert trust_list.operator == "Central Certification Authority (synthetic test list)"
    assert (trust_list.territory, trust_list.sequence_number) == ("UA", "42")
    assert trust_list.issued == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert [service.provider for service in trust_list.services] == [
        "Тестовий КНЕДП Альфа (en)",
        "Тестовий КНЕДП Альфа (en)",
        "Тестовий КНЕДП Бета (en)",
    ]


def test_only_granted_qualified_ca_services_become_anchors():
    selection = trust_list_anchors(trust_list_parse(DSTU_LIST.read_bytes()))
    # Beta was granted in its ServiceHistory but is withdrawn now; Alpha's TSA is not a CA/QC service.
    assert [anchor.der for anchor in selection.anchors] == [der_of("a")]
    assert selection.anchors[0].subject == "CN=Test QTSP Alpha CA,O=eHealth Portal Development PKI,C=UA"
    assert any("Бета" in reason and "withdrawn" in reason for reason in selection.skipped)


def test_a_status_granted_in_the_future_is_not_current_yet():
    trust_list = trust_list_parse(DSTU_LIST.read_bytes())
    selection = trust_list_anchors(trust_list, now=dt.datetime(2024, 12, 31, tzinfo=dt.UTC))
    assert selection.anchors == ()
    assert any("granted only from" in reason for reason in selection.skipped)


def test_entities_are_never_expanded():
    with pytest.raises(TrustListError, match="DTD"):
        trust_list_parse((DATA / "entities.xml").read_bytes())


@pytest.mark.parametrize(
    "data",
    [b"<html/>", b"not xml", tsl_xml(b"\x30\x03\x02\x01\x01").replace(b"MAMCAQE=", b"@@@")],
)
def test_files_that_are_not_trusted_lists_are_refused(data):
    with pytest.raises(TrustListError):
        trust_list_parse(data)


def test_a_malformed_certificate_in_the_list_is_skipped_not_trusted():
    selection = trust_list_anchors(trust_list_parse(tsl_xml(b"\x30\x03\x02\x01\x01", der_of("c"))))
    assert [anchor.der for anchor in selection.anchors] == [der_of("c")]
    assert any("malformed" in reason for reason in selection.skipped)


# --- The command ----------------------------------------------------------------------------------


def test_load_both_lists_into_a_new_bundle(tmp_path):
    bundle = tmp_path / "trust" / "bundle.pem"
    output = load(DSTU_LIST, EC_LIST, "--bundle", bundle)
    assert (
        f"added: CN=Test QTSP Alpha CA,O=eHealth Portal Development PKI,C=UA  SHA-256 {fingerprint(der_of('a'))}"
        in output
    )
    assert "CN=Test QTSP Gamma CA" in output
    assert "2 added, 0 removed, 0 unchanged" in output
    assert subjects(bundle) == {
        "CN=Test QTSP Alpha CA,O=eHealth Portal Development PKI,C=UA",
        "CN=Test QTSP Gamma CA,O=eHealth Portal Development PKI,C=UA",
    }  # fmt: skip


def test_reloading_the_same_lists_changes_nothing(tmp_path):
    bundle = tmp_path / "bundle.pem"
    load(DSTU_LIST, EC_LIST, "--bundle", bundle)
    before = bundle.stat()
    output = load(DSTU_LIST, EC_LIST, "--bundle", bundle)
    assert "0 added, 0 removed, 2 unchanged" in output
    assert (bundle.stat().st_ino, bundle.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_anchors_missing_from_the_new_lists_are_removed_and_shown(tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((DATA / "b.pem").read_bytes() + (DATA / "c.pem").read_bytes())
    output = load(EC_LIST, "--bundle", bundle)
    assert "removed: CN=Test QTSP Beta CA (withdrawn)" in output
    assert "0 added, 1 removed, 1 unchanged" in output
    assert subjects(bundle) == {"CN=Test QTSP Gamma CA,O=eHealth Portal Development PKI,C=UA"}


def test_dry_run_shows_the_change_and_writes_nothing(tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((DATA / "b.pem").read_bytes())
    before = bundle.read_bytes()
    output = load(DSTU_LIST, "--bundle", bundle, "--dry-run")
    assert "added: CN=Test QTSP Alpha CA" in output
    assert "removed: CN=Test QTSP Beta CA (withdrawn)" in output
    assert "dry run" in output
    assert bundle.read_bytes() == before


def test_the_default_bundle_is_the_setting(settings, tmp_path):
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "configured.pem"
    load(EC_LIST)
    assert subjects(tmp_path / "configured.pem") == {
        "CN=Test QTSP Gamma CA,O=eHealth Portal Development PKI,C=UA"
    }


@pytest.mark.parametrize("name", ["entities.xml", "missing.xml"])
def test_a_refused_list_leaves_the_bundle_alone(tmp_path, name):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((DATA / "c.pem").read_bytes())
    before = bundle.read_bytes()
    with pytest.raises(CommandError):
        load(DATA / name, "--bundle", bundle)
    assert bundle.read_bytes() == before


def test_a_list_without_granted_cas_does_not_empty_the_bundle(tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((DATA / "c.pem").read_bytes())
    (tmp_path / "withdrawn.xml").write_bytes(tsl_xml(der_of("c"), status="withdrawn"))
    with pytest.raises(CommandError, match="no granted"):
        load(tmp_path / "withdrawn.xml", "--bundle", bundle)
    assert subjects(bundle) == {"CN=Test QTSP Gamma CA,O=eHealth Portal Development PKI,C=UA"}


def test_signatures_are_trusted_exactly_when_their_ca_is_on_the_loaded_list(test_pki, settings, tmp_path):
    root = test_pki.cas["root"].certificate.public_bytes(Encoding.DER)
    other = test_pki.cas["root_ec"].certificate.public_bytes(Encoding.DER)
    (tmp_path / "list.xml").write_bytes(tsl_xml(root))
    bundle = tmp_path / "bundle.pem"
    settings.SIGNATURE_CA_BUNDLE = bundle
    load(tmp_path / "list.xml")
    assert verify_signature(cms_sign(CONTENT, test_pki["rsa"].credential)).content == CONTENT

    (tmp_path / "list.xml").write_bytes(tsl_xml(other))  # the next list drops that CA
    load(tmp_path / "list.xml")
    with pytest.raises(SignatureError) as error:
        verify_signature(cms_sign(CONTENT, test_pki["rsa"].credential))
    assert error.value.code == "unknown_ca"


# --- Bundle forms ---------------------------------------------------------------------------------


def _p7b_forms() -> dict[str, bytes]:
    der = (DATA / "bundle.p7b").read_bytes()
    encoded = base64.encodebytes(der)
    return {
        "DER": der,
        "PEM": b"-----BEGIN PKCS7-----\n" + encoded + b"-----END PKCS7-----\n",
        "BASE64": encoded,
    }


@pytest.mark.parametrize("form", ["DER", "PEM", "BASE64"])
def test_a_certificates_only_cms_bundle_is_read_in_every_form(settings, tmp_path, form):
    bundle = tmp_path / "CACertificates.p7b"
    bundle.write_bytes(_p7b_forms()[form])
    settings.SIGNATURE_CA_BUNDLE = bundle
    assert trust.trust_anchors().ders == {der_of("a"), der_of("c")}


def test_several_bundle_files_are_combined(settings, tmp_path):
    settings.SIGNATURE_CA_BUNDLE = [DATA / "bundle.p7b", DATA / "b.pem", tmp_path / "missing.pem"]
    assert trust.trust_anchors().ders == {der_of("a"), der_of("b"), der_of("c")}


def test_a_signature_under_a_p7b_anchor_verifies(test_pki, settings, tmp_path):
    # openssl crl2pkcs7 makes the same certificates-only SignedData as the published CACertificates.p7b.
    bundle = tmp_path / "roots.p7b"
    subprocess.run(
        ["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(test_pki.bundle), "-out", str(bundle)],
        check=True,
        capture_output=True,
    )
    settings.SIGNATURE_CA_BUNDLE = bundle
    assert verify_signature(cms_sign(CONTENT, test_pki["ec"].credential)).content == CONTENT


def test_state_token_changes_when_the_bundle_is_rewritten(settings, tmp_path):
    bundle = tmp_path / "bundle.pem"
    settings.SIGNATURE_CA_BUNDLE = bundle
    load(DSTU_LIST, "--bundle", bundle)
    before = trust.state_token()
    assert trust.state_token() == before  # stable while nothing changes
    load(EC_LIST, "--bundle", bundle)
    assert trust.state_token() != before
    assert hash(trust.state_token())
