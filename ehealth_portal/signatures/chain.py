"""Certification path: build it from the signer up to a trust anchor, then check it.

Building matches the issuer by name (and key identifiers when both are present) and verifies
each certificate's signature with the issuer key; that verification is cached because it is a pure
function of the two certificates' bytes. Validity periods, key usage and revocation depend on time
and on the CRLs, so `chain_check` runs them in full on every call.
"""

from collections.abc import Iterable
from datetime import datetime

from .algorithms import signature_is_valid
from .certificates import Certificate
from .errors import SignatureError
from .trust import RevocationLists, TrustAnchors, revoked

MAX_CHAIN_LENGTH = 8
SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


def chain_build(leaf: Certificate, pool: Iterable[Certificate], anchors: TrustAnchors) -> list[Certificate]:
    """[leaf, intermediates…, anchor]; intermediates come from `pool` (the CMS certificates)."""
    by_subject: dict[str, list[Certificate]] = {}
    for cert in pool:
        by_subject.setdefault(cert.subject, []).append(cert)
    chain = [leaf]
    while len(chain) <= MAX_CHAIN_LENGTH:
        current = chain[-1]
        if current.der in anchors.ders:
            return chain
        anchor = _issuer_find(current, anchors.by_subject.get(current.issuer, ()))
        if anchor is not None:
            chain.append(anchor)
            return chain
        if current.self_issued:
            break  # a self-signed certificate that is not an anchor: nothing further up
        candidates = [c for c in by_subject.get(current.issuer, ()) if c not in chain]
        issuer = _issuer_find(current, candidates)
        if issuer is None:
            break
        chain.append(issuer)
    raise SignatureError("unknown_ca", f"no path to a trust anchor from {leaf.issuer_text}")


def _issuer_find(cert: Certificate, candidates: Iterable[Certificate]) -> Certificate | None:
    for candidate in candidates:
        if (
            cert.authority_key_id is not None
            and candidate.subject_key_id is not None
            and cert.authority_key_id != candidate.subject_key_id
        ):
            continue
        if issued_by(cert, candidate):
            return candidate
    return None


_issued_by_cache: dict[tuple[bytes, bytes], bool] = {}
ISSUED_BY_CACHE_SIZE = 4096


def issued_by(cert: Certificate, issuer: Certificate) -> bool:
    """Whether `issuer`'s key verifies `cert`'s signature; cached by both certificates' DER bytes."""
    key = (cert.der, issuer.der)
    valid = _issued_by_cache.get(key)
    if valid is None:
        try:
            valid = signature_is_valid(
                issuer.key_algorithm,
                issuer.spki,
                cert.signature_algorithm,
                cert.signature_parameters,
                cert.signature,
                cert.tbs,
            )
        except SignatureError:
            valid = False  # an issuer key we cannot use is not this certificate's issuer
        if len(_issued_by_cache) >= ISSUED_BY_CACHE_SIZE:
            _issued_by_cache.clear()  # crude but bounded; refilling costs one verify per certificate
        _issued_by_cache[key] = valid
    return valid


def chain_check(
    chain: list[Certificate], signing_time: datetime | None, now: datetime, crls: RevocationLists
) -> None:
    """Validity, CA constraints, the signer's key usage and revocation; SignatureError on failure."""
    for moment in (signing_time, now):
        if moment is not None:
            for cert in chain:
                _validity_check(cert, moment)
    for cert in chain:
        if cert.unhandled_critical:
            raise SignatureError(
                "invalid_certificate", f"unhandled critical extension {cert.unhandled_critical}"
            )
    _ca_check(chain)
    leaf = chain[0]
    if leaf.key_usage is None or not leaf.key_usage & SIGNING_KEY_USAGES:
        raise SignatureError("key_usage", f"key usage {sorted(leaf.key_usage or ())}")
    for cert, issuer in zip(chain, chain[1:], strict=False):
        if revoked(cert, issuer, crls, now):
            raise SignatureError("certificate_revoked", f"serial {cert.serial:X} of {cert.issuer_text}")


def _validity_check(cert: Certificate, moment: datetime) -> None:
    if moment < cert.not_before:
        raise SignatureError("certificate_not_yet_valid", f"{cert.subject_text} valid from {cert.not_before}")
    if moment > cert.not_after:
        raise SignatureError("certificate_expired", f"{cert.subject_text} expired {cert.not_after}")


def _ca_check(chain: list[Certificate]) -> None:
    """Every issuer is a CA allowed to sign certificates, within its path length constraint."""
    for below, issuer in enumerate(chain[1:]):
        if not issuer.is_ca:
            raise SignatureError("invalid_certificate", f"{issuer.subject_text} is not a CA")
        if issuer.key_usage is not None and "key_cert_sign" not in issuer.key_usage:
            raise SignatureError("invalid_certificate", f"{issuer.subject_text} may not sign certificates")
        # `below` = CA certificates between this issuer and the signer (RFC 5280 §4.2.1.9).
        if issuer.path_length is not None and below > issuer.path_length:
            raise SignatureError("invalid_certificate", f"path length exceeded under {issuer.subject_text}")
