"""Forms of the monitoring app: a CNAP's joining application (public) and the operators' admin forms."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ehealth_portal.signature_forms import SignedDocumentForm, signature_file_field
from ehealth_portal.validators import validate_edrpou

from .models import Cnap, CnapSystem, JoiningApplication
from .pulling import pull_window_errors
from .services import endpoint_url_validate


class CnapChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} — {obj.name}"


# --- Joining (public) ------------------------------------------------------------------------------


class JoinDetailsForm(forms.Form):
    """Step 1: who applies and where the portal will pull the appeals from."""

    cnap = CnapChoiceField(
        label=_("CNAP"),
        queryset=Cnap.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        empty_label=_("Choose the CNAP"),
        help_text=_("An active CNAP of the CNAP registry, by its code and name."),
        error_messages={
            "required": _("Choose the CNAP."),
            "invalid_choice": _("Choose an active CNAP from the list."),
        },
    )
    organisation_edrpou = forms.CharField(
        label=_("EDRPOU of the body that runs the CNAP"),
        max_length=8,
        validators=[validate_edrpou],
        help_text=_("8 digits. The application is signed by an official of this body."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    contact_email = forms.EmailField(
        label=_("Contact email"),
        help_text=_("We send the receipt and the decision here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    proposed_base_url = forms.CharField(
        label=_("Address of the appeals endpoint"),
        max_length=500,
        validators=[endpoint_url_validate],
        help_text=_("The base URL the portal pulls appeals from, e.g. https://cnap.example.gov.ua/appeals/"),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "url"}),
    )

    def clean_organisation_edrpou(self):
        return self.cleaned_data["organisation_edrpou"].strip()

    def clean_proposed_base_url(self):
        return self.cleaned_data["proposed_base_url"].strip()


class JoinSignForm(SignedDocumentForm):
    """Step 2: the signature of the shown text, uploaded (.p7s) or made in the browser (base64 DER)."""

    signed_key = "signed"
    signature_missing_message = _("Sign the text: upload a signature file, or sign with your key file below.")
    signature = signature_file_field(
        _(
            "The application text above signed with the official's qualified signature by any tool: "
            "an attached or a detached signature, in DER, PEM or base64."
        )
    )


# --- Admin -----------------------------------------------------------------------------------------


def _formfield_https(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # an address typed without a scheme is meant encrypted
    return model_field.formfield(**kwargs)


class CnapSystemAdminForm(forms.ModelForm):
    """A system's connection data; the password is write-only (never rendered back)."""

    password = forms.CharField(
        label=_("Basic Auth password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown. On change: leave empty to keep the stored one."),
    )

    class Meta:
        model = CnapSystem
        fields = ["cnap", "application", "name", "base_url", "login", "is_active"]
        formfield_callback = _formfield_https

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "application" in self.fields:
            # Offered: applications that can still be connected, of the CNAP given in the link from
            # the application; clean() checks the CNAP of whatever is posted.
            applications = JoiningApplication.objects.exclude(
                status=JoiningApplication.Status.REJECTED
            ).select_related("cnap")
            if not self.is_bound and self.initial.get("cnap"):
                applications = applications.filter(cnap_id=self.initial["cnap"])
            self.fields["application"].queryset = applications
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("Stored encrypted and never shown.")
        if "base_url" in self.fields:
            self.fields["base_url"].validators.append(endpoint_url_validate)

    def clean_login(self):
        login = self.cleaned_data["login"]
        if ":" in login:
            raise ValidationError(_("Enter the Basic Auth login (without a colon)."), code="invalid_login")
        return login

    def clean(self):
        cleaned = super().clean()
        cnap, application = cleaned.get("cnap"), cleaned.get("application")
        if cnap and application and application.cnap_id != cnap.pk:
            self.add_error("application", _("This application is from another CNAP."))
        return cleaned


class JoiningRejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("The CNAP receives it by email."),
        error_messages={"required": _("Write the reason: the CNAP receives it.")},
    )


class PullPeriodForm(forms.Form):
    """The period an operator asks to pull again (both days inclusive)."""

    window_start = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    window_end = forms.DateField(
        label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end:
            for error in pull_window_errors(start, end):  # the rules pull_run_request applies
                self.add_error("window_end", error)
        return cleaned
