"""Signed documents of the registry's flows: the one way an envelope is checked against what was shown."""

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signatures import SignatureError, verify_signature

from ..payloads import payload_canonical

SIGNED_CONTENT_DIFFERS = _("The signed document is not the one shown: sign the document shown for review.")
SIGNER_DRFO_MISSING = _("The signer's certificate has no RNOKPP.")


def signed_document_verify(
    *, envelope: bytes, expected: bytes | None, field: str, differs_message=None, same=bytes.__eq__
):
    """The verified document of an envelope: attached, or detached over `expected`.

    With `expected`, the signed content must be that document: the same bytes, or what `same(content,
    expected)` accepts for attached content (e.g. `same_json`: the JSON in any formatting). Problems are a
    ValidationError at `field` with the signature module's code ("content_mismatch" → signed_content_differs).
    """
    differs = ValidationError(
        {field: [ValidationError(differs_message or SIGNED_CONTENT_DIFFERS, code="signed_content_differs")]}
    )
    try:
        try:
            document = verify_signature(envelope)
        except SignatureError as error:
            if error.code != "content_missing" or expected is None:
                raise
            document = verify_signature(envelope, expected)  # a detached signature of the document?
    except SignatureError as error:
        if error.code == "content_mismatch" and expected is not None:
            raise differs from error
        raise ValidationError({field: [ValidationError(error.message, code=error.code)]}) from error
    if expected is not None and not same(document.content, expected):
        raise differs
    return document


def same_json(content: bytes, canonical: bytes) -> bool:
    """Is `content` the canonical JSON document `canonical`, in any formatting (a MIS serializes its own)?

    Strict: the same members and values of the same JSON types (1 is not true, 1.0 is not 1), and no
    member named twice (a reader could see the other value).
    """
    if content == canonical:
        return True
    try:
        parsed = json.loads(content, object_pairs_hook=_members_once)
    except (ValueError, RecursionError):
        return False
    return payload_canonical(parsed) == canonical


def _members_once(pairs: list) -> dict:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("a member is named twice")
    return members


def signer_is(*, document, tax_id: str, field: str, message) -> None:
    """The envelope was signed by the person with this RNOKPP (the certificate's DRFO), else ValidationError."""
    drfo = (document.signer.drfo or "").strip().upper()
    if not drfo:
        raise ValidationError({field: [ValidationError(SIGNER_DRFO_MISSING, code="signer_drfo_missing")]})
    if drfo != tax_id.strip().upper():
        raise ValidationError({field: [ValidationError(message, code="signer_not_expected")]})
