"""Trust anchors and CRLs from disk, cached until the files change.

Cache keys are the path plus each file's (mtime, size, inode), checked with stat() on every call:
a settings change (tests) or a rewritten file is noticed at once. `devpki` replaces files atomically
(new inode), so even two writes within one mtime tick are seen.

Revocation is checked against the CRLs that are present and whose signature verifies with the
issuer's key; a CA without a usable CRL is not treated as an error (soft-fail), and an expired
CRL still counts (a listed certificate stays refused).
"""

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from asn1crypto import crl, pem
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


def caches_clear() -> None:
    _anchor_cache.clear()
    _crl_cache.clear()


def _stat(path: str) -> tuple[str, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (path, info.st_mtime_ns, info.st_size, info.st_ino)


# --- Trust anchors --------------------------------------------------------------------------------


def trust_anchors() -> TrustAnchors:
    path = os.fspath(settings.SIGNATURE_CA_BUNDLE)  # plain strings: this runs on every verification
    stat = _stat(path)
    key: StatKey = (stat,) if stat else (("missing:" + path, 0, 0, 0),)
    return _anchor_cache.get(key, lambda: _anchors_load(Path(path), exists=stat is not None))


def _anchors_load(path: Path, *, exists: bool) -> TrustAnchors:
    if not exists:
        logger.warning("signature trust bundle %s does not exist: every signature will be refused", path)
        return TrustAnchors(by_subject={}, ders=frozenset())
    by_subject: dict[str, list[Certificate]] = {}
    ders = set()
    for der in _pem_blocks(_read(path), {"CERTIFICATE"}, path):
        try:
            cert = certificate_load(der)
        except ValueError as error:
            logger.error("skipping a malformed certificate in %s: %s", path, error)
            continue
        if der not in ders:
            ders.add(der)
            by_subject.setdefault(cert.subject, []).append(cert)
    logger.info("loaded %d signature trust anchors from %s", len(ders), path)
    return TrustAnchors(by_subject={k: tuple(v) for k, v in by_subject.items()}, ders=frozenset(ders))


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
    key: StatKey = _crl_files(os.fspath(settings.SIGNATURE_CRLS))
    return _crl_cache.get(key, lambda: _crls_load([Path(stat[0]) for stat in key]))


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


def revoked(cert: Certificate, issuer: Certificate, lists: RevocationLists) -> bool:
    """Whether a CRL signed by `issuer` lists `cert`. CRLs that do not verify are ignored."""
    for revocation_list in lists.by_issuer.get(cert.issuer, ()):
        if (
            revocation_list.authority_key_id is not None
            and issuer.subject_key_id is not None
            and revocation_list.authority_key_id != issuer.subject_key_id
        ):
            continue
        if not crl_signed_by(revocation_list, issuer):
            continue
        if cert.serial in revocation_list.revoked:
            return True
    return False


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
