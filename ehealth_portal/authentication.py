import time

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_api_key.permissions import KeyParser

from .caching import DataVersion

# Keys and their users as last read, per process; any save or delete of a key or a user replaces the
# version, which every process notices within a second (DataVersion), so a revoked key, a deactivated
# user or a withdrawn operator role stops working within that second.
API_KEYS = DataVersion("api-keys")
ROWS_SECONDS = 30.0
_rows_seen: dict[str, tuple[str | None, float, tuple]] = {}  # prefix → (version, when read, columns)


class SessionAuthentication(authentication.SessionAuthentication):
    """Session login for the API, answering 401 (not 403) when nobody is signed in, as eHealth does.

    (A module of its own: DRF imports authentication classes while rest_framework.views loads.)
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request runs as the key's user; a bad key is a 401.

    The key's row and its user come from a per-process memo (no query on a read); the key itself is
    checked against the stored hash on every request, and expiry and the user's state too.
    """

    keyword = KeyParser.keyword

    def authenticate(self, request):
        key = KeyParser().get(request)
        if key is None:
            return None
        key = key.strip()
        prefix = key.partition(".")[0]
        api_key = api_key_rows(prefix)
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("The API key is not valid."))
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword


def api_key_rows(prefix: str):
    """The usable key with this prefix and its user, as fresh model instances (None: no such key).

    Kept per process for the current API_KEYS version and at most ROWS_SECONDS (a bulk `update()`,
    which sends no signal, is noticed within that time). Only column values are kept, never instances,
    so no request sees another's objects; unknown prefixes are not kept, so guessing cannot fill memory.
    """
    from .models import ApiKey, User  # models load after DRF's settings import this module

    token, now = API_KEYS.current(), time.monotonic()
    seen = _rows_seen.get(prefix)
    if token is not None and seen is not None and seen[0] == token and now - seen[1] < ROWS_SECONDS:
        rows = seen[2]
    else:
        api_key = ApiKey.objects.get_usable_keys().select_related("user").filter(prefix=prefix).first()
        if api_key is None:
            _rows_seen.pop(prefix, None)
            return None
        rows = (_columns(api_key), _columns(api_key.user))
        if len(_rows_seen) >= 10_000:  # far more keys than a portal has: start afresh
            _rows_seen.clear()
        _rows_seen[prefix] = (token, now, rows)
    api_key = _instance(ApiKey, rows[0])
    api_key.user = _instance(User, rows[1])
    return api_key


def _columns(instance) -> tuple:
    return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)


def _instance(model, values: tuple):
    return model.from_db("default", [field.attname for field in model._meta.concrete_fields], values)


def api_keys_changed(**_kwargs) -> None:
    """post_save/post_delete of a key or a user: every process re-reads keys."""
    API_KEYS.bump()
