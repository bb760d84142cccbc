"""Signature backends selected by settings.SIGNATURE_BACKENDS (there is no "skip" backend)."""

import logging
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .cms import CmsBackend
from .documents import SignedDocument
from .encoding import signature_decode
from .errors import SignatureError

logger = logging.getLogger(__name__)


class SignatureBackend(Protocol):
    name: str

    def verify(self, encoded: bytes, content: bytes | None, *, signers: int) -> SignedDocument: ...


# A DSTU 4145 backend that needs more than new algorithms (e.g. UAPKI doing the whole CMS check)
# registers here under its settings name.
BACKENDS: dict[str, type[SignatureBackend]] = {"cms": CmsBackend}

_instances: dict[tuple[str, ...], list[SignatureBackend]] = {}


def backends_configured() -> list[SignatureBackend]:
    names = tuple(settings.SIGNATURE_BACKENDS)
    if names not in _instances:
        unknown = [name for name in names if name not in BACKENDS]
        if unknown or not names:
            raise ImproperlyConfigured(f"SIGNATURE_BACKENDS: unknown {unknown} or empty")
        _instances[names] = [BACKENDS[name]() for name in names]
    return _instances[names]


def verify_signature(
    signature: bytes | str,
    content: bytes | bytearray | memoryview | None = None,
    *,
    signers: int = 1,
) -> SignedDocument:
    """Verify a CMS/PKCS#7 SignedData and return its content and signers, or raise SignatureError.

    `signature`: DER, PEM or base64 (a UTF-8 BOM and surrounding whitespace are ignored).
    `content`: the document for a detached signature; for an attached one it must equal the content.
    `signers`: how many SignerInfos the envelope must hold (exactly).
    A backend that does not support the algorithms passes ("unsupported_algorithm") to the next one.
    """
    if signers < 1:
        raise ValueError("signers must be at least 1")
    if content is not None and not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError(f"content is bytes, not {type(content).__name__}")
    encoded = signature_decode(signature)
    refusal = SignatureError("unsupported_algorithm", "no backend")
    for backend in backends_configured():
        try:
            return backend.verify(encoded, content, signers=signers)
        except SignatureError as error:
            if error.code != "unsupported_algorithm":
                raise
            refusal = error
        except Exception as error:
            # Fail closed: a bug or an unforeseen input must refuse the signature, never accept it
            # or surface as a server error. Logged in full so that it gets fixed.
            logger.exception("unexpected error in signature backend %s", backend.name)
            raise SignatureError("not_a_signature", f"unexpected error: {error!r}") from error
    raise refusal
