"""A person's identity, documents and contacts: the registration's head step and the staff forms.

`PersonForm` builds eHealth's person block (`party`, or the facility's `owner`) and checks it with
`payloads.PartySerializer` (the head's form: `OwnerSerializer`), so a rule lives in one place.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from ehealth_portal.validators import validate_tax_id

from .. import payloads
from .fields import CodeField, NameField, PhoneField, compact, date_field, dictionary_field_choices, iso_date
from .registration_steps import phones_part
from .steps import StepForm

DOCUMENT_PARTS = ("type", "number", "issued_by", "issued_at")
PERSON_NAMES = ("last_name", "first_name", "second_name", "tax_id", "birth_date", "gender", "email")


class PersonForm(StepForm):
    """The person block `person_key` of a payload ("party" by default), checked by `person_serializer`."""

    person_key = "party"
    payload_keys = ("party",)  # (person_key,)
    person_serializer = payloads.PartySerializer
    # Fields of the block beyond the person's own (the head's position): name → payload member.
    extra_names: tuple[str, ...] = ()

    last_name = NameField(label=_("Surname"), max_length=100)
    first_name = NameField(label=_("First name"), max_length=100)
    second_name = NameField(label=_("Patronymic"), max_length=100, required=False)
    no_tax_id = forms.BooleanField(
        label=_("Refused an RNOKPP for religious reasons: the passport number is given instead"),
        required=False,
    )
    tax_id = CodeField(
        label=_("RNOKPP (individual tax number)"),
        max_length=10,
        help_text=_(
            "10 digits; it must be the one in the person's qualified signature. If they refused an RNOKPP: "
            "the passport number — 9 digits of the ID card, or 2 Cyrillic letters and 6 digits."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birth_date = date_field(_("Date of birth"))
    gender = forms.ChoiceField(
        label=_("Gender"), choices=dictionary_field_choices("GENDER", blank=False), widget=forms.RadioSelect
    )
    document_type = forms.ChoiceField(label=_("Document"), choices=dictionary_field_choices("DOCUMENT_TYPE"))
    document_number = CodeField(label=_("Series and number"), max_length=30)
    document_issued_by = forms.CharField(label=_("Issued by"), max_length=255)
    document_issued_at = date_field(_("Date of issue"))
    document2_type = forms.ChoiceField(
        label=_("Document"), choices=dictionary_field_choices("DOCUMENT_TYPE"), required=False
    )
    document2_number = CodeField(label=_("Series and number"), max_length=30, required=False)
    document2_issued_by = forms.CharField(label=_("Issued by"), max_length=255, required=False)
    document2_issued_at = date_field(_("Date of issue"), required=False)
    phone_mobile = PhoneField(label=_("Mobile phone"), help_text=_("For example, +380501234567."))
    phone_landline = PhoneField(label=_("Landline phone"), required=False)
    email = forms.EmailField(
        label=_("Work email"),
        help_text=_("The invitation is sent here; it becomes the person's login to the portal."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    groups = [
        (_("Surname, first name and patronymic"), ["last_name", "first_name", "second_name"]),
        (_("Identification"), ["no_tax_id", "tax_id", "birth_date", "gender"]),
        (_("Identity document"), [f"document_{part}" for part in DOCUMENT_PARTS], {"grid": True}),
        (
            _("Another identity document (optional)"),
            [f"document2_{part}" for part in DOCUMENT_PARTS],
            {"grid": True},
        ),
        (_("Contacts"), ["phone_mobile", "phone_landline", "email"]),
    ]

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean_tax_id(self):
        # Checked here, not only by the payload rules (which check it after every other member of
        # the person passed), so a wrong check digit shows together with the step's other errors.
        tax_id = self.cleaned_data["tax_id"]
        validate_tax_id(tax_id, no_tax_id=bool(self.cleaned_data.get("no_tax_id")))
        return tax_id

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("document2_type") or cleaned.get("document2_number"):
            for name in ("document2_type", "document2_number"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("Fill in the type and the number of the second document."))
        return cleaned

    def payload_checks(self):
        field_map = {name: name for name in (*PERSON_NAMES, "no_tax_id", *self.extra_names)}
        field_map |= {f"documents[0].{part}": f"document_{part}" for part in DOCUMENT_PARTS}
        field_map |= {f"documents[1].{part}": f"document2_{part}" for part in DOCUMENT_PARTS}
        field_map |= {
            "documents[1]": "document2_type",
            "documents": "document_type",
            "phones": "phone_mobile",
        }
        return [(self.person_key, self.person_serializer, field_map)]

    def payload_part(self) -> dict:
        data = self.cleaned_data
        documents = [
            compact({part: data.get(f"{prefix}_{part}") for part in DOCUMENT_PARTS})
            for prefix in ("document", "document2")
            if data.get(f"{prefix}_type")
        ]
        for document in documents:
            if "issued_at" in document:
                document["issued_at"] = iso_date(document["issued_at"])
        person = {
            **{name: data.get(name) for name in PERSON_NAMES if name != "birth_date"},
            **{name: data.get(name) for name in self.extra_names},
            "birth_date": iso_date(data.get("birth_date")),
            "documents": documents,
            "phones": phones_part(data.get("phone_mobile"), data.get("phone_landline")),
        }
        return {self.person_key: {**compact(person), "no_tax_id": bool(data.get("no_tax_id"))}}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        person = payload.get(cls.person_key) or {}
        documents = [*person.get("documents", []), {}, {}]
        phones = {phone["type"]: phone["number"] for phone in person.get("phones", [])}
        return {
            **{name: person.get(name, "") for name in (*PERSON_NAMES, *cls.extra_names)},
            "no_tax_id": bool(person.get("no_tax_id")),
            **{f"document_{part}": documents[0].get(part, "") for part in DOCUMENT_PARTS},
            **{f"document2_{part}": documents[1].get(part, "") for part in DOCUMENT_PARTS},
            "phone_mobile": phones.get("MOBILE", ""),
            "phone_landline": phones.get("LAND_LINE", ""),
        }
