"""Versioned caches for data that is read far more often than it changes.

A data set (the reference dictionaries, the public registry) has a version token kept in the shared
cache (Redis in production). Everything derived from it — rendered JSON, lookup tables — is cached under
that token, so changing the data only has to replace the token (`DataVersion.bump`): every process then
rebuilds on its next read. Each process checks the token at most once per `local_seconds`, so an edit
reaches every process within that time; the process that made the edit sees it at once.

With the shared cache unreachable, reads are built from the database every time: slower, never wrong.
"""

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import models, transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_ERRORS = (RedisError,)  # CACHES is Redis (CACHE_URL=redis://...) or local memory, which cannot fail

_lock = threading.Lock()
_versions: dict[str, tuple[str | None, float]] = {}  # name → (token, when it was read)
_memo: dict[tuple[str, str, str], object] = {}  # (name, token, what) → value built in this process


class DataVersion:
    def __init__(self, name: str, *, local_seconds: float = 1.0):
        self.name = name
        self.key = f"data-version:{name}"
        self.local_seconds = local_seconds

    def current(self) -> str | None:
        """The data set's version token (None while the shared cache is unreachable)."""
        token, read_at = _versions.get(self.name, (None, 0.0))
        if token is not None and time.monotonic() - read_at < self.local_seconds:
            return token
        try:
            token = cache.get(self.key)
            if token is None:
                candidate = secrets.token_hex(8)
                token = candidate if cache.add(self.key, candidate, timeout=None) else cache.get(self.key)
        except CACHE_ERRORS:  # build from the database
            logger.warning("Cache unreachable: %s is read from the database", self.name, exc_info=True)
            token = None
        with _lock:
            _versions[self.name] = (token, time.monotonic())
        return token

    def bump(self) -> None:
        """The data changed: replace the token now, and again once the transaction commits.

        Now, so this process (and a test) reads its own change; after commit, so that nothing built by
        another process from the data before the commit outlives it.
        """
        self._replace()
        connection = transaction.get_connection()
        if not any(callback == self._replace for _sids, callback, _robust in connection.run_on_commit):
            transaction.on_commit(self._replace)  # once per transaction, however many rows it writes

    def _replace(self) -> None:
        with _lock:
            _versions.pop(self.name, None)
            for entry in [entry for entry in _memo if entry[0] == self.name]:
                del _memo[entry]
        try:
            cache.set(self.key, secrets.token_hex(8), timeout=None)
        except CACHE_ERRORS:
            logger.warning("Cache unreachable: %s could not be invalidated", self.name, exc_info=True)

    def memo(self, what: str, build: Callable[[], object]) -> object:
        """`build()` kept in this process for the current version (small lookup tables)."""
        token = self.current()
        if token is None:
            return build()
        entry = (self.name, token, what)
        value = _memo.get(entry)
        if value is None:
            value = build()
            with _lock:  # what was built for older versions goes
                for stale in [key for key in _memo if key[0] == self.name and key[1] != token]:
                    del _memo[stale]
                _memo[entry] = value
        return value

    def shared(self, what: str, build: Callable[[], object], *, timeout: int = 24 * 3600) -> object:
        """`build()` kept in the shared cache for the current version (rendered responses)."""
        token = self.current()
        if token is None:
            return build()
        return cached(
            f"data:{self.name}:{token}:{hashlib.sha256(what.encode()).hexdigest()[:32]}", timeout, build
        )


def cached(key: str, timeout: int, compute):
    """compute()'s value, kept in the cache for `timeout` seconds; computed afresh while the cache is down."""
    try:
        value = cache.get(key)
    except CACHE_ERRORS as error:
        logger.warning("Cache unavailable, %s computed without it: %s", key, error)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout)
        except CACHE_ERRORS as error:
            logger.warning("Cache unavailable, %s not kept: %s", key, error)
    return value


def local_caches_clear() -> None:
    """Forget every version token and memo of this process (tests: each has its own shared cache)."""
    with _lock:
        _versions.clear()
        _memo.clear()


class VersionedQuerySet(models.QuerySet):
    """Writes through the queryset (update, delete, bulk) replace the model's data version too."""

    def _changed(self, result):
        self.model.data_version.bump()
        return result

    def update(self, **kwargs):
        return self._changed(super().update(**kwargs))

    def delete(self):
        return self._changed(super().delete())

    def bulk_create(self, *args, **kwargs):
        return self._changed(super().bulk_create(*args, **kwargs))

    def bulk_update(self, *args, **kwargs):
        return self._changed(super().bulk_update(*args, **kwargs))


class VersionedModel(models.Model):
    """A model whose rows feed a versioned cache (`data_version`): every write replaces the version."""

    data_version: DataVersion

    objects = VersionedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.data_version.bump()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self.data_version.bump()
        return result
