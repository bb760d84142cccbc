"""A lean reader of BER/DER elements on top of asn1crypto's parser.

asn1crypto's schema classes (cms.ContentInfo & co.) build an object with spec look-ups for every
field touched: reading one SignedData that way cost ~280 µs, more than the signature math. The
envelope is therefore walked with `asn1crypto.parser.parse` (tag/length/contents only) and
asn1crypto's types decode the few leaf values; certificates still go through asn1crypto.x509.
Every error is a ValueError.
"""

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from asn1crypto import core, parser

UNIVERSAL, CONTEXT = 0, 2
INTEGER, OCTET_STRING, NULL, OID, SEQUENCE, SET = 2, 4, 5, 6, 16, 17
UTC_TIME, GENERALIZED_TIME = 23, 24


class Element(NamedTuple):
    class_: int
    constructed: int
    tag: int
    header: bytes
    contents: bytes
    trailer: bytes  # b"\0\0" after indefinite-length contents

    @property
    def encoded(self) -> bytes:
        return self.header + self.contents + self.trailer


def element(data: bytes) -> Element:
    """The single element `data` holds (trailing bytes are an error)."""
    return Element(*parser.parse(data, strict=True))


def children(parent: Element) -> list[Element]:
    """The elements inside a constructed element."""
    if not parent.constructed:
        raise ValueError("primitive element where a constructed one was expected")
    found = []
    rest = parent.contents
    while rest:
        child = Element(*parser.parse(rest))
        found.append(child)
        rest = rest[len(child.header) + len(child.contents) + len(child.trailer) :]
    return found


def expect(item: Element, tag: int, class_: int = UNIVERSAL) -> Element:
    if item.class_ != class_ or item.tag != tag:
        raise ValueError(f"expected tag {class_}/{tag}, found {item.class_}/{item.tag}")
    return item


def sequence(item: Element, minimum: int = 0) -> list[Element]:
    items = children(expect(item, SEQUENCE))
    if len(items) < minimum:
        raise ValueError("sequence too short")
    return items


def oid(item: Element) -> str:
    expect(item, OID)
    return _oid_dotted(item.header + item.contents)


@lru_cache(maxsize=512)
def _oid_dotted(encoded: bytes) -> str:
    # The same dozen OIDs occur in every signature: decode each once.
    return core.ObjectIdentifier.load(encoded, strict=True).dotted


def integer(item: Element) -> int:
    expect(item, INTEGER)
    if not item.contents:
        raise ValueError("empty INTEGER")
    return int.from_bytes(item.contents, "big", signed=True)


def octets(item: Element) -> bytes:
    """An OCTET STRING's bytes (BER constructed strings are joined), whatever its tag."""
    if not item.constructed:
        return item.contents
    return b"".join(octets(expect(chunk, OCTET_STRING)) for chunk in children(item))


def time(item: Element) -> datetime:
    """A UTCTime or GeneralizedTime as an aware datetime."""
    if item.class_ == UNIVERSAL and item.tag == UTC_TIME:
        return core.UTCTime.load(item.encoded, strict=True).native
    if item.class_ == UNIVERSAL and item.tag == GENERALIZED_TIME:
        return core.GeneralizedTime.load(item.encoded, strict=True).native
    raise ValueError("expected a time")


def algorithm(item: Element) -> tuple[str, bytes | None]:
    """An AlgorithmIdentifier: (OID, DER of the parameters or None when absent or NULL)."""
    parts = sequence(item, 1)
    if len(parts) > 2:
        raise ValueError("AlgorithmIdentifier with extra fields")
    parameters = parts[1] if len(parts) == 2 else None
    if parameters is None or (parameters.tag == NULL and parameters.class_ == UNIVERSAL):
        return oid(parts[0]), None
    return oid(parts[0]), parameters.encoded
