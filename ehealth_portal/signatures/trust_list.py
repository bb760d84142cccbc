"""Trust anchors from an ETSI TS 119 612 trusted list (the Central Certification Authority's TL-UA-*.xml).

Walks TrustServiceStatusList → TrustServiceProviderList → TrustServiceProvider → TSPServices →
TSPService → ServiceInformation and keeps the X509Certificate of every service whose type is a
qualified-certificate CA (CA/QC) and whose current status is granted. ServiceHistory (earlier
statuses) is not read: only the current status counts.

The list's XML signature is NOT verified here: the operator downloads the file from the official site
over HTTPS (docs/security.md). Elements are matched by local name so the v1 and v2 namespaces both work.
External XML must not expand entities: defusedxml parses it (a DTD is refused outright).
"""

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from asn1crypto import pem

from .certificates import certificate_load

try:
    from defusedxml.ElementTree import fromstring as _xml_parse
except ImportError:  # pragma: no cover - defusedxml comes with fpdf2
    from xml.etree.ElementTree import fromstring as _stdlib_parse

    def _xml_parse(text: bytes, forbid_dtd: bool = True) -> Element:
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            raise ValueError("DTDs are not allowed in a trusted list")
        return _stdlib_parse(text)  # noqa: S314 - no DTD, so no entity to expand


SERVICE_TYPE_CA_QC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
STATUS_PREFIX = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
# "granted" (TS 119 612 v2, qualified) and "recognisedatnationallevel" (v2, national); the rest
# (withdrawn, deprecatedatnationallevel, …) no longer issue trusted certificates.
CURRENT_STATUSES = frozenset({STATUS_PREFIX + "granted", STATUS_PREFIX + "recognisedatnationallevel"})
MAX_LIST_BYTES = 32 * 1024 * 1024  # the real lists are a few MB


class TrustListError(ValueError):
    """The file is not a usable trusted list."""


@dataclass(frozen=True, slots=True)
class TrustService:
    provider: str
    name: str
    service_type: str
    status: str
    status_since: datetime | None
    certificates: tuple[bytes, ...]  # DER

    @property
    def current(self) -> bool:
        return self.status in CURRENT_STATUSES

    def started_by(self, now: datetime) -> bool:
        return self.status_since is None or self.status_since <= now


@dataclass(frozen=True, slots=True)
class TrustList:
    operator: str
    territory: str
    sequence_number: str
    issued: datetime | None
    next_update: datetime | None
    services: tuple[TrustService, ...]


@dataclass(frozen=True, slots=True)
class Anchor:
    der: bytes
    subject: str
    fingerprint: str  # SHA-256, hex upper-case with colons
    provider: str = ""

    def pem(self) -> bytes:
        return pem.armor("CERTIFICATE", self.der)


def anchor_from_der(der: bytes, provider: str = "") -> Anchor:
    cert = certificate_load(der)  # ValueError when malformed
    return Anchor(der=der, subject=cert.subject_text, fingerprint=fingerprint(der), provider=provider)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


# --- Parsing --------------------------------------------------------------------------------------


def trust_list_parse(data: bytes) -> TrustList:
    if len(data) > MAX_LIST_BYTES:
        raise TrustListError(f"the file is larger than {MAX_LIST_BYTES} bytes")
    try:
        root = _xml_parse(data, forbid_dtd=True)
    except Exception as error:  # ParseError, defusedxml's DTDForbidden / EntitiesForbidden, ValueError
        raise TrustListError(f"not a well-formed XML document without a DTD: {error}") from None
    if _local(root.tag) != "TrustServiceStatusList":
        raise TrustListError(f"the root element is {_local(root.tag)}, not TrustServiceStatusList")
    scheme = _child(root, "SchemeInformation")
    providers = _child(root, "TrustServiceProviderList")
    services = []
    for provider in _children(providers, "TrustServiceProvider"):
        provider_name = _name(_path(provider, "TSPInformation", "TSPName"))
        for service in _children(_child(provider, "TSPServices"), "TSPService"):
            services.append(_service(provider_name, _child(service, "ServiceInformation")))
    return TrustList(
        operator=_name(_path(scheme, "SchemeOperatorName")),
        territory=_text(_child(scheme, "SchemeTerritory")),
        sequence_number=_text(_child(scheme, "TSLSequenceNumber")),
        issued=_datetime(_text(_child(scheme, "ListIssueDateTime"))),
        next_update=_datetime(_text(_path(scheme, "NextUpdate", "dateTime"))),
        services=tuple(services),
    )


def _service(provider: str, info: Element | None) -> TrustService:
    certificates = []
    identity = _child(info, "ServiceDigitalIdentity")
    for digital_id in _children(identity, "DigitalId"):
        for element in _children(digital_id, "X509Certificate"):
            try:
                certificates.append(base64.b64decode("".join(_text(element).split()), validate=True))
            except (binascii.Error, ValueError):
                raise TrustListError(f"a certificate of {provider} is not base64") from None
    return TrustService(
        provider=provider,
        name=_name(_child(info, "ServiceName")),
        service_type=_text(_child(info, "ServiceTypeIdentifier")),
        status=_text(_child(info, "ServiceStatus")),
        status_since=_datetime(_text(_child(info, "StatusStartingTime"))),
        certificates=tuple(certificates),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(parent: Element | None, name: str) -> Iterable[Element]:
    return [child for child in parent if _local(child.tag) == name] if parent is not None else []


def _child(parent: Element | None, name: str) -> Element | None:
    return next(iter(_children(parent, name)), None)


def _path(parent: Element | None, *names: str) -> Element | None:
    for name in names:
        parent = _child(parent, name)
    return parent


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _name(names: Element | None) -> str:
    """The English Name among the multilingual ones, else the first (TSPName, ServiceName, …)."""
    options = {}
    for name in _children(names, "Name"):
        lang = next((value for key, value in name.attrib.items() if _local(key) == "lang"), "")
        options.setdefault(lang.lower(), _text(name))
    return options.get("en") or next(iter(options.values()), "")


def _datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TrustListError(f"not a date and time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Selection ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    anchors: tuple[Anchor, ...]
    skipped: tuple[str, ...]  # why services or certificates were left out, for the operator


def trust_list_anchors(
    trust_list: TrustList, *, now: datetime | None = None, service_types: frozenset[str] | None = None
) -> Selection:
    """The CA certificates of the current, granted CA/QC services (deduplicated by DER)."""
    now = now or datetime.now(UTC)
    service_types = service_types or frozenset({SERVICE_TYPE_CA_QC})
    anchors: dict[bytes, Anchor] = {}
    skipped = []
    for service in trust_list.services:
        if service.service_type not in service_types:
            continue
        label = f"{service.provider} / {service.name}"
        if not service.current:
            skipped.append(f"{label}: status {service.status.removeprefix(STATUS_PREFIX) or 'missing'}")
            continue
        if not service.started_by(now):
            skipped.append(f"{label}: granted only from {service.status_since}")
            continue
        for der in service.certificates:
            try:
                anchor = anchor_from_der(der, service.provider)
            except ValueError as error:
                skipped.append(f"{label}: malformed certificate ({error})")
                continue
            if not certificate_load(der).is_ca:
                skipped.append(f"{label}: {anchor.subject} is not a CA certificate")
                continue
            anchors.setdefault(der, anchor)
    return Selection(anchors=tuple(anchors.values()), skipped=tuple(skipped))


# --- Bundle ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleChange:
    added: tuple[Anchor, ...]
    removed: tuple[Anchor, ...]
    kept: tuple[Anchor, ...]


def bundle_change(current: Iterable[Anchor], new: Iterable[Anchor]) -> BundleChange:
    old = {anchor.der: anchor for anchor in current}
    fresh = {anchor.der: anchor for anchor in new}
    return BundleChange(
        added=tuple(anchor for der, anchor in fresh.items() if der not in old),
        removed=tuple(anchor for der, anchor in old.items() if der not in fresh),
        kept=tuple(anchor for der, anchor in fresh.items() if der in old),
    )


def bundle_pem(anchors: Iterable[Anchor], *, source: str) -> bytes:
    """A PEM bundle; the comment lines before each certificate are for people (parsers skip them)."""
    parts = [f"# Signature trust anchors loaded from {source}\n".encode()]
    for anchor in anchors:
        comment = f"# {anchor.provider}\n# {anchor.subject}\n# SHA-256 {anchor.fingerprint}\n"
        parts.append(comment.encode() + anchor.pem())
    return b"".join(parts)
