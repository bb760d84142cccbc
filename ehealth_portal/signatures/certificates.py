"""X.509 certificates parsed once with asn1crypto into plain, immutable values.

asn1crypto (not cryptography) parses them because it also reads DSTU 4145 certificates and the
subjectDirectoryAttributes extension that carries the DRFO/EDRPOU of Ukrainian qualified certificates.
It cannot read a DSTU 4145 SubjectPublicKeyInfo (its key OID is unknown to its schemas), so the SPKI
is taken raw with `der` for every certificate; the algorithm registry interprets it.
Parsing is a pure function of the DER bytes, so the result is cached.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from asn1crypto import core, x509

from . import der as raw

OID_SDA = "2.5.29.9"
OID_SDA_DRFO = "1.2.804.2.1.1.1.11.1.4.1.1"
OID_SDA_EDRPOU = "1.2.804.2.1.1.1.11.1.4.2.1"
OID_EKU_STAMP = "1.2.804.2.1.1.1.3.9"
OID_SERIAL_NUMBER = "2.5.4.5"
OID_ORGANIZATION_IDENTIFIER = "2.5.4.97"

# ETSI EN 319 412-1 semantics identifiers: "TINUA-<РНОКПП>" and "NTRUA-<ЄДРПОУ>".
TINUA = re.compile(r"^TINUA-(\S+)$")
NTRUA = re.compile(r"^NTRUA-(\S+)$")

# Critical extensions this module understands; any other critical one makes the certificate unusable
# (RFC 5280 §4.2). Certificate policies are informational here (no policy mapping is required).
HANDLED_CRITICAL = frozenset(
    {
        "2.5.29.15",  # keyUsage
        "2.5.29.19",  # basicConstraints
        "2.5.29.37",  # extKeyUsage
        "2.5.29.32",  # certificatePolicies
        "2.5.29.9",  # subjectDirectoryAttributes
        "2.5.29.17",  # subjectAltName
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.35",  # authorityKeyIdentifier
        "1.3.6.1.5.5.7.1.3",  # qcStatements
    }
)

# Extensions read through asn1crypto's own schemas; SDA is read with ours (its values are national).
PARSED_EXTENSIONS = frozenset({"2.5.29.14", "2.5.29.15", "2.5.29.19", "2.5.29.35", "2.5.29.37"})

SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "2.5.4.97": "organizationIdentifier",
}


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a certificate names, in the terms the portal uses."""

    surname: str | None
    given_names: str | None
    common_name: str | None
    organization: str | None
    title: str | None
    drfo: str | None  # РНОКПП (or passport number for people without one)
    edrpou: str | None
    is_stamp: bool


@dataclass(frozen=True, slots=True, eq=False)  # identity semantics: one object per DER (cached)
class Certificate:
    der: bytes
    sha256: str
    serial: int
    subject: str  # normalised name, for matching (RFC 5280 §7.1)
    issuer: str
    issuer_der: bytes
    subject_text: str  # RFC 4514-style, for people
    issuer_text: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str  # SPKI algorithm OID
    spki: bytes
    tbs: bytes
    signature_algorithm: str
    signature_parameters: bytes | None
    signature: bytes
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    is_ca: bool
    path_length: int | None
    key_usage: frozenset[str] | None  # None: no keyUsage extension
    unhandled_critical: tuple[str, ...]
    identity: Identity

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer


@lru_cache(maxsize=4096)
def certificate_load(der: bytes) -> Certificate:
    """Parse a DER certificate; ValueError when it is malformed."""
    try:
        return _parse(der)
    except ValueError:
        raise
    except Exception as error:  # asn1crypto raises assorted types on malformed input
        raise ValueError(f"malformed certificate: {error!r}") from None


@lru_cache(maxsize=4096)
def name_key(der: bytes) -> str:
    """A Name normalised for matching (RFC 5280 §7.1); an issuer's name recurs in every certificate it signs."""
    return x509.Name.load(der).hashable


def _parse(der: bytes) -> Certificate:
    cert = x509.Certificate.load(der, strict=True)
    tbs = cert["tbs_certificate"]
    outer_algorithm = cert["signature_algorithm"]
    if tbs["signature"].dump() != outer_algorithm.dump():
        raise ValueError("inner and outer signature algorithms differ")
    validity = tbs["validity"]
    key_algorithm, spki = _spki_raw(der)
    extensions, critical = _extensions(der)
    subject = tbs["subject"]
    key_usage = extensions.get("2.5.29.15")
    basic = extensions.get("2.5.29.19")
    aki = extensions.get("2.5.29.35")
    ski = extensions.get("2.5.29.14")
    eku = extensions.get("2.5.29.37")
    sda = extensions.get(OID_SDA)
    return Certificate(
        der=der,
        sha256=hashlib.sha256(der).hexdigest(),
        serial=tbs["serial_number"].native,
        subject=name_key(subject.dump()),
        issuer=name_key(tbs["issuer"].dump()),
        issuer_der=tbs["issuer"].dump(),
        subject_text=name_text(subject),
        issuer_text=name_text(tbs["issuer"]),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        key_algorithm=key_algorithm,
        spki=spki,
        tbs=tbs.dump(),
        signature_algorithm=outer_algorithm["algorithm"].dotted,
        signature_parameters=algorithm_parameters(outer_algorithm),
        signature=cert["signature_value"].native,
        subject_key_id=ski.native if ski is not None else None,
        authority_key_id=_authority_key_id(aki),
        is_ca=bool(basic is not None and basic["ca"].native),
        path_length=basic["path_len_constraint"].native if basic is not None else None,
        key_usage=frozenset(key_usage.native) if key_usage is not None else None,
        unhandled_critical=tuple(sorted(critical - HANDLED_CRITICAL)),
        identity=_identity(subject, sda.native if sda is not None else None, eku),
    )


def _spki_raw(der: bytes) -> tuple[str, bytes]:
    """(key algorithm OID, SubjectPublicKeyInfo DER) read without asn1crypto's key schemas."""
    tbs = raw.sequence(raw.sequence(raw.element(der), 3)[0], 6)
    spki = tbs[6 if tbs[0].class_ == raw.CONTEXT and tbs[0].tag == 0 else 5]
    key_oid, _parameters = raw.algorithm(raw.sequence(spki, 2)[0])
    return key_oid, spki.encoded


def _authority_key_id(aki: core.Asn1Value | None) -> bytes | None:
    """RFC 5280's SEQUENCE { [0] keyIdentifier }; some DSTU tools write a bare OCTET STRING instead."""
    if aki is None:
        return None
    if isinstance(aki, core.OctetString):
        return aki.native
    return aki["key_identifier"].native


def _extensions(der: bytes) -> tuple[dict[str, core.Asn1Value], set[str]]:
    """Parsed extensions this module reads (raw octet strings for the others) and the critical OIDs.

    Read with `der`: asn1crypto parses every known extension's value as soon as the extension is
    touched, so one nonconforming value (a DSTU tool's bare-OCTET-STRING authorityKeyIdentifier)
    would make the whole certificate unreadable.
    """
    found: dict[str, core.Asn1Value] = {}
    critical: set[str] = set()
    tbs = raw.sequence(raw.sequence(raw.element(der), 3)[0], 6)
    explicit = [item for item in tbs if item.class_ == raw.CONTEXT and item.tag == 3]
    if not explicit:
        return found, critical
    (wrapper,) = raw.children(explicit[0])
    for extension in raw.sequence(wrapper, 1):
        parts = raw.sequence(extension, 2)
        oid = raw.oid(parts[0])
        if oid in found:
            raise ValueError(f"duplicate extension {oid}")
        is_critical = len(parts) == 3 and core.Boolean.load(parts[1].encoded, strict=True).native
        value = raw.expect(parts[-1], raw.OCTET_STRING).contents
        found[oid] = _extension_value(oid, value) if oid in PARSED_EXTENSIONS else core.OctetString(value)
        if is_critical:
            critical.add(oid)
    return found, critical


PARSERS: dict[str, type[core.Asn1Value]] = {
    "2.5.29.14": core.OctetString,
    "2.5.29.15": x509.KeyUsage,
    "2.5.29.19": x509.BasicConstraints,
    "2.5.29.35": x509.AuthorityKeyIdentifier,
    "2.5.29.37": x509.ExtKeyUsageSyntax,
}


def _extension_value(oid: str, value: bytes) -> core.Asn1Value:
    try:
        return PARSERS[oid].load(value, strict=True)
    except ValueError:
        if oid == "2.5.29.35":  # authorityKeyIdentifier as a bare OCTET STRING (jkurwa and others)
            return core.OctetString.load(value, strict=True)
        raise


def algorithm_parameters(algorithm: core.Sequence) -> bytes | None:
    """DER of an AlgorithmIdentifier's parameters; None when absent or NULL."""
    parameters = algorithm["parameters"]
    if isinstance(parameters, core.Void | core.Null):
        return None
    dumped = parameters.dump()
    return None if dumped in (b"", b"\x05\x00") else dumped


class _AttributeValues(core.SetOf):
    _child_spec = core.Any


class _Attribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", _AttributeValues)]


class SubjectDirectoryAttributes(core.SequenceOf):
    """2.5.29.9 with values left as raw ASN.1, so any national attribute can be read."""

    _child_spec = _Attribute


def _identity(subject: x509.Name, sda: bytes | None, eku: core.Asn1Value | None) -> Identity:
    names = _name_values(subject)
    directory = _directory_attributes(sda) if sda is not None else {}
    drfo = directory.get(OID_SDA_DRFO) or _prefixed(TINUA, names.get(OID_SERIAL_NUMBER))
    edrpou = directory.get(OID_SDA_EDRPOU) or _prefixed(NTRUA, names.get(OID_ORGANIZATION_IDENTIFIER))
    purposes = {purpose.dotted for purpose in eku} if eku is not None else set()
    return Identity(
        surname=names.get("2.5.4.4"),
        given_names=names.get("2.5.4.42"),
        common_name=names.get("2.5.4.3"),
        organization=names.get("2.5.4.10"),
        title=names.get("2.5.4.12"),
        drfo=drfo,
        edrpou=edrpou,
        is_stamp=OID_EKU_STAMP in purposes,
    )


def _prefixed(pattern: re.Pattern[str], value: str | None) -> str | None:
    match = pattern.match(value or "")
    return match.group(1) if match else None


def _directory_attributes(der: bytes) -> dict[str, str]:
    """The first string value of each subjectDirectoryAttributes attribute, by OID."""
    found: dict[str, str] = {}
    for attribute in SubjectDirectoryAttributes.load(der, strict=True):
        values = attribute["values"]
        if len(values):
            value = core.load(values[0].dump())
            if isinstance(value.native, str):
                found.setdefault(attribute["type"].dotted, value.native.strip())
    return found


def _name_values(name: x509.Name) -> dict[str, str]:
    """The first value of each attribute type in a name, by OID."""
    found: dict[str, str] = {}
    for rdn in name.chosen:
        for pair in rdn:
            value = pair["value"].native
            if isinstance(value, str):
                found.setdefault(pair["type"].dotted, value.strip())
    return found


def name_text(name: x509.Name) -> str:
    """An RFC 4514-style string (most specific RDN first) for display and logs."""
    parts = []
    for rdn in reversed(list(name.chosen)):
        atoms = []
        for pair in rdn:
            oid = pair["type"].dotted
            value = pair["value"].native
            text = value if isinstance(value, str) else pair["value"].dump().hex()
            atoms.append(f"{SHORT_NAMES.get(oid, oid)}={_escape(text)}")
        parts.append("+".join(atoms))
    return ",".join(parts)


def _escape(value: str) -> str:
    escaped = "".join("\\" + char if char in ',+"\\<>;=' else char for char in value)
    if escaped[:1] in ("#", " "):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped
