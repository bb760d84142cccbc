"""The one exception signature verification raises, with a stable machine code per reason."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# code -> human message. Codes are part of the API (logged, stored, returned by the API): never rename.
MESSAGES: dict[str, Promise] = {
    "not_a_signature": _("The file is not an electronic signature."),
    "too_large": _("The signature file is too large."),
    "content_missing": _("The signature does not contain the signed document and no document was given."),
    "content_mismatch": _("The signed content does not match the signature."),
    "bad_signature": _("The signature is not valid."),
    "unsupported_algorithm": _("The signature uses an unsupported algorithm."),
    "signer_count": _("The document has an unexpected number of signatures."),
    "certificate_missing": _("The signer's certificate is not included in the signature."),
    "invalid_certificate": _("The signer's certificate or its issuer's certificate is not valid."),
    "unknown_ca": _("The signer's certificate was not issued by a trusted certification authority."),
    "certificate_expired": _("The signer's certificate has expired."),
    "certificate_not_yet_valid": _("The signer's certificate is not yet valid."),
    "certificate_revoked": _("The signer's certificate has been revoked."),
    "revocation_unknown": _("The revocation status of the signer's certificate cannot be checked right now."),
    "key_usage": _("The signer's certificate may not be used for electronic signatures."),
    "signing_time_invalid": _("The signing time of the signature is in the future."),
}


class SignatureError(Exception):
    """A signature was refused.

    `code` is stable and machine-readable (one of MESSAGES); `message` is for people (translated
    lazily); `detail` is technical English for logs and never shown to end users.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown signature error code {code!r}")
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def message(self) -> Promise:
        return MESSAGES[self.code]
