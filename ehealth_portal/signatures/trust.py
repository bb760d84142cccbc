"""Trust anchors and CRLs from disk, cached until the files change.

Cache keys are the path plus each file's (mtime, size, inode), checked with stat() on every call:
a settings change (tests) or a rewritten file is noticed at once. `devpki` replaces files atomically
(new inode), so even two writes within one mtime tick are seen.

SIGNATURE_CA_BUNDLE is a path (or a list of paths) to PEM certificates or a certificates-only CMS
SignedData (.p7b: DER, PEM or base64), told apart by content; `manage.py load_trust_list` writes it
from the official ETSI TS 119 612 lists (trust_list.py).

Revocation is checked against the CRLs that are present and whose signature verifies with the
issuer's key; an expired CRL still counts (a listed certificate stays refused). SIGNATURE_REVOCATION
decides about a CA without a current CRL: "soft" accepts (development), "hard" refuses with
`revocation_unknown` (production). The mode travels in `RevocationLists`, so `revoked()` enforces it.
`state_token()` changes whenever any of this does: the key for caches of verification results.
"""

import base64
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from asn1crypto import cms, crl, pem
from django.conf import settings

from .algorithms import signature_is_valid
from .certificates import Certificate, algorithm_parameters, certificate_load
from .errors import SignatureError

logger = logging.getLogger(__name__)

T = TypeVar("T")
StatKey = tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    by_subject: dict[str, tuple[Certificate, ...]]
    ders: frozenset[bytes]

    def __len__(self) -> int:
        return len(self.ders)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: a cheap lru_cache key
class RevocationList:
    der: bytes
    issuer: str  # normalised issuer name
    issuer_text: str
    authority_key_id: bytes | None
    tbs: bytes
    signature_algorithm: str
    signature_parameters: bytes | None
    signature: bytes
    this_update: datetime
    next_update: datetime | None
    revoked: frozenset[int]


@dataclass(frozen=True, slots=True)
class RevocationLists:
    by_issuer: dict[str, tuple[RevocationList, ...]]
    mode: str = (
        "soft"  # revocation_mode() when these were handed out: "hard" refuses CAs without a current CRL
    )


class _StatCache:
    """A few recent results keyed by the stat signature of their source files (tests swap paths)."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[StatKey, object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: StatKey, load: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = load()  # outside the lock: loading a large CRL must not block verifications
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_anchor_cache = _StatCache()
_crl_cache = _StatCache()


_generation = 0  # bumped by caches_clear(): a cleared cache reloads even unchanged files


def caches_clear() -> None:
    global _generation
    _anchor_cache.clear()
    _crl_cache.clear()
    _generation += 1


def state_token() -> tuple:
    """A hashable value that changes whenever the anchors, the CRLs or the revocation mode change.

    Built from the same stat keys the loaders are cached by, so a result cached under one token was
    computed from exactly the files (and mode) that token describes.
    """
    return (_generation, revocation_mode(), _anchor_key(), _crl_files(os.fspath(settings.SIGNATURE_CRLS)))


def _stat(path: str) -> tuple[str, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (path, info.st_mtime_ns, info.st_size, info.st_ino)


# --- Trust anchors --------------------------------------------------------------------------------


def _bundle_paths() -> list[str]:
    """SIGNATURE_CA_BUNDLE: one path, or a list of paths (each a PEM bundle or a .p7b)."""
    value = settings.SIGNATURE_CA_BUNDLE
    if isinstance(value, (list, tuple)):
        return [os.fspath(item) for item in value]
    return [os.fspath(value)]  # plain strings: this runs on every verification


def _anchor_key() -> StatKey:
    return tuple(_stat(path) or ("missing:" + path, 0, 0, 0) for path in _bundle_paths())


def trust_anchors() -> TrustAnchors:
    key = _anchor_key()
    return _anchor_cache.get(key, lambda: _anchors_load(key))


def _anchors_load(key: StatKey) -> TrustAnchors:
    by_subject: dict[str, list[Certificate]] = {}
    ders = set()
    for stat in key:
        if stat[0].startswith("missing:"):
            logger.warning("signature trust bundle %s does not exist", stat[0].removeprefix("missing:"))
            continue
        path = Path(stat[0])
        for der in bundle_certificates(_read(path), path):
            try:
                cert = certificate_load(der)
            except ValueError as error:
                logger.error("skipping a malformed certificate in %s: %s", path, error)
                continue
            if der not in ders:
                ders.add(der)
                by_subject.setdefault(cert.subject, []).append(cert)
    if not ders:
        logger.warning("no signature trust anchors loaded: every signature will be refused")
    logger.info("loaded %d signature trust anchors from %d files", len(ders), len(key))
    return TrustAnchors(by_subject={k: tuple(v) for k, v in by_subject.items()}, ders=frozenset(ders))


_PKCS7_PEM_TYPES = {"PKCS7", "CMS", "PKCS #7 SIGNED DATA"}
_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


def bundle_certificates(data: bytes, source: Path | str = "<bundle>") -> list[bytes]:
    """The DER certificates in a trust bundle, whatever its form (detected by content).

    PEM certificates (one or many), a PEM/DER/base64 certificates-only CMS SignedData (.p7b, as the
    Central Certification Authority publishes it) or a single DER certificate.
    """
    if pem.detect(data):
        found: list[bytes] = []
        try:
            for block_type, _headers, der in pem.unarmor(data, multiple=True):
                if block_type == "CERTIFICATE":
                    found.append(der)
                elif block_type in _PKCS7_PEM_TYPES:
                    found.extend(_p7b_certificates(der, source))
        except ValueError as error:
            logger.error("malformed PEM in %s: %s", source, error)
        return found
    stripped = data.strip()
    if stripped and _BASE64.match(stripped):
        try:
            data = base64.b64decode(b"".join(stripped.split()), validate=True)
        except ValueError:
            logger.error("%s is neither PEM, DER nor base64", source)
            return []
    if not data:
        return []
    if _is_signed_data(data):
        return _p7b_certificates(data, source)
    return [data]  # a single DER certificate (certificate_load reports it when malformed)


def _is_signed_data(der: bytes) -> bool:
    try:
        info = cms.ContentInfo.load(der)
        return info["content_type"].native == "signed_data"
    except Exception:  # asn1crypto raises assorted types on input that is something else
        return False


def _p7b_certificates(der: bytes, source: Path | str) -> list[bytes]:
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"content type {info['content_type'].native}")
        if len(info["content"]["signer_infos"]):
            # A bundle is a container of certificates; signatures in it are not checked, so say so.
            logger.warning("%s: the signatures in the CMS bundle are ignored", source)
        return [
            choice.chosen.dump()
            for choice in info["content"]["certificates"] or ()
            if choice.name == "certificate"
        ]
    except Exception as error:  # asn1crypto raises assorted types on malformed input
        logger.error("malformed CMS certificate bundle in %s: %r", source, error)
        return []


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:  # a misconfigured path refuses signatures; it must not crash requests
        logger.error("cannot read %s: %s", path, error)
        return b""


def _pem_blocks(data: bytes, types: set[str], source: Path) -> Iterator[bytes]:
    if not pem.detect(data):
        if data:
            yield data  # a single DER object
        return
    try:
        for block_type, _headers, der in pem.unarmor(data, multiple=True):
            if block_type in types:
                yield der
    except ValueError as error:
        logger.error("malformed PEM in %s: %s", source, error)


# --- CRLs -----------------------------------------------------------------------------------------


def revocation_lists() -> RevocationLists:
    """The loaded CRLs, carrying the revocation mode `revoked()` enforces."""
    key: StatKey = _crl_files(os.fspath(settings.SIGNATURE_CRLS))
    loaded = _crl_cache.get(key, lambda: _crls_load([Path(stat[0]) for stat in key]))
    mode = revocation_mode()
    return loaded if loaded.mode == mode else RevocationLists(by_issuer=loaded.by_issuer, mode=mode)


def _crl_files(path: str) -> StatKey:
    """The stat signature of the CRL file, or of each file in the CRL folder."""
    stat = _stat(path)
    if stat is None:
        return ()
    try:
        with os.scandir(path) as entries:
            found = []
            for entry in entries:
                if not entry.name.startswith(".") and entry.is_file():
                    info = entry.stat()
                    found.append((entry.path, info.st_mtime_ns, info.st_size, info.st_ino))
            return tuple(sorted(found))
    except NotADirectoryError:
        return (stat,)


def _crls_load(paths: list[Path]) -> RevocationLists:
    by_issuer: dict[str, list[RevocationList]] = {}
    for path in paths:
        for der in _pem_blocks(_read(path), {"X509 CRL"}, path):
            try:
                revocation_list = _crl_parse(der)
            except Exception as error:  # asn1crypto raises assorted types on malformed input
                logger.error("skipping a malformed CRL in %s: %r", path, error)
                continue
            by_issuer.setdefault(revocation_list.issuer, []).append(revocation_list)
    logger.info("loaded %d CRLs from %d files", sum(map(len, by_issuer.values())), len(paths))
    return RevocationLists(by_issuer={k: tuple(v) for k, v in by_issuer.items()})


def _crl_parse(der: bytes) -> RevocationList:
    certificate_list = crl.CertificateList.load(der, strict=True)
    tbs = certificate_list["tbs_cert_list"]
    outer_algorithm = certificate_list["signature_algorithm"]
    if tbs["signature"].dump() != outer_algorithm.dump():
        raise ValueError("inner and outer signature algorithms differ")
    aki = None
    for extension in tbs["crl_extensions"] or ():
        if extension["extn_id"].native == "authority_key_identifier":
            aki = extension["extn_value"].parsed["key_identifier"].native
    next_update = tbs["next_update"]
    return RevocationList(
        der=der,
        issuer=tbs["issuer"].hashable,
        issuer_text=tbs["issuer"].human_friendly,
        authority_key_id=aki,
        tbs=tbs.dump(),
        signature_algorithm=outer_algorithm["algorithm"].dotted,
        signature_parameters=algorithm_parameters(outer_algorithm),
        signature=certificate_list["signature"].native,
        this_update=tbs["this_update"].native,
        next_update=next_update.native if next_update else None,
        # Only the serial of each entry is read: big qualified CRLs load in a fraction of the time.
        revoked=frozenset(entry[0].native for entry in tbs["revoked_certificates"] or ()),
    )


def revoked(
    cert: Certificate, issuer: Certificate, lists: RevocationLists, now: datetime | None = None
) -> bool:
    """Whether a CRL signed by `issuer` lists `cert`. CRLs that do not verify are ignored.

    In hard mode (`lists.mode`), SignatureError "revocation_unknown" when `issuer` has no current
    CRL: the status of `cert` cannot be known, so it is not assumed good.
    """
    usable = _crls_of(issuer, lists, cert.issuer)
    if any(cert.serial in revocation_list.revoked for revocation_list in usable):
        return True  # listed is listed, even in an expired CRL
    if lists.mode == "hard" and not any(crl_current(revocation_list, now) for revocation_list in usable):
        raise SignatureError("revocation_unknown", f"no current CRL of {issuer.subject_text}")
    return False


def crl_required_for(issuer: Certificate, lists: RevocationLists, now: datetime | None = None) -> bool:
    """Whether a chain through `issuer` must be refused for want of a current CRL (hard mode only)."""
    if lists.mode != "hard":
        return False
    return not any(crl_current(item, now) for item in _crls_of(issuer, lists, issuer.subject))


def crl_current(revocation_list: RevocationList, now: datetime | None = None) -> bool:
    """thisUpdate <= now < nextUpdate; a CRL without nextUpdate is never current (RFC 5280 requires it)."""
    now = now or datetime.now(UTC)
    if revocation_list.next_update is None:
        return False
    return revocation_list.this_update <= now < revocation_list.next_update


def _crls_of(issuer: Certificate, lists: RevocationLists, issuer_name: str) -> list[RevocationList]:
    """The CRLs named after `issuer_name` whose key identifier and signature match `issuer`."""
    found = []
    for revocation_list in lists.by_issuer.get(issuer_name, ()):
        if (
            revocation_list.authority_key_id is not None
            and issuer.subject_key_id is not None
            and revocation_list.authority_key_id != issuer.subject_key_id
        ):
            continue
        if crl_signed_by(revocation_list, issuer):
            found.append(revocation_list)
    return found


def crl_signed_by(revocation_list: RevocationList, issuer: Certificate) -> bool:
    if issuer.key_usage is not None and "crl_sign" not in issuer.key_usage:
        return False
    return _crl_signature_valid(revocation_list, issuer.key_algorithm, issuer.spki)


@lru_cache(maxsize=256)
def _crl_signature_valid(revocation_list: RevocationList, key_algorithm: str, spki: bytes) -> bool:
    # Cached: a pure function of the CRL and key bytes.
    try:
        valid = signature_is_valid(
            key_algorithm,
            spki,
            revocation_list.signature_algorithm,
            revocation_list.signature_parameters,
            revocation_list.signature,
            revocation_list.tbs,
        )
    except SignatureError as error:
        valid = False
        logger.warning("CRL of %s not usable: %s", revocation_list.issuer_text, error)
    if not valid:
        logger.warning("ignoring a CRL of %s whose signature does not verify", revocation_list.issuer_text)
    return valid


# --- Revocation policy ----------------------------------------------------------------------------

REVOCATION_MODES = ("soft", "hard")


def revocation_mode() -> str:
    """ "soft" (a CA without a current CRL is accepted) or "hard" (such a chain is refused)."""
    mode = str(getattr(settings, "SIGNATURE_REVOCATION", "soft")).strip().lower()
    if mode not in REVOCATION_MODES:
        logger.error("unknown SIGNATURE_REVOCATION %r: using hard-fail", mode)
        return "hard"
    return mode
