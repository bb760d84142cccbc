"""What a successful verification returns."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Signer:
    """The person (or stamp) that signed, as named by a verified certificate."""

    surname: str | None
    given_names: str | None  # Ukrainian certificates: given name and patronymic
    common_name: str | None
    drfo: str | None  # РНОКПП (DRFO), or a passport number for people who refused one
    edrpou: str | None  # ЄДРПОУ of the organisation, for employees' and stamps' certificates
    organization: str | None
    title: str | None
    is_stamp: bool
    certificate_serial: str  # upper-case hex
    certificate_issuer: str
    certificate_subject: str
    certificate_sha256: str
    not_before: datetime
    not_after: datetime
    signing_time: datetime | None  # the signer's claim (signingTime attribute), not a time-stamp

    @property
    def rnokpp(self) -> str | None:
        return self.drfo

    def as_dict(self) -> dict[str, object]:
        return {
            "surname": self.surname,
            "given_names": self.given_names,
            "common_name": self.common_name,
            "drfo": self.drfo,
            "edrpou": self.edrpou,
            "organization": self.organization,
            "title": self.title,
            "is_stamp": self.is_stamp,
            "signing_time": _iso(self.signing_time),
            "certificate": {
                "serial": self.certificate_serial,
                "issuer": self.certificate_issuer,
                "subject": self.certificate_subject,
                "sha256": self.certificate_sha256,
                "not_before": _iso(self.not_before),
                "not_after": _iso(self.not_after),
            },
        }


@dataclass(frozen=True)
class SignedDocument:
    """Verified content and its signers (exactly as many as the caller asked for)."""

    content: bytes
    signers: tuple[Signer, ...]
    content_type: str  # eContentType OID; 1.2.840.113549.1.7.1 (id-data) for plain documents
    detached: bool

    @property
    def signer(self) -> Signer:
        return self.signers[0]

    @cached_property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def as_dict(self) -> dict[str, object]:
        return {
            "content_sha256": self.content_sha256,
            "content_length": len(self.content),
            "content_type": self.content_type,
            "detached": self.detached,
            "signers": [signer.as_dict() for signer in self.signers],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
