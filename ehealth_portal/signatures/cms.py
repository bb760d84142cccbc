"""CMS / PKCS#7 SignedData (RFC 5652): parse (asn1crypto's BER parser, see `der`), then verify
with the algorithm registry and the certification path."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509
from django.utils import timezone

from . import der
from .algorithms import digest_get, signature_is_valid
from .certificates import Certificate, certificate_load
from .chain_cache import chain_cache
from .documents import SignedDocument, Signer
from .errors import SignatureError
from .trust import revocation_lists, trust_anchors

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"

# More certificates than any real chain needs only makes the verifier parse and try them all.
MAX_CERTIFICATES = 32

# Clocks of signers' machines drift; a signing time further ahead than this is refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """One SignerInfo reduced to plain values (parsing is over once this exists)."""

    issuer_der: bytes | None  # issuerAndSerialNumber…
    serial: int | None
    key_id: bytes | None  # …or subjectKeyIdentifier
    digest_algorithm: str
    signature_algorithm: str
    signature_parameters: bytes | None
    signature: bytes
    signed_attributes: bytes | None  # DER with the SET OF tag: what the signature covers
    content_type: str | None
    message_digest: bytes | None
    signing_time: datetime | None


@dataclass(frozen=True, slots=True)
class Envelope:
    content_type: str
    content: bytes | None  # None: detached
    certificates: tuple[bytes, ...]
    signer_infos: tuple[SignerInfo, ...]


class CmsBackend:
    """RSA and ECDSA signatures in CMS SignedData; DSTU 4145 plugs in through `algorithms`."""

    name = "cms"

    def verify(self, encoded: bytes, content: bytes | None, *, signers: int) -> SignedDocument:
        envelope = envelope_parse(encoded)
        if len(envelope.signer_infos) != signers:
            raise SignatureError("signer_count", f"{len(envelope.signer_infos)} signers, expected {signers}")
        data = _content(envelope, content)
        certificates = _certificates(envelope)
        now = timezone.now()
        anchors, crls = trust_anchors(), revocation_lists()
        verified = []
        for signer_info in envelope.signer_infos:
            cert = _signer_certificate(signer_info, certificates)
            _signature_check(signer_info, envelope.content_type, data, cert)
            signing_time = signer_info.signing_time
            if signing_time is not None and signing_time > now + CLOCK_SKEW:
                raise SignatureError("signing_time_invalid", f"signing time {signing_time}")
            chain_cache.verified_chain(cert, certificates, anchors, crls, signing_time, now)
            verified.append(_signer(cert, signing_time))
        return SignedDocument(
            content=data,
            signers=tuple(verified),
            content_type=envelope.content_type,
            detached=envelope.content is None,
        )


def envelope_parse(encoded: bytes) -> Envelope:
    """Everything verification needs, read once; anything malformed is "not_a_signature"."""
    try:
        return _envelope_parse(encoded)
    except SignatureError:
        raise
    except Exception as error:  # asn1crypto raises assorted types (ValueError, TypeError, …) on garbage
        raise SignatureError("not_a_signature", f"malformed CMS: {error!r}") from None


def _envelope_parse(data: bytes) -> Envelope:
    # ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT SignedData }
    content_info = der.sequence(der.element(data), 2)
    if der.oid(content_info[0]) != OID_SIGNED_DATA:
        raise SignatureError("not_a_signature", "not a SignedData")
    explicit = der.children(der.expect(content_info[1], 0, der.CONTEXT))
    if len(explicit) != 1:
        raise ValueError("SignedData wrapper")
    # SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
    #                           [0] certificates OPTIONAL, [1] crls OPTIONAL, signerInfos }
    fields = der.sequence(explicit[0], 4)
    der.integer(fields[0])
    der.expect(fields[1], der.SET)
    content_type, content = _encapsulated(fields[2])
    certificates: tuple[bytes, ...] = ()
    for optional in fields[3:-1]:
        if optional.class_ == der.CONTEXT and optional.tag == 0:
            # CertificateChoices: only plain certificates (SEQUENCE); attribute certificates are ignored.
            certificates = tuple(c.encoded for c in der.children(optional) if c.class_ == der.UNIVERSAL)
        elif not (optional.class_ == der.CONTEXT and optional.tag == 1):
            raise ValueError("unexpected field in SignedData")
    signer_infos = der.children(der.expect(fields[-1], der.SET))
    return Envelope(
        content_type=content_type,
        content=content,
        certificates=certificates,
        signer_infos=tuple(_signer_info_parse(item) for item in signer_infos),
    )


def _encapsulated(item: der.Element) -> tuple[str, bytes | None]:
    # EncapsulatedContentInfo ::= SEQUENCE { eContentType, [0] EXPLICIT OCTET STRING OPTIONAL }
    parts = der.sequence(item, 1)
    if len(parts) > 2:
        raise ValueError("EncapsulatedContentInfo with extra fields")
    if len(parts) == 1:
        return der.oid(parts[0]), None
    explicit = der.children(der.expect(parts[1], 0, der.CONTEXT))
    if len(explicit) != 1:
        raise ValueError("eContent wrapper")
    return der.oid(parts[0]), der.octets(der.expect(explicit[0], der.OCTET_STRING))


def _signer_info_parse(item: der.Element) -> SignerInfo:
    # SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs OPTIONAL,
    #                           signatureAlgorithm, signature, [1] unsignedAttrs OPTIONAL }
    fields = der.sequence(item, 5)
    der.integer(fields[0])
    issuer_der, serial, key_id = _signer_identifier(fields[1])
    digest_algorithm, _ = der.algorithm(fields[2])
    position = 3
    signed_attributes = None
    values: dict[str, der.Element] = {}
    if fields[3].class_ == der.CONTEXT and fields[3].tag == 0:
        signed_attributes = _set_of(fields[3].contents)
        values = _attributes(fields[3])
        position = 4
    if len(fields) < position + 2:
        raise ValueError("SignerInfo too short")
    signature_algorithm, signature_parameters = der.algorithm(fields[position])
    signature = der.octets(der.expect(fields[position + 1], der.OCTET_STRING))
    content_type = values.get(OID_CONTENT_TYPE)
    message_digest = values.get(OID_MESSAGE_DIGEST)
    signing_time = values.get(OID_SIGNING_TIME)
    return SignerInfo(
        issuer_der=issuer_der,
        serial=serial,
        key_id=key_id,
        digest_algorithm=digest_algorithm,
        signature_algorithm=signature_algorithm,
        signature_parameters=signature_parameters,
        signature=signature,
        signed_attributes=signed_attributes,
        content_type=der.oid(content_type) if content_type is not None else None,
        message_digest=der.octets(der.expect(message_digest, der.OCTET_STRING))
        if message_digest is not None
        else None,
        signing_time=der.time(signing_time) if signing_time is not None else None,
    )


def _signer_identifier(item: der.Element) -> tuple[bytes | None, int | None, bytes | None]:
    """(issuer name DER, serial) for issuerAndSerialNumber, or the [0] subjectKeyIdentifier."""
    if item.class_ == der.CONTEXT and item.tag == 0:
        return None, None, der.octets(item)
    issuer, serial = der.sequence(item, 2)[:2]
    der.expect(issuer, der.SEQUENCE)
    return issuer.encoded, der.integer(serial), None


def _attributes(item: der.Element) -> dict[str, der.Element]:
    """The single value of each signed attribute we read; duplicates are malformed (RFC 5652 §5.3)."""
    found: dict[str, der.Element] = {}
    seen: set[str] = set()
    for attribute in der.children(item):
        parts = der.sequence(attribute, 2)
        oid = der.oid(parts[0])
        if oid in seen or len(parts) != 2:
            raise SignatureError("not_a_signature", f"attribute {oid} repeated or malformed")
        seen.add(oid)
        if oid in (OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNING_TIME):
            values = der.children(der.expect(parts[1], der.SET))
            if len(values) != 1:
                raise SignatureError("not_a_signature", f"attribute {oid} with {len(values)} values")
            found[oid] = values[0]
    return found


def _set_of(contents: bytes) -> bytes:
    """Signed attributes are signed as an explicit SET OF, not as the [0] IMPLICIT they travel in."""
    length = len(contents)
    if length < 0x80:
        header = bytes([0x31, length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([0x31, 0x80 | len(size)]) + size
    return header + contents


def _content(envelope: Envelope, content: bytes | None) -> bytes:
    if envelope.content is None:
        if content is None:
            raise SignatureError("content_missing", "detached signature without content")
        return bytes(content)
    if content is not None and bytes(content) != envelope.content:
        raise SignatureError("content_mismatch", "given content differs from the attached content")
    return envelope.content


def _certificates(envelope: Envelope) -> list[Certificate]:
    if len(envelope.certificates) > MAX_CERTIFICATES:
        raise SignatureError("not_a_signature", f"{len(envelope.certificates)} certificates")
    try:
        return [certificate_load(encoded) for encoded in envelope.certificates]
    except ValueError as error:
        raise SignatureError("not_a_signature", str(error)) from None


def _signer_certificate(signer_info: SignerInfo, certificates: list[Certificate]) -> Certificate:
    if signer_info.key_id is not None:
        for cert in certificates:
            if cert.subject_key_id == signer_info.key_id:
                return cert
    else:
        for cert in certificates:
            if cert.serial == signer_info.serial and cert.issuer_der == signer_info.issuer_der:
                return cert
        issuer = _name_normalised(signer_info.issuer_der)  # same name, other string encoding
        for cert in certificates:
            if cert.serial == signer_info.serial and cert.issuer == issuer:
                return cert
    raise SignatureError("certificate_missing", "no certificate in the CMS matches the signer identifier")


def _name_normalised(encoded: bytes | None) -> str | None:
    try:
        return x509.Name.load(encoded, strict=True).hashable if encoded else None
    except Exception:  # asn1crypto raises assorted types on garbage
        return None


def _signature_check(signer_info: SignerInfo, content_type: str, data: bytes, cert: Certificate) -> None:
    """messageDigest against the content, then the signature with the certificate's key."""
    if signer_info.signed_attributes is not None:
        if signer_info.content_type != content_type:
            raise SignatureError("bad_signature", "contentType attribute differs from eContentType")
        if signer_info.message_digest is None:
            raise SignatureError("bad_signature", "signed attributes without messageDigest")
        digest = digest_get(signer_info.digest_algorithm).new(data).digest()
        if digest != signer_info.message_digest:
            raise SignatureError("content_mismatch", "messageDigest differs from the content digest")
        signed = signer_info.signed_attributes
    else:
        if content_type != OID_DATA:
            raise SignatureError("bad_signature", "no signed attributes for a content type other than data")
        digest_get(signer_info.digest_algorithm)  # an unsupported digest is reported as such
        signed = data
    valid = signature_is_valid(
        cert.key_algorithm,
        cert.spki,
        signer_info.signature_algorithm,
        signer_info.signature_parameters,
        signer_info.signature,
        signed,
        signer_info.digest_algorithm,
    )
    if not valid:
        raise SignatureError("bad_signature", f"signature does not verify with {cert.subject_text}")


def _signer(cert: Certificate, signing_time: datetime | None) -> Signer:
    identity = cert.identity
    return Signer(
        surname=identity.surname,
        given_names=identity.given_names,
        common_name=identity.common_name,
        drfo=identity.drfo,
        edrpou=identity.edrpou,
        organization=identity.organization,
        title=identity.title,
        is_stamp=identity.is_stamp,
        certificate_serial=f"{cert.serial:X}",
        certificate_issuer=cert.issuer_text,
        certificate_subject=cert.subject_text,
        certificate_sha256=cert.sha256,
        not_before=cert.not_before,
        not_after=cert.not_after,
        signing_time=signing_time,
    )
