"""The DSTU 4145 half of the development PKI: certificates, CRLs, CMS and key files with DSTU keys.

cryptography can neither encode a DSTU key nor sign with one, so these are built with asn1crypto
(TBS structures with the SPKI left raw) and signed with `dstu4145`; cryptography still reads the
results (names, extensions), so `devpki` keeps handing out its certificate objects. The same
builder also covers the mixed cases (a DSTU key certified by an RSA/ECDSA CA and the reverse).
"""

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from . import dstu4145
from .algorithms import OID_DSTU4145, OID_GOST34311

if TYPE_CHECKING:
    from .devpki import Credential, PrivateKey
else:
    Credential = PrivateKey = Any

KEY_PEM = "DSTU4145 PRIVATE KEY"  # SEQUENCE { curve OID, d INTEGER }: this project's own, for devpki only


def is_dstu(key: object) -> bool:
    return isinstance(key, dstu4145.PrivateKey)


def _spki(key: PrivateKey) -> bytes:
    if isinstance(key, dstu4145.PrivateKey):
        return dstu4145.spki_encode(key.public_key())
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: PrivateKey) -> bytes:
    """SHA-256 of the SPKI: any stable value serves as the key identifier (RFC 5280 §4.2.1.2)."""
    return hashlib.sha256(_spki(key)).digest()


def _issuer_key_id(issuer: Credential) -> bytes:
    try:
        return issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return key_id(issuer.private_key)


def aki_value(issuer: Credential) -> asn1_x509.AuthorityKeyIdentifier:
    return asn1_x509.AuthorityKeyIdentifier({"key_identifier": _issuer_key_id(issuer)})


class _RawExtension(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class _RawExtensions(core.SequenceOf):
    _child_spec = _RawExtension


class _RawTbsCertificate(core.Sequence):
    """TBSCertificate with the SPKI left raw: asn1crypto has no schema for a DSTU key."""

    _fields = [
        ("version", asn1_x509.Version, {"explicit": 0, "default": "v1"}),
        ("serial_number", core.Integer),
        ("signature", core.Any),
        ("issuer", core.Any),
        ("validity", asn1_x509.Validity),
        ("subject", core.Any),
        ("subject_public_key_info", core.Any),
        ("extensions", _RawExtensions, {"explicit": 3, "optional": True}),
    ]


def extension(oid: str, value: core.Asn1Value | bytes, critical: bool = False) -> dict:
    encoded = value if isinstance(value, bytes) else value.dump()
    return {"extn_id": oid, "critical": critical, "extn_value": encoded}


def _algorithm(signing_key: PrivateKey) -> bytes:
    """The AlgorithmIdentifier DER of a certificate or CRL signature made with `signing_key`."""
    if isinstance(signing_key, dstu4145.PrivateKey):
        return _sequence(core.ObjectIdentifier(OID_DSTU4145).dump())
    if isinstance(signing_key, rsa.RSAPrivateKey):
        return bytes.fromhex("300d06092a864886f70d01010b0500")  # sha256WithRSAEncryption
    if isinstance(_ec_hash(signing_key), hashes.SHA384):
        return bytes.fromhex("300a06082a8648ce3d040303")  # ecdsa-with-SHA384
    return bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256


def _signed(signing_key: PrivateKey, tbs: bytes) -> bytes:
    """The BIT STRING contents of a certificate or CRL signature."""
    if isinstance(signing_key, dstu4145.PrivateKey):
        return core.OctetString(signing_key.sign(tbs)).dump()  # r‖s as an OCTET STRING in the BIT STRING
    if isinstance(signing_key, rsa.RSAPrivateKey):
        return signing_key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return signing_key.sign(tbs, ec.ECDSA(_ec_hash(signing_key)))


def asn1_time(moment: dt.datetime) -> asn1_x509.Time:
    if moment.year >= 2050:
        return asn1_x509.Time(name="general_time", value=moment)
    return asn1_x509.Time(name="utc_time", value=moment)


def certificate_build(
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    signing_key: PrivateKey,
    start: dt.datetime,
    end: dt.datetime,
    extensions: list[dict],
) -> x509.Certificate:
    """A certificate where either key is DSTU 4145; cryptography still reads it (names, extensions)."""
    algorithm = _algorithm(signing_key)
    tbs = _RawTbsCertificate(
        {
            "version": "v3",
            "serial_number": x509.random_serial_number(),
            "signature": core.Any.load(algorithm),
            "issuer": core.Any.load(issuer.public_bytes()),
            "validity": {"not_before": asn1_time(start), "not_after": asn1_time(end)},
            "subject": core.Any.load(subject.public_bytes()),
            "subject_public_key_info": core.Any.load(_spki(key)),
            "extensions": extensions,
        }
    ).dump()
    return x509.load_der_x509_certificate(_signed_sequence(tbs, signing_key))


def _signed_sequence(tbs: bytes, signing_key: PrivateKey) -> bytes:
    """SEQUENCE { tbs, signatureAlgorithm, signatureValue }: a certificate or a CRL."""
    value = core.OctetBitString(_signed(signing_key, tbs)).dump()
    return _sequence(tbs, _algorithm(signing_key), value)


def _sequence(*encoded: bytes) -> bytes:
    """A DER SEQUENCE of already encoded elements."""
    contents = b"".join(encoded)
    length = len(contents)
    if length < 0x80:
        return bytes([0x30, length]) + contents
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x30, 0x80 | len(size)]) + size + contents


class _RawTbsCertList(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("signature", core.Any),
        ("issuer", core.Any),
        ("this_update", asn1_x509.Time),
        ("next_update", asn1_x509.Time),
        ("revoked_certificates", asn1_crl.RevokedCertificates, {"optional": True}),
        ("crl_extensions", _RawExtensions, {"explicit": 0}),
    ]


def crl_build(
    issuer: Credential, serials: Iterable[int], now: dt.datetime, next_update: dt.datetime
) -> x509.CertificateRevocationList:
    revoked = [
        {"user_certificate": serial, "revocation_date": asn1_time(now)} for serial in sorted(set(serials))
    ]
    tbs = _RawTbsCertList(
        {
            "version": 1,  # v2
            "signature": core.Any.load(_algorithm(issuer.private_key)),
            "issuer": core.Any.load(issuer.certificate.subject.public_bytes()),
            "this_update": asn1_time(now),
            "next_update": asn1_time(next_update),
            "revoked_certificates": revoked or None,
            "crl_extensions": [
                extension("2.5.29.35", aki_value(issuer)),
                extension("2.5.29.20", core.Integer(int(now.timestamp()))),
            ],
        }
    ).dump()
    return x509.load_der_x509_crl(_signed_sequence(tbs, issuer.private_key))


def cms_build(content: bytes, signers: list[Credential], *, detached: bool, attributes: bool) -> bytes:
    """SignedData as Ukrainian CAs' tools make it: GOST 34.311 digest, raw little-endian r‖s."""
    certificates: dict[bytes, bytes] = {}
    signer_infos = []
    for signer in signers:
        key = signer.private_key
        if not isinstance(key, dstu4145.PrivateKey):
            raise ValueError("a DSTU 4145 signature cannot be combined with RSA/ECDSA signers here")
        certificate = signer.certificate.public_bytes(serialization.Encoding.DER)
        for item in (certificate, *(c.public_bytes(serialization.Encoding.DER) for c in signer.chain[:-1])):
            certificates.setdefault(item, item)
        signed_attributes = None
        signed = content
        if attributes:
            signed_attributes = asn1_cms.CMSAttributes(
                [
                    {"type": "content_type", "values": ["data"]},
                    {
                        "type": "signing_time",
                        "values": [
                            asn1_cms.Time(
                                name="utc_time", value=dt.datetime.now(dt.UTC).replace(microsecond=0)
                            )
                        ],
                    },
                    {"type": "message_digest", "values": [dstu4145.gost34311_digest(content)]},
                ]
            )
            signed = signed_attributes.dump()
        signer_infos.append(
            {
                "version": "v1",
                "sid": asn1_cms.SignerIdentifier(
                    name="issuer_and_serial_number",
                    value={
                        "issuer": asn1_x509.Name.load(signer.certificate.issuer.public_bytes()),
                        "serial_number": signer.certificate.serial_number,
                    },
                ),
                "digest_algorithm": {"algorithm": OID_GOST34311},
                "signed_attrs": signed_attributes,
                "signature_algorithm": {"algorithm": OID_DSTU4145},
                "signature": key.sign(signed),
            }
        )
    encapsulated = {"content_type": "data", "content": None if detached else content}
    signed_data = asn1_cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": OID_GOST34311}],
            "encap_content_info": encapsulated,
            "certificates": [asn1_x509.Certificate.load(item) for item in certificates],
            "signer_infos": signer_infos,
        }
    )
    return asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def _ec_hash(key: ec.EllipticCurvePrivateKey) -> hashes.HashAlgorithm:
    return hashes.SHA384() if key.curve.key_size >= 384 else hashes.SHA256()


class _PrivateKeyFile(core.Sequence):
    _fields = [("curve", core.ObjectIdentifier), ("d", core.Integer)]


def key_pem(key: dstu4145.PrivateKey) -> bytes:
    encoded = _PrivateKeyFile({"curve": key.curve.oid, "d": key.d}).dump()
    return asn1_pem.armor(KEY_PEM, encoded)


def is_key_pem(data: bytes) -> bool:
    return data.lstrip().startswith(f"-----BEGIN {KEY_PEM}-----".encode())


def key_load(data: bytes) -> dstu4145.PrivateKey:
    _type, _headers, encoded = asn1_pem.unarmor(data)
    fields = _PrivateKeyFile.load(encoded, strict=True)
    return dstu4145.PrivateKey(dstu4145.CURVES_BY_OID[fields["curve"].dotted], fields["d"].native)


# --- Key-6.dat: the PBES2 key container of Ukrainian key media, which jkurwa opens in the browser ---
# PBES2 { PBKDF2 (HMAC GOST 34.311, 32-byte salt, 10000 rounds), GOST 28147 CFB with the DSTU S-box }
# around DstuPrivkey { 0, { dstu4145le, { curve OID, S-box } }, OCTET STRING d (little-endian) }.

OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_GOST34311_HMAC = "1.2.804.2.1.1.1.1.1.2"
OID_GOST28147_CFB = "1.2.804.2.1.1.1.1.1.1.3"
KEY6_ROUNDS = 10000


class _Gost28147Params(core.Sequence):
    _fields = [("iv", core.OctetString), ("dke", core.OctetString)]


class _HmacAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Null)]


class _Pbkdf2Params(core.Sequence):
    _fields = [("salt", core.OctetString), ("rounds", core.Integer), ("prf", _HmacAlgorithm)]


class _Pbkdf2(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _Pbkdf2Params)]


class _CipherAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _Gost28147Params)]


class _Pbes2Params(core.Sequence):
    _fields = [("kdf", _Pbkdf2), ("cipher", _CipherAlgorithm)]


class _Pbes2Algorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _Pbes2Params)]


class _Key6(core.Sequence):
    _fields = [("algorithm", _Pbes2Algorithm), ("encrypted", core.OctetString)]


class _CurveAndSbox(core.Sequence):
    _fields = [("curve", core.ObjectIdentifier), ("sbox", core.OctetString)]


class _DstuKeyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", _CurveAndSbox)]


class _DstuPrivkey(core.Sequence):
    _fields = [("version", core.Integer), ("algorithm", _DstuKeyAlgorithm), ("d", core.OctetString)]


def key6_kdf(password: bytes, salt: bytes, rounds: int = KEY6_ROUNDS) -> bytes:
    """PBKDF2 with HMAC GOST 34.311 for one 32-byte block, as gost89's `pbkdf` computes it."""
    from .gost34311 import Gost34311

    if len(password) > 32:
        raise ValueError("Key-6.dat passwords are at most 32 bytes")
    inner = Gost34311(bytes(b ^ 0x36 for b in password.ljust(32, b"\0")))
    outer = Gost34311(bytes(b ^ 0x5C for b in password.ljust(32, b"\0")))

    def hmac(message: bytes) -> bytes:
        first = inner.copy()
        first.update(message)
        second = outer.copy()
        second.update(first.digest())
        return second.digest()

    block = hmac(salt + b"\0\0\0\1")
    key = int.from_bytes(block, "big")
    for _ in range(rounds - 1):
        block = hmac(block)
        key ^= int.from_bytes(block, "big")
    return key.to_bytes(32, "big")


def _gost28147_cfb(key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    from .gost34311 import DSTU_SBOX, _encrypt, _round_tables

    tables = _round_tables(DSTU_SBOX)
    words = tuple(int.from_bytes(key[i : i + 4], "little") for i in range(0, 32, 4))
    register, out = iv, bytearray()
    for offset in range(0, len(data), 8):
        chunk = data[offset : offset + 8]
        gamma = _encrypt(int.from_bytes(register, "little"), words, tables).to_bytes(8, "little")
        produced = bytes(a ^ b for a, b in zip(chunk, gamma[: len(chunk)], strict=True))
        out += produced
        register = (chunk if decrypt else produced).ljust(8, b"\0")
    return bytes(out)


def key6_build(
    key: dstu4145.PrivateKey, password: str, *, iv: bytes | None = None, salt: bytes | None = None
) -> bytes:
    """The key in a password-protected Key-6.dat (iv and salt are random unless a test fixes them)."""
    import secrets

    from .gost34311 import DSTU_SBOX_PACKED

    iv = secrets.token_bytes(8) if iv is None else iv
    salt = secrets.token_bytes(32) if salt is None else salt
    size = (key.curve.m + 7) // 8
    inner = _DstuPrivkey(
        {
            "version": 0,
            "algorithm": {
                "algorithm": OID_DSTU4145,
                "parameters": {"curve": key.curve.oid, "sbox": DSTU_SBOX_PACKED},
            },
            "d": key.d.to_bytes(size, "little"),
        }
    ).dump()
    secret = key6_kdf(password.encode(), salt)
    return key6_wrap(inner, secret, iv=iv, salt=salt)


def key6_wrap(inner: bytes, secret: bytes, *, iv: bytes, salt: bytes) -> bytes:
    from .gost34311 import DSTU_SBOX_PACKED

    algorithm = {
        "algorithm": OID_PBES2,
        "parameters": {
            "kdf": {
                "algorithm": OID_PBKDF2,
                "parameters": {
                    "salt": salt,
                    "rounds": KEY6_ROUNDS,
                    "prf": {"algorithm": OID_GOST34311_HMAC, "parameters": None},
                },
            },
            "cipher": {"algorithm": OID_GOST28147_CFB, "parameters": {"iv": iv, "dke": DSTU_SBOX_PACKED}},
        },
    }
    encrypted = _gost28147_cfb(secret, iv, inner, decrypt=False)
    return _Key6({"algorithm": algorithm, "encrypted": encrypted}).dump()


def key6_decrypt(data: bytes, password: str) -> bytes:
    """The DER inside a Key-6.dat (the DstuPrivkey); raises ValueError for another container."""
    store = _Key6.load(data, strict=True)
    params = store["algorithm"]["parameters"]
    if store["algorithm"]["algorithm"].dotted != OID_PBES2:
        raise ValueError("not a PBES2 container")
    kdf = params["kdf"]["parameters"]
    secret = key6_kdf(password.encode(), kdf["salt"].native, kdf["rounds"].native)
    iv = params["cipher"]["parameters"]["iv"].native
    return _gost28147_cfb(secret, iv, store["encrypted"].native, decrypt=True)


def key6_load(data: bytes, password: str) -> dstu4145.PrivateKey:
    inner = _DstuPrivkey.load(key6_decrypt(data, password))
    curve = dstu4145.CURVES_BY_OID[inner["algorithm"]["parameters"]["curve"].dotted]
    return dstu4145.PrivateKey(curve, int.from_bytes(inner["d"].native, "little"))
