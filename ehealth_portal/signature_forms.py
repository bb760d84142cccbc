"""The signature of a signed page: a `.p7s` uploaded, or one made in the browser — exactly one of them.

`SignedDocumentForm` is the base of every form that takes a qualified signature of a document shown on
the page: the head granting HR access, the registration's review, the CNAP joining application. The
browser's signature comes from static/js/registration-sign.js as base64 DER.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import SignatureInputMixin


def signature_file_field(help_text) -> forms.FileField:
    """The `.p7s` upload; not required by itself (signing in the browser is the other way). The help
    text says what was to be signed, and by whom."""
    return forms.FileField(label=_("Signature file (.p7s)"), required=False, help_text=help_text)


class SignedDocumentForm(SignatureInputMixin, forms.Form):
    """`signature` (a file) or `signature_base64` (signed in the browser): one is required, not both.

    The envelope's bytes end up in `cleaned_data[signed_key]`. A subclass may declare `signature` again
    (`signature_file_field` with its own help text) and set `signature_missing_message` (what is to be
    signed: a document, a text).
    """

    signed_key = "signed_envelope"
    signature_missing_message = _(
        "Sign the document: upload a signature file, or sign with your key file below."
    )

    signature = signature_file_field(
        _(
            "The document above signed with your qualified signature by any tool: an attached or a "
            "detached signature, in DER, PEM or base64."
        )
    )
    # Labelled for the error summary (a damaged signature made in the browser).
    signature_base64 = forms.CharField(label=_("Signature"), required=False, widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if "signature" in self.errors or "signature_base64" in self.errors:
            return cleaned
        uploaded, signed_here = cleaned.get("signature"), cleaned.get("signature_base64")
        if uploaded and signed_here:
            self.add_error(
                "signature", _("Give one signature: upload a file or sign in the browser, not both.")
            )
        elif not uploaded and not signed_here:
            self.add_error("signature", self.signature_missing_message)
        else:
            cleaned[self.signed_key] = uploaded or signed_here
        return cleaned
