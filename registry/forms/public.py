"""Forms of the public pages: the facility search and accepting an invitation."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..addresses import AREAS


class FacilitySearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or EDRPOU"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    area = forms.ChoiceField(label=_("Region"), required=False, choices=[("", _("All regions")), *AREAS])
    settlement = forms.CharField(label=_("Settlement"), required=False, max_length=100)


class InvitationAcceptForm(forms.Form):
    """A new password, twice, checked by the portal's password validators against the login email and
    the invitee's names (as the service checks it, so both say the same)."""

    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, first_name: str = "", last_name: str = "", **kwargs):
        self.email = email
        self.names = {"first_name": first_name, "last_name": last_name}
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validators_help_text_html()

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first, user=get_user_model()(email=self.email, **self.names))
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
