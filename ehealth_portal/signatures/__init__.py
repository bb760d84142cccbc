"""Qualified electronic signature verification (CMS/PKCS#7 SignedData).

    from ehealth_portal.signatures import SignatureError, verify_signature

    document = verify_signature(request_body, signers=1)
    document.content, document.signer.drfo, document.signer.edrpou

Every signed action in the portal goes through `verify_signature`; there is deliberately no way
to skip verification. Refusals are `SignatureError` with a stable `code` and a translated `message`.
"""

from .backends import verify_signature
from .documents import SignedDocument, Signer
from .errors import MESSAGES as ERROR_MESSAGES
from .errors import SignatureError

__all__ = ["ERROR_MESSAGES", "SignatureError", "SignedDocument", "Signer", "verify_signature"]
