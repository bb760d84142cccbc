import base64
import datetime as dt

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.utils import translation

from ehealth_portal.signatures import ERROR_MESSAGES, SignatureError, verify_signature
from ehealth_portal.signatures.devpki import certificate_issue, cms_sign

from .conftest import CONTENT, openssl_sign


def refusal(signature, content=None, **options) -> str:
    with pytest.raises(SignatureError) as error:
        verify_signature(signature, content, **options)
    return error.value.code


# --- Accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["DER", "PEM", "BASE64"])
@pytest.mark.parametrize("detached", [False, True])
def test_openssl_signatures_are_accepted_with_the_signer(test_pki, tmp_path, form, detached):
    person = test_pki["rsa"]
    signature = openssl_sign(person, detached=detached, form=form, tmp_path=tmp_path)

    document = verify_signature(signature, CONTENT if detached else None)

    signer = document.signer
    assert document.content == CONTENT
    assert document.detached is detached
    assert (signer.surname, signer.given_names) == ("Шевченко", "Тарас Григорович")
    assert (signer.drfo, signer.rnokpp, signer.edrpou) == ("3067305998", "3067305998", "37367387")
    assert signer.certificate_serial == f"{person.certificate.serial_number:X}"
    assert signer.certificate_issuer == "CN=Test Root RSA,O=eHealth Portal Development PKI,C=UA"
    assert signer.not_after == person.certificate.not_valid_after_utc
    assert abs(signer.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert not signer.is_stamp


def test_streamed_ber_signature_from_openssl_is_accepted(test_pki, tmp_path):
    signature = openssl_sign(test_pki["ec"], options=("-stream",), tmp_path=tmp_path)
    assert signature[1] == 0x80  # indefinite length: BER, not DER
    assert verify_signature(signature).content == CONTENT


def test_bom_and_whitespace_around_text_forms_are_ignored(test_pki, tmp_path):
    signature = openssl_sign(test_pki["ec"], form="BASE64", tmp_path=tmp_path)
    assert verify_signature(b"\xef\xbb\xbf \r\n" + signature + b"\n\n").content == CONTENT
    assert verify_signature("\ufeff" + signature.decode()).content == CONTENT


def test_der_ending_in_a_whitespace_or_nul_byte_is_not_stripped(test_pki):
    # ECDSA signatures are random: sign until the DER ends in a byte that looks like padding.
    signature = next(
        signature
        for signature in (cms_sign(CONTENT, test_pki["ec"].credential) for _ in range(5000))
        if signature[-1] in b" \t\r\n\x00"
    )
    assert verify_signature(signature).content == CONTENT


def test_intermediate_shipped_in_the_cms_completes_the_chain(test_pki, tmp_path):
    person = test_pki["via_intermediate"]
    assert verify_signature(openssl_sign(person, tmp_path=tmp_path)).signer.drfo == "3067305998"

    person.chain_pem, chain = None, person.chain_pem  # the same signature without the intermediate
    try:
        assert refusal(openssl_sign(person, tmp_path=tmp_path)) == "unknown_ca"
    finally:
        person.chain_pem = chain


def test_rsa_pss_from_openssl_and_cryptography(test_pki, tmp_path):
    person = test_pki["rsa"]
    pss = ("-keyopt", "rsa_padding_mode:pss", "-md", "sha512")
    assert verify_signature(openssl_sign(person, options=pss, tmp_path=tmp_path)).content == CONTENT
    assert verify_signature(cms_sign(CONTENT, person.credential, pss=True)).content == CONTENT


@pytest.mark.parametrize(("name", "digest"), [("ec", "sha256"), ("p384", "sha384"), ("p384", "sha512")])
def test_ecdsa_p256_and_p384(test_pki, tmp_path, name, digest):
    signature = openssl_sign(test_pki[name], options=("-md", digest), tmp_path=tmp_path)
    assert verify_signature(signature).signer.drfo == "3067305998"


def test_identity_from_etsi_identifiers_alone(test_pki):
    signer = verify_signature(cms_sign(CONTENT, test_pki["etsi_only"].credential)).signer
    assert (signer.drfo, signer.edrpou) == ("3067305998", "37367387")
    assert "serialNumber=TINUA-3067305998" in signer.certificate_subject
    assert "organizationIdentifier=NTRUA-37367387" in signer.certificate_subject


def test_identity_from_subject_directory_attributes_alone(test_pki):
    signer = verify_signature(cms_sign(CONTENT, test_pki["sda_only"].credential)).signer
    assert (signer.drfo, signer.edrpou) == ("3067305998", "37367387")
    assert "TINUA" not in signer.certificate_subject


def test_two_signers_when_two_are_expected(test_pki):
    signature = cms_sign(CONTENT, [test_pki["rsa"].credential, test_pki["second"].credential])
    document = verify_signature(signature, signers=2)
    assert sorted(signer.drfo for signer in document.signers) == ["2222222222", "3067305998"]  # a SET


def test_signature_directly_over_the_content_without_signed_attributes(test_pki):
    for name in ("rsa", "ec"):
        document = verify_signature(cms_sign(CONTENT, test_pki[name].credential, attributes=False))
        assert document.content == CONTENT
        assert document.signer.signing_time is None


def test_stamp_certificates_are_marked(test_pki):
    signer = verify_signature(cms_sign(CONTENT, test_pki["stamp"].credential)).signer
    assert signer.is_stamp
    assert signer.organization == "КНП «Поліклініка»"


def test_a_forged_crl_is_not_trusted(test_pki):
    # conftest lists "rsa" on a CRL that claims the root as issuer but is signed by another key.
    assert verify_signature(cms_sign(CONTENT, test_pki["rsa"].credential)).signer.drfo == "3067305998"


# --- Refused, each for its own reason -------------------------------------------------------------

REFUSALS = {
    "changed_content_byte": "content_mismatch",
    "unknown_ca": "unknown_ca",
    "expired": "certificate_expired",
    "revoked": "certificate_revoked",
    "two_signers": "signer_count",
    "no_signing_key_usage": "key_usage",
    "not_a_signature": "not_a_signature",
}


def test_each_refusal_has_its_own_code():
    assert len(set(REFUSALS.values())) == len(REFUSALS)
    assert set(REFUSALS.values()) <= set(ERROR_MESSAGES)


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals(test_pki, tmp_path, case):
    if case == "changed_content_byte":
        signature = openssl_sign(test_pki["rsa"], tmp_path=tmp_path)
        signature = signature.replace(CONTENT, CONTENT.replace(b"42", b"43"))
    elif case == "unknown_ca":
        signature = openssl_sign(test_pki["unknown"], tmp_path=tmp_path)
    elif case == "expired":
        signature = openssl_sign(test_pki["expired"], tmp_path=tmp_path)
    elif case == "revoked":
        signature = openssl_sign(test_pki["revoked"], tmp_path=tmp_path)
    elif case == "two_signers":
        signature = cms_sign(CONTENT, [test_pki["rsa"].credential, test_pki["second"].credential])
    elif case == "no_signing_key_usage":
        signature = openssl_sign(test_pki["encryption_only"], tmp_path=tmp_path)
    else:
        signature = b"%PDF-1.7\n" + bytes(range(256)) * 4

    assert refusal(signature) == REFUSALS[case]


def test_changed_byte_in_detached_content(test_pki, tmp_path):
    signature = openssl_sign(test_pki["ec"], detached=True, tmp_path=tmp_path)
    assert refusal(signature, CONTENT.replace(b"42", b"43")) == "content_mismatch"


def test_attached_content_must_equal_the_given_content(test_pki):
    signature = cms_sign(CONTENT, test_pki["ec"].credential)
    assert verify_signature(signature, CONTENT).content == CONTENT
    assert refusal(signature, CONTENT + b" ") == "content_mismatch"


def test_detached_signature_without_content(test_pki):
    assert refusal(cms_sign(CONTENT, test_pki["ec"].credential, detached=True)) == "content_missing"


def test_changed_signature_value(test_pki):
    info = cms.ContentInfo.load(cms_sign(CONTENT, test_pki["rsa"].credential))
    signer_info = info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[-1] ^= 1
    signer_info["signature"] = bytes(value)
    assert refusal(info.dump(force=True)) == "bad_signature"


def test_changed_signed_attributes_without_content_change(test_pki):
    signature = cms_sign(CONTENT, test_pki["rsa"].credential, attributes=False)
    assert refusal(signature.replace(CONTENT, CONTENT.upper())) == "bad_signature"


def test_certificate_not_yet_valid(test_pki):
    assert refusal(cms_sign(CONTENT, test_pki["not_yet_valid"].credential)) == "certificate_not_yet_valid"


def test_revoked_certificate_stays_refused_on_every_call(test_pki):
    signature = cms_sign(CONTENT, test_pki["revoked"].credential)
    assert [refusal(signature) for _ in range(3)] == ["certificate_revoked"] * 3


def test_certificate_issued_by_a_non_ca_is_refused(test_pki):
    leaf = test_pki["rsa"].credential
    below_leaf = certificate_issue(leaf, surname="Х", given_names="Y", drfo="1111111111")
    signature = cms_sign(CONTENT, below_leaf)  # ships `leaf` as an "intermediate"
    assert refusal(signature) == "invalid_certificate"


def test_unsupported_digest(test_pki):
    signature = cms_sign(CONTENT, test_pki["ec"].credential, hash_algorithm=hashes.SHA224())
    with pytest.raises(SignatureError) as error:
        verify_signature(signature)
    assert error.value.code == "unsupported_algorithm", error.value.detail


def test_too_large(test_pki, settings):
    settings.SIGNATURE_MAX_BYTES = 1000
    assert refusal(cms_sign(CONTENT * 100, test_pki["ec"].credential)) == "too_large"


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"   \n",
        "not base64 at all!",
        b"MIIB",
        b"\x30\x82\x00\x10",
        b"-----BEGIN CERTIFICATE-----\nMII=\n-----END",
    ],
)
def test_garbage_is_not_a_signature(garbage):
    assert refusal(garbage) == "not_a_signature"


def test_a_certificate_is_not_a_signature(test_pki):
    assert refusal(base64.b64encode(test_pki["rsa"].cert_pem.read_bytes())) == "not_a_signature"


def test_trust_settings_changes_are_noticed(test_pki, settings, tmp_path):
    signature = cms_sign(CONTENT, test_pki["rsa"].credential)
    assert verify_signature(signature)
    only_ec_root = tmp_path / "bundle.pem"
    only_ec_root.write_bytes(test_pki.bundle.read_bytes().split(b"-----END CERTIFICATE-----\n", 1)[1])
    settings.SIGNATURE_CA_BUNDLE = only_ec_root
    assert refusal(signature) == "unknown_ca"
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "missing.pem"
    assert refusal(signature) == "unknown_ca"


def test_messages_are_english_msgids_translated_lazily(test_pki):
    with pytest.raises(SignatureError) as error:
        verify_signature(b"garbage")
    with translation.override("en"):
        assert str(error.value.message) == "The file is not an electronic signature."
    assert error.value.code == "not_a_signature"


def test_every_refusal_message_has_a_ukrainian_translation():
    for code, message in ERROR_MESSAGES.items():
        with translation.override("en"):
            english = str(message)
        with translation.override("uk"):
            assert str(message) != english, code


def test_too_many_certificates(test_pki):
    signer = test_pki["ec"].credential
    extra = [test_pki[name].credential for name in ("rsa", "p384", "expired", "revoked")]
    signature = cms_sign(CONTENT, signer)
    assert verify_signature(signature)
    info = cms.ContentInfo.load(signature)
    certificates = info["content"]["certificates"]
    for _ in range(8):
        for credential in extra:
            certificates.append(
                cms.CertificateChoices.load(credential.certificate.public_bytes(Encoding.DER))
            )
    info["content"]["certificates"] = certificates
    assert refusal(info.dump(force=True)) == "not_a_signature"


def test_signers_must_be_positive():
    with pytest.raises(ValueError):
        verify_signature(b"", signers=0)


def test_misconfigured_trust_paths_refuse_without_crashing(test_pki, settings, tmp_path):
    signature = cms_sign(CONTENT, test_pki["rsa"].credential)
    settings.SIGNATURE_CA_BUNDLE = tmp_path  # a folder, not a file
    assert refusal(signature) == "unknown_ca"
    settings.SIGNATURE_CA_BUNDLE = test_pki.bundle
    settings.SIGNATURE_CRLS = tmp_path / "missing"
    assert verify_signature(signature)  # no CRL, nothing listed: revocation is soft-fail (trust.py)
