"""Certification paths already built and checked, so that a repeat signer costs one signature check.

An entry is keyed by the SHA-256 fingerprints of the signer's certificate and of the certificates the
CMS carried (they decide which path is built) and by the trust state; it holds the path and the
period in which every certificate of it is valid. A hit only compares the moments (signing time,
now) with that period: the rest of `chain_check` (CA constraints, key usage, revocation) depends
on the certificates and the CRLs alone, both in the key. A moment outside the period falls through
to the full check, which reports the specific reason.

The trust state is the identity of the loaded anchors and CRLs, plus the revocation mode: `trust`
reloads them into new objects whenever a file changes or its caches are cleared, exactly when
`trust.state_token()` changes, and an entry keeps references to the objects it was checked with
(so their id() cannot be reused). That costs nothing per call, where computing `state_token()`
again would repeat the stat() calls `trust_anchors()` and `revocation_lists()` just made (~20 µs,
a tenth of a full ECDSA verification).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .certificates import Certificate
from .chain import chain_build, chain_check
from .trust import RevocationLists, TrustAnchors

CHAIN_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    chain: list[Certificate]
    not_before: datetime  # the latest notBefore of the path
    not_after: datetime  # the earliest notAfter
    checked_from: datetime  # `now` within these bounds: the CRLs used are not superseded or stale
    checked_until: datetime
    anchors: TrustAnchors  # identity compared on a hit (also keeps their id() from being reused)
    crls: dict  # RevocationLists.by_issuer: the loaded CRLs (the mode is in the key)


class ChainCache:
    """A bounded LRU of verified paths; thread-safe (gunicorn threads, Celery)."""

    def __init__(self, size: int = CHAIN_CACHE_SIZE) -> None:
        self._items: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def verified_chain(
        self,
        leaf: Certificate,
        pool: list[Certificate],
        anchors: TrustAnchors,
        crls: RevocationLists,
        signing_time: datetime | None,
        now: datetime,
    ) -> list[Certificate]:
        """`chain_build` then `chain_check`, or their cached result; SignatureError on refusal."""
        key = (
            leaf.sha256,
            frozenset(cert.sha256 for cert in pool),
            id(anchors),
            id(crls.by_issuer),
            getattr(crls, "mode", None),
        )
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
        if (
            entry is not None
            and entry.anchors is anchors
            and entry.crls is crls.by_issuer
            and entry.not_before <= now <= entry.not_after
            and entry.checked_from <= now <= entry.checked_until
            and (signing_time is None or entry.not_before <= signing_time <= entry.not_after)
        ):
            self.hits += 1
            return entry.chain
        self.misses += 1
        chain = chain_build(leaf, pool, anchors)
        chain_check(chain, signing_time, now, crls)
        crl_updates = [
            (item.this_update, item.next_update)
            for cert in chain[:-1]
            for item in crls.by_issuer.get(cert.issuer, ())
        ]
        # A CRL past its nextUpdate may change the outcome (hard-fail): recheck from then on.
        not_before = max(cert.not_before for cert in chain)
        not_after = min(cert.not_after for cert in chain)
        entry = _Entry(
            chain=chain,
            not_before=not_before,
            not_after=not_after,
            checked_from=max([not_before] + [this for this, _next in crl_updates]),
            checked_until=min([not_after] + [next_ for _this, next_ in crl_updates if next_]),
            anchors=anchors,
            crls=crls.by_issuer,
        )
        with self._lock:
            self._items[key] = entry
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return chain

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


chain_cache = ChainCache()
