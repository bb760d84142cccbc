from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .signatures import SignatureError, verify_signature


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

    def _clean_upload(self, name: str) -> bytes | None:
        upload = self.cleaned_data.get(name)
        if upload and upload.size > settings.SIGNATURE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s."),
                code="too_large",
                params={"limit": filesizeformat(settings.SIGNATURE_MAX_BYTES)},
            )
        return upload.read() if upload else None

    def clean_signature(self):
        return self._clean_upload("signature")

    def clean_content(self):
        return self._clean_upload("content")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["document"] = verify_signature(cleaned["signature"], cleaned["content"])
        except SignatureError as error:
            self.add_error("signature", forms.ValidationError(error.message, code=error.code))
        return cleaned
