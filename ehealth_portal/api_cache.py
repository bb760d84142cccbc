"""Read paths served from JSON rendered once: the bytes, their ETag and Last-Modified, and conditional GETs.

A read path caches `CachedJson.of(data)` (in a `DataVersion`, or per object by its `updated_at`) and
answers with `cached_response` (the API: `api.cached_json_response`): the envelope is built around the stored bytes without decoding
them, and a client that already has this version gets 304.
"""

import hashlib
import json
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

from .caching import CACHE_ERRORS

logger = logging.getLogger(__name__)


def json_bytes(data) -> bytes:
    """JSON as the API renders it (compact, UTF-8, line separators escaped like DRF's renderer)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class RawJSON(bytes):
    """JSON already rendered: the envelope renderer places these bytes as they are."""


@dataclass(frozen=True)
class CachedJson:
    body: bytes
    etag: str
    last_modified: float  # when it was rendered: the data has not changed since

    @classmethod
    def of(cls, data) -> "CachedJson":
        body = json_bytes(data)
        return cls(body, quote_etag(hashlib.sha256(body).hexdigest()[:32]), timezone.now().timestamp())


def cached_response(request, cached: CachedJson, respond, *, max_age: int):
    """`respond(cached.body)`, or a 304 when the client's copy is this one (If-None-Match /
    If-Modified-Since); either with ETag, Last-Modified and Cache-Control."""
    response = get_conditional_response(request, etag=cached.etag, last_modified=int(cached.last_modified))
    if response is None:
        response = respond(cached.body)
    response["ETag"] = cached.etag
    response["Last-Modified"] = http_date(cached.last_modified)
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


ROW_JSON_SECONDS = 24 * 3600


def rows_json(rows: list[tuple], *, prefix: str, load) -> list[bytes]:
    """The JSON of each row, cached by (its id, its version): `rows` are (id, version) pairs in order.

    `load(ids)` returns {id: data} for the rows not in the cache; only those are read in full and
    rendered. A row whose version changed (e.g. its `updated_at`) is simply a new key.
    """
    keys = [
        f"{prefix}:{pk}:{version.isoformat() if hasattr(version, 'isoformat') else version}"
        for pk, version in rows
    ]
    try:
        found = cache.get_many(keys)
    except CACHE_ERRORS:  # the cache unreachable: render everything
        found = {}
    missing = [pk for (pk, _version), key in zip(rows, keys, strict=True) if key not in found]
    if missing:
        rendered = {pk: json_bytes(data) for pk, data in load(missing).items()}
        new = {key: rendered[pk] for (pk, _version), key in zip(rows, keys, strict=True) if pk in rendered}
        found.update(new)
        try:
            cache.set_many(new, timeout=ROW_JSON_SECONDS)
        except CACHE_ERRORS:  # served all the same; cached another time
            logger.warning("Cache unreachable: %s rows not stored", prefix, exc_info=True)
    return [found[key] for key in keys if key in found]


def json_list(items: list[bytes]) -> RawJSON:
    return RawJSON(b"[" + b",".join(items) + b"]")


def query_key(request, *serializers) -> str:
    """A cache key of the request's query parameters that these serializers read, as they were sent.

    A cached answer is then found before validating anything; a request that fails validation is never
    stored, and parameters the endpoint ignores cannot multiply the entries.
    """
    names = sorted({name for serializer in serializers for name in serializer._declared_fields})
    return repr(
        [(name, request.query_params.getlist(name)) for name in names if name in request.query_params]
    )
