"""Facility registration, step 4: the head, who signs the application."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .. import payloads
from .fields import CodeField, dictionary_field_choices
from .people import PersonForm


class HeadForm(PersonForm):
    person_key = "owner"
    payload_keys = ("owner",)
    person_serializer = payloads.OwnerSerializer
    extra_names = ("position",)

    no_tax_id = forms.BooleanField(
        label=_("I refused an RNOKPP for religious reasons and give my passport number instead"),
        required=False,
    )
    tax_id = CodeField(
        label=_("RNOKPP (individual tax number)"),
        max_length=10,
        help_text=_(
            "10 digits; it must be the one in your qualified signature. If you refused an RNOKPP: the "
            "passport number — 9 digits of the ID card, or 2 Cyrillic letters and 6 digits."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Work email"),
        help_text=_("The invitation is sent here; it becomes your login to the portal."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    position = forms.ChoiceField(
        label=_("Position"),
        choices=dictionary_field_choices("POSITION", keys=lambda: list(settings.OWNER_POSITIONS)),
    )

    groups = [
        *PersonForm.groups[:-1],
        (_("Contacts and position"), ["phone_mobile", "phone_landline", "email", "position"]),
    ]

    def __init__(self, *args, sole_proprietor_code: str | None = None, **kwargs):
        # A sole proprietor's code (step 1) is the head's own RNOKPP: the two must be the same.
        self.sole_proprietor_code = sole_proprietor_code
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        tax_id = cleaned.get("tax_id")
        if (
            self.sole_proprietor_code
            and tax_id
            and tax_id != self.sole_proprietor_code
            and "tax_id" not in self.errors
        ):
            self.add_error(
                "tax_id",
                ValidationError(
                    _(
                        "A sole proprietor's code (%(code)s, step 1) is the head's own RNOKPP: "
                        "they must be the same."
                    )
                    % {"code": self.sole_proprietor_code},
                    code="sole_proprietor_code",
                ),
            )
        return cleaned


__all__ = ["HeadForm"]
