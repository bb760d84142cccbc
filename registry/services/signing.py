"""Signed documents of the registry's flows: the one way an envelope is checked against what was shown."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signatures import SignatureError, verify_signature

SIGNED_CONTENT_DIFFERS = _("The signed document is not the one shown: sign the document shown for review.")
SIGNER_DRFO_MISSING = _("The signer's certificate has no RNOKPP.")


def signed_document_verify(*, envelope: bytes, expected: bytes | None, field: str, differs_message=None):
    """The verified document of an envelope: attached, or detached over `expected`.

    With `expected`, the signed content must be exactly that document. Problems are a
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
    if expected is not None and document.content != expected:
        raise differs
    return document


def signer_is(*, document, tax_id: str, field: str, message) -> None:
    """The envelope was signed by the person with this RNOKPP (the certificate's DRFO), else ValidationError."""
    drfo = (document.signer.drfo or "").strip().upper()
    if not drfo:
        raise ValidationError({field: [ValidationError(SIGNER_DRFO_MISSING, code="signer_drfo_missing")]})
    if drfo != tax_id.strip().upper():
        raise ValidationError({field: [ValidationError(message, code="signer_not_expected")]})
