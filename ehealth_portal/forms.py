import base64
import binascii

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .signatures import SignatureError, verify_signature


def signature_upload_read(upload) -> bytes | None:
    """The bytes of an uploaded signature (or signed) file, refused above SIGNATURE_MAX_BYTES."""
    if upload and upload.size > settings.SIGNATURE_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(limit)s."),
            code="too_large",
            params={"limit": filesizeformat(settings.SIGNATURE_MAX_BYTES)},
        )
    return upload.read() if upload else None


class SignatureInputMixin:
    """The two ways a form takes a signature: a `signature` file upload, or `signature_base64`, the
    DER made in the browser (static/js/src/sign.js). The form declares both fields."""

    def clean_signature(self):
        return signature_upload_read(self.cleaned_data.get("signature"))

    def clean_signature_base64(self):
        value = "".join(self.cleaned_data.get("signature_base64", "").split())
        if not value:
            return None
        if len(value) > (settings.SIGNATURE_MAX_BYTES + 2) // 3 * 4:
            raise forms.ValidationError(
                _("The signature is larger than %(limit)s."),
                code="too_large",
                params={"limit": filesizeformat(settings.SIGNATURE_MAX_BYTES)},
            )
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(
                _("The signature made in the browser is damaged; sign again."), code="base64"
            ) from None


class SignatureCheckForm(forms.Form):
    """A signature file (.p7s), and the signed document when the signature is detached."""

    signature = forms.FileField(
        label=_("Signature file"),
        help_text=_(
            "A .p7s (CMS/PKCS#7) file in DER, PEM or base64, made with any qualified-signature tool."
        ),
    )
    content = forms.FileField(
        label=_("Signed document"),
        required=False,
        help_text=_("Only for a detached signature: the file that was signed."),
    )

    def clean_signature(self):
        return signature_upload_read(self.cleaned_data.get("signature"))

    def clean_content(self):
        return signature_upload_read(self.cleaned_data.get("content"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["document"] = verify_signature(cleaned["signature"], cleaned["content"])
        except SignatureError as error:
            self.add_error("signature", forms.ValidationError(error.message, code=error.code))
        return cleaned
