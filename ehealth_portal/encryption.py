"""Secrets at rest (e.g. a CNAP system's Basic Auth password): Fernet with keys from the environment.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys, newest first. New values are encrypted with the first key;
any listed key decrypts. To rotate: put a new key first, run `manage.py rotate_encryption_keys`, then
drop the old key. Without the keys the database alone does not reveal a stored secret.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """The stored value was encrypted with a key that is no longer configured, or was altered."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {error}") from error


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return _current().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        raise SecretUnreadable("the secret cannot be decrypted with the configured keys") from error


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise SecretUnreadable("the secret cannot be decrypted with the configured keys") from error
