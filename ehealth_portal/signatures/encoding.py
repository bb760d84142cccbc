"""Turn what a client sends (DER, PEM or base64, maybe with a BOM or line breaks) into DER."""

import base64
import binascii
import re

from asn1crypto import pem
from django.conf import settings

from .errors import SignatureError

BOM = b"\xef\xbb\xbf"
PEM_TYPES = frozenset({"CMS", "PKCS7", "PKCS #7 SIGNED DATA"})
WHITESPACE = re.compile(rb"\s+")


def signature_decode(data: bytes | bytearray | memoryview | str) -> bytes:
    """The DER bytes of a signature, or SignatureError("too_large" | "not_a_signature")."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise SignatureError("not_a_signature", "text that is not UTF-8") from None
    elif isinstance(data, bytearray | memoryview):
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise TypeError(f"a signature is bytes or str, not {type(data).__name__}")
    if len(data) > settings.SIGNATURE_MAX_BYTES:
        raise SignatureError("too_large", f"{len(data)} bytes")
    if _looks_like_der(data):
        return data  # binary: never strip, the last bytes may well be 0x20, 0x0A or 0x00
    data = data.removeprefix(BOM).strip(b" \t\r\n\x00")  # text: NULs end C strings and padded fields
    if not data:
        raise SignatureError("not_a_signature", "empty")
    if data.startswith(b"-----BEGIN"):
        return _pem_decode(data)
    return _base64_decode(data)


def _looks_like_der(data: bytes) -> bool:
    # A SignedData is a long SEQUENCE: tag 0x30 and a multi-byte length (base64 text never starts so).
    return len(data) > 2 and data[0] == 0x30 and data[1] >= 0x80


def _pem_decode(data: bytes) -> bytes:
    try:
        block_type, _headers, der = pem.unarmor(data)
    except (ValueError, TypeError) as error:
        raise SignatureError("not_a_signature", f"PEM: {error}") from None
    if block_type not in PEM_TYPES:
        raise SignatureError("not_a_signature", f"PEM block {block_type!r}")
    return der


def _base64_decode(data: bytes) -> bytes:
    try:
        der = base64.b64decode(WHITESPACE.sub(b"", data), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("not_a_signature", "neither DER, PEM nor base64") from None
    if not _looks_like_der(der):
        raise SignatureError("not_a_signature", "base64 of something that is not DER")
    return der
