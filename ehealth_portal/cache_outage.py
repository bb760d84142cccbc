"""The cache (Redis) down: reads go on without it, writes that need it are refused with a 503, never a 500.

allauth's rate limits and DRF's throttles count in the cache. A portal that cannot count must not let
unlimited password guesses or signature checks through, so a rate-limited write fails closed; a read that
only wanted the cache (a cached aggregate, the rate limit of a public page) is computed without it.
"""

import logging

from allauth.core.ratelimit import consume_or_429

from . import errors
from .caching import CACHE_ERRORS

logger = logging.getLogger(__name__)


class CacheOutageMiddleware:
    """A view that needed the cache and could not reach it: the "temporarily unavailable" 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CACHE_ERRORS):
            return None
        logger.error("Cache unavailable, %s %s refused with 503: %s", request.method, request.path, exception)
        return errors.unavailable(request)


def consume_or_429_read(request, *, action: str):
    """The rate limit of a page that only reads: counted while the cache works, skipped while it is down
    (the page is served; the outage is logged)."""
    try:
        return consume_or_429(request, action=action, limit_get=True)
    except CACHE_ERRORS as error:
        logger.warning("Cache unavailable, rate limit %s not counted: %s", action, error)
        return None
