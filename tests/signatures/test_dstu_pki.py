"""DSTU 4145 certificates end to end: real CA certificates, a DSTU development PKI, the chain cache."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ehealth_portal.signatures import SignatureError, algorithms, chain, cms, trust, verify_signature
from ehealth_portal.signatures.algorithms import OID_DSTU4145, public_key_load
from ehealth_portal.signatures.certificates import certificate_load
from ehealth_portal.signatures.chain import chain_build, chain_check, issued_by
from ehealth_portal.signatures.chain_cache import chain_cache
from ehealth_portal.signatures.devpki import (
    Credential,
    DevPki,
    ca_create,
    certificate_issue,
    cms_sign,
    crl_create,
    key_generate,
)
from ehealth_portal.signatures.dstu4145 import CURVES
from tests.registry.conftest import reference_data, registration, run_on_commit  # noqa: F401

DATA = Path(__file__).parent / "data" / "dstu"
CONTENT = '{"declaration": "Декларація", "id": 42}\n'.encode()
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PERSON = {
    "surname": "Шевченко",
    "given_names": "Тарас Григорович",
    "drfo": "3067305998",
    "edrpou": "37367387",
}


def _der(credential: Credential) -> bytes:
    return credential.certificate.public_bytes(serialization.Encoding.DER)


def _pem(path: Path, *items) -> Path:
    path.write_bytes(b"".join(item.public_bytes(serialization.Encoding.PEM) for item in items))
    return path


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


def _refusal(envelope: bytes, content: bytes | None = None) -> str:
    with pytest.raises(SignatureError) as refused:
        verify_signature(envelope, content)
    return refused.value.code


# --- The real Central Certification Authority root and the Ministry of Justice CA --------------------


@pytest.fixture
def czo_trusted(settings, tmp_path):
    root = (DATA / "CZOROOT.cer").read_bytes()
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "czo.cer"
    settings.SIGNATURE_CA_BUNDLE.write_bytes(root)
    settings.SIGNATURE_CRLS = tmp_path / "no-crls"
    return certificate_load(root)


def test_the_czo_root_and_the_justice_ca_load_with_their_dstu_keys():
    root = certificate_load((DATA / "CZOROOT.cer").read_bytes())
    justice = certificate_load((DATA / "CA-Justice.cer").read_bytes())
    assert root.key_algorithm == justice.key_algorithm == root.signature_algorithm == OID_DSTU4145
    assert public_key_load(root.key_algorithm, root.spki).curve is CURVES["M431"]
    assert public_key_load(justice.key_algorithm, justice.spki).curve is CURVES["M257"]
    assert root.identity.common_name == "Центральний засвідчувальний орган"
    assert justice.identity.common_name == "АЦСК органів юстиції України"
    assert (root.is_ca, root.path_length, justice.is_ca, justice.path_length) == (True, 2, True, 0)
    assert justice.key_usage == {"key_cert_sign", "crl_sign"}
    assert justice.authority_key_id == root.subject_key_id
    assert root.unhandled_critical == justice.unhandled_critical == ()


def test_the_justice_ca_chains_to_the_czo_root_and_verifies(czo_trusted):
    justice = certificate_load((DATA / "CA-Justice.cer").read_bytes())
    path = chain_build(justice, [], trust.trust_anchors())
    assert [cert.sha256 for cert in path] == [justice.sha256, czo_trusted.sha256]
    assert issued_by(czo_trusted, czo_trusted)
    # Inside both validity periods the path passes every check up to the signer's key usage (a CA's).
    with pytest.raises(SignatureError) as refused:
        chain_check(path, None, dt.datetime(2019, 6, 1, tzinfo=dt.UTC), trust.revocation_lists())
    assert refused.value.code == "key_usage"
    with pytest.raises(SignatureError) as refused:
        chain_check(path, None, NOW, trust.revocation_lists())
    assert refused.value.code == "certificate_expired"


@pytest.mark.parametrize("name", ["CZOROOT.cer", "CA-Justice.cer"])
def test_one_changed_bit_of_either_tbs_is_refused(czo_trusted, name):
    original = (DATA / name).read_bytes()
    cert = certificate_load(original)
    position = original.index(cert.tbs) + len(cert.tbs) - 40  # inside the extensions, still parseable
    changed = certificate_load(_flip(original, position, 3))
    assert changed.tbs != cert.tbs
    if name == "CZOROOT.cer":
        assert not issued_by(changed, czo_trusted) and not issued_by(changed, changed)
    else:
        assert not issued_by(changed, czo_trusted)
        with pytest.raises(SignatureError) as refused:
            chain_build(changed, [], trust.trust_anchors())
        assert refused.value.code == "unknown_ca"


def test_a_nonconforming_authority_key_identifier_is_read_as_the_key_id():
    # jkurwa writes it as a bare OCTET STRING instead of SEQUENCE { [0] keyIdentifier }.
    cert = certificate_load((DATA / "SELF_SIGNED1.cer").read_bytes())
    assert cert.authority_key_id == cert.subject_key_id and cert.self_issued
    assert issued_by(cert, cert)


def test_a_cms_made_by_jkurwa_verifies_end_to_end_while_its_certificate_was_valid(
    settings, tmp_path, monkeypatch
):
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "self-signed.cer"
    settings.SIGNATURE_CA_BUNDLE.write_bytes((DATA / "SELF_SIGNED1.cer").read_bytes())
    settings.SIGNATURE_CRLS = tmp_path / "no-crls"
    monkeypatch.setattr(cms.timezone, "now", lambda: dt.datetime(2019, 1, 1, tzinfo=dt.UTC))
    envelope = (DATA / "message.p7").read_bytes()
    document = verify_signature(envelope)
    assert document.content == b"123" and document.signer.organization == "Very Much CA"
    assert _refusal(envelope.replace(b"123", b"124")) == "content_mismatch"


# --- A DSTU development PKI ---------------------------------------------------------------------------


@dataclass
class DstuPki:
    root: Credential
    people: dict[str, Credential]
    bundle: Path
    crls: Path


@pytest.fixture(scope="module")
def dstu_pki(tmp_path_factory) -> DstuPki:
    directory = tmp_path_factory.mktemp("dstu-pki")
    root = ca_create("Test Root DSTU", key=key_generate("dstu"))
    stranger = ca_create("Test Root DSTU Nobody Trusts", key=key_generate("dstu"))
    past = {"not_before": NOW - dt.timedelta(days=400), "not_after": NOW - dt.timedelta(days=35)}
    people = {
        "head": certificate_issue(root, key_type="dstu", **PERSON),
        "expired": certificate_issue(root, key_type="dstu", **PERSON, **past),
        "revoked": certificate_issue(root, key_type="dstu", **PERSON),
        "stranger": certificate_issue(stranger, key_type="dstu", **PERSON),
        "forged_revocation": certificate_issue(root, key_type="dstu", **PERSON),
    }
    bundle = _pem(directory / "bundle.pem", root.certificate)
    crls = directory / "crls"
    crls.mkdir()
    _pem(crls / "root.crl", crl_create(root, [people["revoked"].certificate.serial_number]))
    # Names our root as issuer but is signed by another DSTU key: must be ignored.
    impostor = Credential(root.certificate, key_generate("dstu"))
    _pem(crls / "forged.crl", crl_create(impostor, [people["forged_revocation"].certificate.serial_number]))
    return DstuPki(root, people, bundle, crls)


@pytest.fixture
def dstu_trusted(settings, dstu_pki) -> DstuPki:
    settings.SIGNATURE_CA_BUNDLE = dstu_pki.bundle
    settings.SIGNATURE_CRLS = dstu_pki.crls
    return dstu_pki


def test_devpki_issues_m257_certificates_with_drfo_and_edrpou(dstu_pki):
    root = certificate_load(_der(dstu_pki.root))
    head = certificate_load(_der(dstu_pki.people["head"]))
    for cert in (root, head):
        assert cert.key_algorithm == cert.signature_algorithm == OID_DSTU4145
        assert public_key_load(cert.key_algorithm, cert.spki).curve is CURVES["M257"]
    assert (head.identity.drfo, head.identity.edrpou) == ("3067305998", "37367387")
    assert head.key_usage == {"digital_signature", "non_repudiation"}
    assert root.is_ca and root.key_usage == {"key_cert_sign", "crl_sign"}
    assert issued_by(head, root) and not issued_by(root, head)


@pytest.mark.parametrize("detached", [False, True])
def test_a_dstu_cms_verifies_and_names_the_signer(dstu_trusted, detached):
    envelope = cms_sign(CONTENT, dstu_trusted.people["head"], detached=detached)
    document = verify_signature(envelope, CONTENT if detached else None)
    assert document.content == CONTENT
    assert (document.signer.drfo, document.signer.edrpou) == ("3067305998", "37367387")
    assert document.signer.surname == "Шевченко"
    assert document.signer.signing_time is not None


def test_the_dstu_cms_uses_gost_34311_and_raw_little_endian_r_s(dstu_trusted):
    envelope = cms.envelope_parse(cms_sign(CONTENT, dstu_trusted.people["head"]))
    (signer_info,) = envelope.signer_infos
    assert signer_info.digest_algorithm == algorithms.OID_GOST34311
    assert signer_info.signature_algorithm == OID_DSTU4145
    assert signer_info.message_digest == algorithms.digest_get(algorithms.OID_GOST34311).new(CONTENT).digest()
    assert len(signer_info.signature) == 64  # two 32-byte halves for M257, no DER wrapping


def test_one_changed_byte_is_refused(dstu_trusted):
    envelope = cms_sign(CONTENT, dstu_trusted.people["head"])
    assert _refusal(envelope.replace(b"42}", b"43}")) == "content_mismatch"
    signature = cms.envelope_parse(envelope).signer_infos[0].signature
    assert _refusal(envelope.replace(signature, _flip(signature, 5))) == "bad_signature"
    detached = cms_sign(CONTENT, dstu_trusted.people["head"], detached=True)
    assert _refusal(detached, CONTENT.replace(b"42", b"24")) == "content_mismatch"


@pytest.mark.parametrize(
    ("person", "code"),
    [("expired", "certificate_expired"), ("revoked", "certificate_revoked"), ("stranger", "unknown_ca")],
)
def test_a_dstu_signature_is_refused_with_its_reason(dstu_trusted, person, code):
    assert _refusal(cms_sign(CONTENT, dstu_trusted.people[person])) == code


def test_a_crl_not_signed_by_the_dstu_ca_revokes_nothing(dstu_trusted):
    document = verify_signature(cms_sign(CONTENT, dstu_trusted.people["forged_revocation"]))
    assert document.signer.drfo == "3067305998"


def test_devpki_on_disk_keeps_a_dstu_ca_next_to_an_rsa_one(tmp_path):
    bundle, crls = tmp_path / "bundle.pem", tmp_path / "crls"
    crls.mkdir()
    rsa_pki = DevPki(tmp_path / "rsa", bundle, crls)
    rsa_pki.init(key_type="ec")
    pki = DevPki(tmp_path / "dstu", bundle, crls)
    assert pki.init(key_type="dstu", intermediate=True)
    credential = pki.issue("head", key_type="dstu", **PERSON)
    loaded = pki.credential("head")
    assert loaded.private_key.d == credential.private_key.d  # the key file reads back
    assert len(loaded.chain) == 2  # intermediate, root
    anchors = [certificate_load(c) for c in trust._pem_blocks(bundle.read_bytes(), {"CERTIFICATE"}, bundle)]
    assert len({cert.key_algorithm for cert in anchors}) == 2  # both roots are trusted
    assert sorted(path.name for path in crls.iterdir()) == [
        "devpki-dstu-intermediate.crl.pem",
        "devpki-dstu-root.crl.pem",
        "devpki-root.crl.pem",
    ]


# --- The chain cache -----------------------------------------------------------------------------------


@pytest.fixture
def signature_checks(monkeypatch):
    """Counts public-key operations wherever the verifier makes them."""
    calls = []
    original = algorithms.signature_is_valid

    def counted(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    for module in (cms, chain, trust):
        monkeypatch.setattr(module, "signature_is_valid", counted)
    chain._issued_by_cache.clear()
    trust._crl_signature_valid.cache_clear()
    chain_cache.clear()
    return calls


def test_a_repeat_signer_costs_one_signature_check(dstu_trusted, signature_checks):
    envelope = cms_sign(CONTENT, dstu_trusted.people["head"])
    verify_signature(envelope)
    assert len(signature_checks) >= 3  # the CMS, the certificate, the CRL
    signature_checks.clear()
    document = verify_signature(cms_sign(b"another document", dstu_trusted.people["head"]))
    assert document.signer.drfo == "3067305998"
    assert len(signature_checks) == 1 and chain_cache.hits == 1


def test_a_cached_signer_is_refused_once_the_crl_revokes_it(tmp_path, settings):
    pki = DevPki(tmp_path / "dstu", tmp_path / "bundle.pem", tmp_path / "crls")
    (tmp_path / "crls").mkdir()
    pki.init(key_type="dstu")
    settings.SIGNATURE_CA_BUNDLE, settings.SIGNATURE_CRLS = pki.bundle, pki.crls
    pki.issue("head", key_type="dstu", **PERSON)
    chain_cache.clear()
    assert verify_signature(cms_sign(CONTENT, pki.credential("head"))).signer.drfo == "3067305998"
    assert verify_signature(cms_sign(CONTENT, pki.credential("head"))) and chain_cache.hits == 1
    pki.revoke("head")
    assert _refusal(cms_sign(CONTENT, pki.credential("head"))) == "certificate_revoked"


def test_a_cached_signer_is_refused_once_the_trust_bundle_drops_its_ca(dstu_trusted, settings, tmp_path):
    envelope = cms_sign(CONTENT, dstu_trusted.people["head"])
    chain_cache.clear()
    verify_signature(envelope)
    settings.SIGNATURE_CA_BUNDLE = _pem(
        tmp_path / "other.pem", ca_create("Other", key=key_generate("ec")).certificate
    )
    assert _refusal(envelope) == "unknown_ca"


def test_a_cached_signer_is_refused_once_revocation_turns_hard_fail(dstu_trusted, settings, tmp_path):
    settings.SIGNATURE_CRLS = tmp_path / "no-crls"  # no CRL of the CA: soft-fail accepts
    envelope = cms_sign(CONTENT, dstu_trusted.people["head"])
    chain_cache.clear()
    verify_signature(envelope)
    verify_signature(envelope)
    assert chain_cache.hits == 1
    settings.SIGNATURE_REVOCATION = "hard"
    assert _refusal(envelope) == "revocation_unknown"


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(dstu_trusted):
    small = type(chain_cache)(size=2)
    anchors, crls = trust.trust_anchors(), trust.revocation_lists()
    now = dt.datetime.now(dt.UTC)
    first, second = (
        certificate_load(_der(dstu_trusted.people[name])) for name in ("head", "forged_revocation")
    )
    third = certificate_load(_der(certificate_issue(dstu_trusted.root, key_type="dstu", **PERSON)))
    for leaf in (first, second, first, third):  # `second` is the least recently used when `third` comes
        small.verified_chain(leaf, [leaf], anchors, crls, None, now)
    assert len(small) == 2 and (small.hits, small.misses) == (1, 3)
    small.verified_chain(first, [first], anchors, crls, None, now)
    small.verified_chain(second, [second], anchors, crls, None, now)
    assert (small.hits, small.misses) == (2, 4)


def test_a_signing_time_outside_the_certificate_is_refused_even_when_cached(dstu_trusted):
    leaf = certificate_load(_der(dstu_trusted.people["head"]))
    anchors, crls = trust.trust_anchors(), trust.revocation_lists()
    now = dt.datetime.now(dt.UTC)
    chain_cache.verified_chain(leaf, [leaf], anchors, crls, now, now)
    with pytest.raises(SignatureError) as refused:
        chain_cache.verified_chain(leaf, [leaf], anchors, crls, leaf.not_before - dt.timedelta(days=1), now)
    assert refused.value.code == "certificate_not_yet_valid"


# --- Registration with a DSTU key ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_registration_signed_with_a_devpki_dstu_key_is_accepted(
    registration,  # noqa: F811
    run_on_commit,  # noqa: F811
    dstu_trusted,
):
    from registry.models import RegistrationApplication
    from registry.services import registration_application_submit
    from tests.registry.conftest import HEAD

    registration.register_clinic()
    head = certificate_issue(dstu_trusted.root, key_type="dstu", **HEAD)
    data = registration.payload()
    envelope = cms_sign(registration.canonical(data), head)
    application, _token = run_on_commit(registration_application_submit, signed_envelope=envelope, data=data)
    application.refresh_from_db()
    assert application.status == RegistrationApplication.Status.APPROVED
    assert application.signer["drfo"] == HEAD["drfo"]
