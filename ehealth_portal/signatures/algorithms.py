"""Digest and public-key signature algorithms, looked up by OID.

The CMS and certificate code never names an algorithm: it asks this registry. RSA and ECDSA come
from `cryptography`; DSTU 4145-2002 with GOST 34.311-95 (Ukrainian qualified signatures) from the
project's own `dstu4145` and `gost34311`. Another backend adds itself with `register_digest`,
`register_key_type` and `register_signature_algorithm` for its OIDs, and no caller changes.
"""

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asn1crypto import algos, core
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from . import dstu4145
from .errors import SignatureError
from .gost34311 import gost34311

RSA_MIN_BITS = 2048
EC_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})

OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_DSTU4145 = dstu4145.OID_DSTU4145_LE  # key and signature: DSTU 4145-2002, little-endian encodings
OID_GOST34311 = "1.2.804.2.1.1.1.1.2.1"


@dataclass(frozen=True, slots=True)
class Digest:
    name: str
    new: Callable[..., Any]  # hashlib-like constructor
    hash: hashes.HashAlgorithm | None = None  # the same hash for cryptography's verify(), if it has one


# A signature verifier: (public key, signature, signed bytes, algorithm parameters DER or None,
# digest OID of the SignerInfo or None) -> True when the signature is valid.
Verifier = Callable[[Any, bytes, bytes, bytes | None, str | None], bool]

DIGESTS: dict[str, Digest] = {}
KEY_LOADERS: dict[str, Callable[[bytes], Any]] = {}  # SPKI algorithm OID -> loader(SPKI DER)
SIGNATURE_ALGORITHMS: dict[str, tuple[Verifier, frozenset[str]]] = {}  # OID -> (verifier, key OIDs)


def register_digest(oid: str, digest: Digest) -> None:
    DIGESTS[oid] = digest


def register_key_type(oid: str, loader: Callable[[bytes], Any]) -> None:
    """loader(SPKI DER) returns a key object for the verifiers, or raises ValueError."""
    KEY_LOADERS[oid] = loader
    public_key_load.cache_clear()


def register_signature_algorithm(oid: str, verifier: Verifier, key_types: set[str]) -> None:
    SIGNATURE_ALGORITHMS[oid] = (verifier, frozenset(key_types))


def digest_get(oid: str) -> Digest:
    try:
        return DIGESTS[oid]
    except KeyError:
        raise SignatureError("unsupported_algorithm", f"digest algorithm {oid}") from None


@lru_cache(maxsize=1024)
def public_key_load(key_oid: str, spki: bytes) -> Any:
    """The key object for an SPKI; cached because it is a pure function of the bytes."""
    loader = KEY_LOADERS.get(key_oid)
    if loader is None:
        raise SignatureError("unsupported_algorithm", f"public key algorithm {key_oid}")
    return loader(spki)


def signature_is_valid(
    key_oid: str,
    spki: bytes,
    algorithm_oid: str,
    parameters: bytes | None,
    signature: bytes,
    data: bytes,
    digest_oid: str | None = None,
) -> bool:
    """Whether `signature` over `data` verifies with the key; SignatureError when unsupported."""
    entry = SIGNATURE_ALGORITHMS.get(algorithm_oid)
    if entry is None:
        raise SignatureError("unsupported_algorithm", f"signature algorithm {algorithm_oid}")
    verifier, key_types = entry
    if key_oid not in key_types:
        raise SignatureError(
            "unsupported_algorithm", f"key {key_oid} with signature algorithm {algorithm_oid}"
        )
    key = public_key_load(key_oid, spki)
    return verifier(key, signature, data, parameters, digest_oid)


# --- Standard algorithms (cryptography) -----------------------------------------------------------


def _load_rsa(spki: bytes) -> rsa.RSAPublicKey:
    key = _load_spki(spki)
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("unsupported_algorithm", "SPKI is not an RSA key")
    if key.key_size < RSA_MIN_BITS:
        raise SignatureError("unsupported_algorithm", f"RSA key of {key.key_size} bits")
    return key


def _load_ec(spki: bytes) -> ec.EllipticCurvePublicKey:
    key = _load_spki(spki)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureError("unsupported_algorithm", "SPKI is not an EC key")
    if key.curve.name not in EC_CURVES:
        raise SignatureError("unsupported_algorithm", f"EC curve {key.curve.name}")
    return key


def _load_spki(spki: bytes) -> Any:
    try:
        return serialization.load_der_public_key(spki)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise SignatureError("unsupported_algorithm", f"public key: {error}") from None


def _hash_of(digest_oid: str | None) -> hashes.HashAlgorithm:
    if digest_oid is None:
        raise SignatureError("unsupported_algorithm", "no digest algorithm for the signature")
    digest = digest_get(digest_oid)
    if digest.hash is None:
        raise SignatureError("unsupported_algorithm", f"digest {digest.name} with an RSA or EC key")
    return digest.hash


def _checked(verify: Callable[..., None], *args: Any) -> bool:
    """cryptography's verify() as a boolean; malformed signature values are simply invalid."""
    try:
        verify(*args)
    except (InvalidSignature, ValueError):
        return False
    except UnsupportedAlgorithm as error:
        raise SignatureError("unsupported_algorithm", str(error)) from None
    return True


def _rsa_pkcs1(fixed_digest: str | None) -> Verifier:
    """RSASSA-PKCS1-v1_5; the hash comes from the OID, or from the SignerInfo for rsaEncryption."""

    def verify(
        key: Any, signature: bytes, data: bytes, parameters: bytes | None, digest_oid: str | None
    ) -> bool:
        return _checked(key.verify, signature, data, padding.PKCS1v15(), _hash_of(fixed_digest or digest_oid))

    return verify


def _rsa_pss(
    key: Any, signature: bytes, data: bytes, parameters: bytes | None, digest_oid: str | None
) -> bool:
    hash_oid, mgf_hash_oid, salt_length = _pss_parameters(parameters)
    pss = padding.PSS(mgf=padding.MGF1(_hash_of(mgf_hash_oid)), salt_length=salt_length)
    return _checked(key.verify, signature, data, pss, _hash_of(hash_oid))


@lru_cache(maxsize=64)
def _pss_parameters(parameters: bytes | None) -> tuple[str, str, int]:
    if parameters is None:
        raise SignatureError("unsupported_algorithm", "RSASSA-PSS without parameters (SHA-1)")
    try:
        params = algos.RSASSAPSSParams.load(parameters, strict=True)
        hash_oid = params["hash_algorithm"]["algorithm"].dotted
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].native != "mgf1":
            raise SignatureError("unsupported_algorithm", "PSS mask generation other than MGF1")
        mgf_hash_oid = mgf["parameters"]["algorithm"].dotted
        salt_length = int(params["salt_length"].native)
        trailer = params["trailer_field"].native
    except SignatureError:
        raise
    except Exception as error:  # asn1crypto raises many types on malformed input
        raise SignatureError("not_a_signature", f"RSASSA-PSS parameters: {error}") from None
    if trailer != "trailer_field_bc" or salt_length < 0:
        raise SignatureError("unsupported_algorithm", "RSASSA-PSS trailer or salt length")
    return hash_oid, mgf_hash_oid, salt_length


def _ecdsa(fixed_digest: str | None) -> Verifier:
    def verify(
        key: Any, signature: bytes, data: bytes, parameters: bytes | None, digest_oid: str | None
    ) -> bool:
        return _checked(key.verify, signature, data, ec.ECDSA(_hash_of(fixed_digest or digest_oid)))

    return verify


SHA256, SHA384, SHA512 = "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"

register_digest(SHA256, Digest("sha256", hashlib.sha256, hashes.SHA256()))
register_digest(SHA384, Digest("sha384", hashlib.sha384, hashes.SHA384()))
register_digest(SHA512, Digest("sha512", hashlib.sha512, hashes.SHA512()))

register_key_type(OID_RSA, _load_rsa)
register_key_type(OID_EC_PUBLIC_KEY, _load_ec)

_RSA_KEYS = {OID_RSA}
_EC_KEYS = {OID_EC_PUBLIC_KEY}
register_signature_algorithm(OID_RSA, _rsa_pkcs1(None), _RSA_KEYS)  # hash from the SignerInfo
register_signature_algorithm("1.2.840.113549.1.1.11", _rsa_pkcs1(SHA256), _RSA_KEYS)
register_signature_algorithm("1.2.840.113549.1.1.12", _rsa_pkcs1(SHA384), _RSA_KEYS)
register_signature_algorithm("1.2.840.113549.1.1.13", _rsa_pkcs1(SHA512), _RSA_KEYS)
register_signature_algorithm(OID_RSA_PSS, _rsa_pss, _RSA_KEYS)
register_signature_algorithm(OID_EC_PUBLIC_KEY, _ecdsa(None), _EC_KEYS)  # hash from the SignerInfo
register_signature_algorithm("1.2.840.10045.4.3.2", _ecdsa(SHA256), _EC_KEYS)
register_signature_algorithm("1.2.840.10045.4.3.3", _ecdsa(SHA384), _EC_KEYS)
register_signature_algorithm("1.2.840.10045.4.3.4", _ecdsa(SHA512), _EC_KEYS)


# --- DSTU 4145-2002 with GOST 34.311-95 ------------------------------------------------------------------------


def _load_dstu4145(spki: bytes) -> dstu4145.PublicKey:
    try:
        return dstu4145.public_key_from_spki(spki)
    except dstu4145.UnsupportedKey as error:
        raise SignatureError("unsupported_algorithm", f"DSTU 4145 key: {error}") from None
    except ValueError as error:
        raise SignatureError("invalid_certificate", f"DSTU 4145 key: {error}") from None


def _dstu4145(
    key: Any, signature: bytes, data: bytes, parameters: bytes | None, digest_oid: str | None
) -> bool:
    """GOST 34.311 of the data with the key's S-box, then the DSTU check of r‖s.

    CMS carries r‖s as the SignerInfo's OCTET STRING; certificates and CRLs wrap it in a DER OCTET
    STRING inside their BIT STRING. Both readings are tried (a wrong length fails at once).
    """
    if digest_oid not in (None, OID_GOST34311):
        raise SignatureError("unsupported_algorithm", f"DSTU 4145 with digest {digest_oid}")
    digest = dstu4145.gost34311_digest(data, key.sbox)
    values = [signature]
    with contextlib.suppress(ValueError, TypeError):
        values.insert(0, core.OctetString.load(signature, strict=True).native)
    return any(key.verify_digest(digest, value) for value in values)


register_digest(OID_GOST34311, Digest("gost34311", gost34311))
register_key_type(OID_DSTU4145, _load_dstu4145)
register_signature_algorithm(OID_DSTU4145, _dstu4145, {OID_DSTU4145})
