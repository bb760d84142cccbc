"""The patient pages' forms: the exact search, and the patient's card (register a patient, change one).

`PatientForm` is the registry's `PersonForm` (names, RNOKPP, birth date, gender, two identity documents,
phones, email) grown into eHealth's `person` of a declaration request (declarations.payloads.person):
birth place, UNZR, the residence and registration addresses (the registry's address fields), the way
the patient confirms (an SMS code to a phone, or documents) and their secret word, an emergency contact,
and up to two confidant persons — the primary and the secondary one — for a child or a person who cannot
act alone, each with an identity document and the document of the relationship. The whole block is
checked by `PersonSerializer`, so every rule's refusal shows at its field (`StepForm`).

A change leaves the secret words empty: an empty one keeps the stored word (services.patients), so the
form never shows one.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ehealth_portal.validators import validate_rnokpp
from registry.forms.fields import (
    CodeField,
    NameField,
    PhoneField,
    compact,
    date_field,
    dictionary_field_choices,
    iso_date,
)
from registry.forms.people import DOCUMENT_PARTS, PersonForm
from registry.forms.registration_steps import (
    ADDRESS_PARTS,
    _address,
    _address_field_map,
    _address_values,
    _same_place,
    address_fields,
)

from ..payloads.person import (
    OFFLINE,
    OTP,
    ConfidantPersonSerializer,
    PersonSerializer,
    SecretField,
)
from ..selectors.patients import IDENTIFIER_REQUIRED

ADDRESS_REQUIRED_PARTS = ("area", "settlement_type", "settlement")
CONFIDANT_SLOTS = (("confidant1", "PRIMARY"), ("confidant2", "SECONDARY"))
CONFIDANT_NAMES = ("last_name", "first_name", "second_name", "birth_country", "birth_settlement", "gender")
PERSON_NAME_PARTS = ("last_name", "first_name", "second_name")
CONFIDANT_MEMBERS = (*CONFIDANT_NAMES, "birth_date", "tax_id", "secret", "email")
RELATIONSHIP_PARTS = ("type", "number", "issued_by", "issued_at")
WAYS_OF_CONTACT = [("", _("Not chosen")), ("phone", _("By phone")), ("email", _("By email"))]
SECRET_HELP = _(
    "6 to 20 letters or digits the patient says to be recognised, e.g. on the phone. It is kept encrypted."
)
SECRET_KEPT_HELP = _("Leave empty to keep the current secret word.")


class PatientSearchForm(forms.Form):
    """The register's exact search: names and birth date, and at least one identifier."""

    last_name = NameField(label=_("Surname"), max_length=100)
    first_name = NameField(label=_("First name"), max_length=100)
    birth_date = date_field(_("Date of birth"))
    tax_id = CodeField(
        label=_("RNOKPP"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    document_number = CodeField(
        label=_("Document number"),
        max_length=30,
        required=False,
        help_text=_("Of any identity document: a passport, an ID card, a birth certificate."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone_number = PhoneField(label=_("Phone"), required=False)

    IDENTIFIERS = ("tax_id", "document_number", "phone_number")
    template_name = "declarations/patients/search_form.html"

    def identity_fields(self):
        return [self[name] for name in ("last_name", "first_name", "birth_date")]

    def identifier_fields(self):
        return [self[name] for name in self.IDENTIFIERS]

    def clean(self):
        cleaned = super().clean()
        given = [name for name in self.IDENTIFIERS if cleaned.get(name) or name in self.errors]
        if not given:
            raise ValidationError(IDENTIFIER_REQUIRED, code="identifier_required")
        return cleaned

    def criteria(self) -> dict:
        """The search's arguments (selectors.patients.person_search) of a valid form."""
        data = self.cleaned_data
        return {
            "last_name": data["last_name"],
            "first_name": data["first_name"],
            "birth_date": data["birth_date"],
            **{name: data[name] for name in self.IDENTIFIERS if data.get(name)},
        }


class _ConfidantSecretKept(ConfidantPersonSerializer):
    secret = SecretField(required=False)


class _PersonSecretKept(PersonSerializer):
    """The person of a change: a secret word left empty is the stored one (checked by the service)."""

    secret = SecretField(required=False)
    confidant_person = _ConfidantSecretKept(many=True, required=False, max_length=2)


def _confidant_fields(prefix: str) -> dict[str, forms.Field]:
    """The fields of one confidant person, all optional: a slot left empty is no confidant person."""
    return {
        f"{prefix}_last_name": NameField(label=_("Surname"), max_length=100, required=False),
        f"{prefix}_first_name": NameField(label=_("First name"), max_length=100, required=False),
        f"{prefix}_second_name": NameField(label=_("Patronymic"), max_length=100, required=False),
        f"{prefix}_birth_date": date_field(_("Date of birth"), required=False),
        f"{prefix}_birth_country": NameField(label=_("Country of birth"), max_length=100, required=False),
        f"{prefix}_birth_settlement": NameField(label=_("Place of birth"), max_length=100, required=False),
        f"{prefix}_gender": forms.ChoiceField(
            label=_("Gender"), choices=dictionary_field_choices("GENDER"), required=False
        ),
        f"{prefix}_tax_id": CodeField(label=_("RNOKPP"), max_length=10, required=False),
        f"{prefix}_phone": PhoneField(label=_("Mobile phone"), required=False),
        f"{prefix}_email": forms.EmailField(label=_("Email"), required=False),
        f"{prefix}_secret": forms.CharField(
            label=_("Secret word"),
            max_length=20,
            required=False,
            help_text=SECRET_HELP,
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
        ),
        f"{prefix}_document_type": forms.ChoiceField(
            label=_("Identity document"), choices=dictionary_field_choices("DOCUMENT_TYPE"), required=False
        ),
        f"{prefix}_document_number": CodeField(label=_("Series and number"), max_length=30, required=False),
        f"{prefix}_document_issued_by": forms.CharField(label=_("Issued by"), max_length=255, required=False),
        f"{prefix}_document_issued_at": date_field(_("Date of issue"), required=False),
        f"{prefix}_relationship_type": forms.ChoiceField(
            label=_("Document of the relationship"),
            choices=dictionary_field_choices("DOCUMENT_RELATIONSHIP_TYPE"),
            required=False,
            help_text=_(
                "What makes them the patient's representative: a birth certificate, a court decision…"
            ),
        ),
        f"{prefix}_relationship_number": forms.CharField(
            label=_("Its number"), max_length=255, required=False
        ),
        f"{prefix}_relationship_issued_by": forms.CharField(
            label=_("Issued by"), max_length=255, required=False
        ),
        f"{prefix}_relationship_issued_at": date_field(_("Date of issue"), required=False),
    }


# The names of each slot's fields (the fields themselves are made per form).
CONFIDANT_FIELD_NAMES = {prefix: tuple(_confidant_fields(prefix)) for prefix, _relation in CONFIDANT_SLOTS}


class PatientForm(PersonForm):
    """A patient's card: eHealth's `person` (without the request-only consent and signature flags).

    `keep_secrets`: a change — the secret words may stay empty (the stored ones are kept).
    """

    person_key = "person"
    payload_keys = ("person",)
    person_serializer = PersonSerializer
    template_name = "declarations/patients/form_fields.html"

    no_tax_id = forms.BooleanField(
        label=_("Refused an RNOKPP (for religious reasons)"),
        required=False,
        help_text=_("The patient is then identified by their documents."),
    )
    tax_id = CodeField(
        label=_("RNOKPP (individual tax number)"),
        max_length=10,
        required=False,
        help_text=_("10 digits. Leave empty if the patient has none yet (a child)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    birth_country = NameField(label=_("Country of birth"), max_length=100, initial="Україна")
    birth_settlement = NameField(label=_("Place of birth"), max_length=100)
    unzr = CodeField(
        label=_("UNZR"),
        max_length=14,
        required=False,
        help_text=_("The record number in the demographic register, on an ID card: 19900412-01234."),
    )
    phone_mobile = PhoneField(label=_("Mobile phone"), required=False)
    email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    preferred_way_communication = forms.ChoiceField(
        label=_("Preferred way of contact"), choices=WAYS_OF_CONTACT, required=False
    )
    registration_same = forms.BooleanField(
        label=_("The registration address is the same as the actual one"), required=False, initial=True
    )
    authentication_method = forms.ChoiceField(
        label=_("How the patient confirms a declaration"),
        choices=dictionary_field_choices("AUTHENTICATION_METHOD", keys=lambda: [OTP, OFFLINE], blank=False),
        initial=OTP,
        help_text=_(
            "By a code in an SMS to their phone, or by documents: their scans are uploaded and the "
            "declaration is verified by an operator."
        ),
    )
    authentication_phone = PhoneField(label=_("Phone for SMS codes"), required=False)
    secret = forms.CharField(
        label=_("Secret word"),
        max_length=20,
        help_text=SECRET_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    emergency_last_name = NameField(label=_("Surname"), max_length=100)
    emergency_first_name = NameField(label=_("First name"), max_length=100)
    emergency_second_name = NameField(label=_("Patronymic"), max_length=100, required=False)
    emergency_phone_type = forms.ChoiceField(
        label=_("Phone type"), choices=dictionary_field_choices("PHONE_TYPE", blank=False)
    )
    emergency_phone = PhoneField(label=_("Phone"))

    required_unless = {"authentication_phone": ("authentication_method", (OFFLINE,))}

    def __init__(self, *args, keep_secrets: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.keep_secrets = keep_secrets
        for prefix in ("residence", "registration"):
            self.fields.update(address_fields(prefix))
        for part in ADDRESS_REQUIRED_PARTS:
            self.fields[f"residence_{part}"].required = True
        for prefix, _relation in CONFIDANT_SLOTS:
            self.fields.update(_confidant_fields(prefix))
        if keep_secrets:
            self.fields["secret"].required = False
            for name in ("secret", *(f"{prefix}_secret" for prefix, _relation in CONFIDANT_SLOTS)):
                self.fields[name].help_text = SECRET_KEPT_HELP
        # The registry's PersonForm speaks of staff: a patient's documents and phones are theirs.
        self.fields["document_type"].label = _("Identity document")
        self.fields["phone_mobile"].help_text = _("For example, +380501234567.")

    @property
    def groups(self):
        return [
            (_("Surname, first name and patronymic"), ["last_name", "first_name", "second_name"]),
            (
                _("Birth"),
                ["birth_date", "gender", "birth_country", "birth_settlement"],
                {"grid": True},
            ),
            (_("RNOKPP"), ["no_tax_id", "tax_id"], {"toggle": "no_tax_id"}),
            (
                _("Identity document"),
                [*(f"document_{part}" for part in DOCUMENT_PARTS), "unzr"],
                {"grid": True},
            ),
            (
                _("Another identity document (optional)"),
                [f"document2_{part}" for part in DOCUMENT_PARTS],
                {"grid": True},
            ),
            (_("Actual address"), [f"residence_{part}" for part in ADDRESS_PARTS], {"grid": True}),
            (
                _("Registration address"),
                ["registration_same", *(f"registration_{part}" for part in ADDRESS_PARTS)],
                {"grid": True, "toggle": "registration_same"},
            ),
            (
                _("Contacts"),
                ["phone_mobile", "phone_landline", "email", "preferred_way_communication"],
                {"grid": True},
            ),
            (_("Confirmation"), ["authentication_method", "authentication_phone", "secret"]),
            (
                _("Emergency contact"),
                [
                    "emergency_last_name",
                    "emergency_first_name",
                    "emergency_second_name",
                    "emergency_phone_type",
                    "emergency_phone",
                ],
                {"grid": True},
            ),
            *(
                (title, list(CONFIDANT_FIELD_NAMES[prefix]), {"grid": True, "collapsible": True})
                for title, (prefix, _relation) in zip(
                    (_("Primary confidant person"), _("Secondary confidant person")),
                    CONFIDANT_SLOTS,
                    strict=True,
                )
            ),
        ]

    def field_groups(self) -> list[dict]:
        groups = super().field_groups()
        for group, (_title, _names, *options) in zip(groups, self.groups, strict=True):
            group["collapsible"] = bool(options and options[0].get("collapsible"))
            # A section of an optional person opens when it holds something (typed, stored or wrong).
            group["open"] = any(field.value() not in (None, "") or field.errors for field in group["fields"])
        return groups

    # --- Validation -----------------------------------------------------------------------------------

    def full_clean(self):
        # The registration address is required (in its needed parts) unless "the same" is ticked.
        if self.is_bound:
            checkbox = self.fields["registration_same"].widget
            if not checkbox.value_from_datadict(self.data, self.files, self.add_prefix("registration_same")):
                for part in ADDRESS_REQUIRED_PARTS:
                    self.fields[f"registration_{part}"].required = True
        super().full_clean()

    def clean_tax_id(self):
        # An RNOKPP given is checked here (with the other fields' errors); none is a child's or a refusal.
        tax_id = self.cleaned_data["tax_id"]
        if tax_id and not self.cleaned_data.get("no_tax_id"):
            validate_rnokpp(tax_id)
        return tax_id

    def clean_secret(self):
        return self.cleaned_data["secret"].strip()

    def payload_checks(self):
        _key, _serializer, field_map = super().payload_checks()[0]
        field_map = {
            **field_map,
            **{name: name for name in ("birth_country", "birth_settlement", "unzr", "secret")},
            "preferred_way_communication": "preferred_way_communication",
            **_address_field_map("residence", "addresses[0]"),
            **_address_field_map(self._registration_prefix(), "addresses[1]"),
            "addresses": "residence_area",
            "authentication_methods": "authentication_method",
            "authentication_methods[0].type": "authentication_method",
            "authentication_methods[0].phone_number": "authentication_phone",
            "emergency_contact": "emergency_last_name",
            "emergency_contact.phones": "emergency_phone",
            **{f"emergency_contact.{name}": f"emergency_{name}" for name in PERSON_NAME_PARTS},
            "confidant_person": "confidant1_last_name",
        }
        for index, prefix in enumerate(self._confidant_prefixes()):
            path = f"confidant_person[{index}]"
            field_map |= {f"{path}.{name}": f"{prefix}_{name}" for name in CONFIDANT_MEMBERS}
            field_map |= {
                f"{path}": f"{prefix}_last_name",
                f"{path}.relation_type": f"{prefix}_last_name",
                f"{path}.phones": f"{prefix}_phone",
                f"{path}.documents_person": f"{prefix}_document_type",
                f"{path}.documents_relationship": f"{prefix}_relationship_type",
                **{
                    f"{path}.documents_person[0].{part}": f"{prefix}_document_{part}"
                    for part in DOCUMENT_PARTS
                },
                **{
                    f"{path}.documents_relationship[0].{part}": f"{prefix}_relationship_{part}"
                    for part in RELATIONSHIP_PARTS
                },
            }
        serializer = _PersonSecretKept if self.keep_secrets else PersonSerializer
        return [("person", serializer, field_map)]

    def _registration_prefix(self) -> str:
        # A registration address copied from the actual one reports its errors on the fields it came from.
        return "residence" if self.cleaned_data.get("registration_same") else "registration"

    def _confidant_prefixes(self) -> list[str]:
        """The slots filled in (or with a wrong value): the payload's confidant persons, in order."""
        cleaned = getattr(self, "cleaned_data", {})
        return [
            prefix
            for prefix, _relation in CONFIDANT_SLOTS
            if any(
                cleaned.get(name) not in (None, "") or name in self.errors
                for name in CONFIDANT_FIELD_NAMES[prefix]
            )
        ]

    # --- The payload ----------------------------------------------------------------------------------

    def payload_part(self) -> dict:
        data = self.cleaned_data
        person = super().payload_part()["person"]
        if data.get("no_tax_id"):
            person.pop("tax_id", None)  # hidden by the ticked box: not the patient's
        method = data.get("authentication_method")
        authentication = compact(
            {"type": method, "phone_number": data.get("authentication_phone") if method == OTP else None}
        )
        emergency = compact(
            {
                **{name: data.get(f"emergency_{name}") for name in PERSON_NAME_PARTS},
                "phones": [{"type": data.get("emergency_phone_type"), "number": data["emergency_phone"]}]
                if data.get("emergency_phone")
                else [],
            }
        )
        addresses = [_address(data, "residence", "RESIDENCE")]
        addresses.append(_address(data, self._registration_prefix(), "REGISTRATION"))
        person |= compact(
            {
                "birth_country": data.get("birth_country"),
                "birth_settlement": data.get("birth_settlement"),
                "unzr": data.get("unzr"),
                "preferred_way_communication": data.get("preferred_way_communication"),
                "secret": data.get("secret"),
                "addresses": addresses,
                "authentication_methods": [authentication] if authentication else [],
                "emergency_contact": emergency,
                "confidant_person": [
                    self._confidant(prefix, relation)
                    for prefix, relation in CONFIDANT_SLOTS
                    if prefix in self._confidant_prefixes()
                ],
            }
        )
        return {"person": person}

    def _confidant(self, prefix: str, relation: str) -> dict:
        data = self.cleaned_data

        def document(kind: str, parts: tuple[str, ...]) -> list[dict]:
            item = compact({part: data.get(f"{prefix}_{kind}_{part}") for part in parts})
            if "issued_at" in item:
                item["issued_at"] = iso_date(item["issued_at"])
            return [item] if item else []

        phone = data.get(f"{prefix}_phone")
        return compact(
            {
                "relation_type": relation,
                **{name: data.get(f"{prefix}_{name}") for name in (*CONFIDANT_NAMES, "tax_id", "email")},
                "birth_date": iso_date(data.get(f"{prefix}_birth_date")),
                "secret": (data.get(f"{prefix}_secret") or "").strip(),
                "phones": [{"type": "MOBILE", "number": phone}] if phone else [],
                "documents_person": document("document", DOCUMENT_PARTS),
                "documents_relationship": document("relationship", RELATIONSHIP_PARTS),
            }
        )

    def person_data(self) -> dict:
        """The person payload of a valid form, for services.patients."""
        return self.payload_part()["person"]

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        """The form's values of a person payload (a stored patient's, without the secret words)."""
        person = payload.get("person") or {}
        addresses = {address.get("type"): address for address in person.get("addresses", [])}
        residence, registration = addresses.get("RESIDENCE"), addresses.get("REGISTRATION")
        same = registration is None or _same_place(registration, residence)
        method = (person.get("authentication_methods") or [{}])[0]
        emergency = person.get("emergency_contact") or {}
        emergency_phone = (emergency.get("phones") or [{}])[0]
        values = {
            **super().values_from_payload(payload),
            **{name: person.get(name, "") for name in ("birth_country", "birth_settlement", "unzr")},
            "preferred_way_communication": person.get("preferred_way_communication", ""),
            **_address_values(residence, "residence"),
            "registration_same": same,
            **_address_values(None if same else registration, "registration"),
            "authentication_method": method.get("type", OTP),
            "authentication_phone": method.get("phone_number", ""),
            **{f"emergency_{name}": emergency.get(name, "") for name in PERSON_NAME_PARTS},
            "emergency_phone_type": emergency_phone.get("type", "MOBILE"),
            "emergency_phone": emergency_phone.get("number", ""),
        }
        confidants = {item.get("relation_type"): item for item in person.get("confidant_person", [])}
        for prefix, relation in CONFIDANT_SLOTS:
            values |= _confidant_values(prefix, confidants.get(relation))
        return values


def _confidant_values(prefix: str, item: dict | None) -> dict:
    item = item or {}
    person_document = (item.get("documents_person") or [{}])[0]
    relationship = (item.get("documents_relationship") or [{}])[0]
    phone = (item.get("phones") or [{}])[0]
    return {
        **{
            f"{prefix}_{name}": item.get(name, "")
            for name in (*CONFIDANT_NAMES, "birth_date", "tax_id", "email")
        },
        f"{prefix}_phone": phone.get("number", ""),
        **{f"{prefix}_document_{part}": person_document.get(part, "") for part in DOCUMENT_PARTS},
        **{f"{prefix}_relationship_{part}": relationship.get(part, "") for part in RELATIONSHIP_PARTS},
    }
