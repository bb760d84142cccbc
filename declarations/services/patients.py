"""Writes of the patient register (eHealth's MPI persons): register a patient, change their data, and
the `person` block of a declaration request made from a registered patient.

The data is eHealth 2019's `person` (declarations.payloads.person) without `patient_signed` and
`process_disclosure_data_consent`, validated by `person_payload_validate`; refusals are a ValidationError
keyed by its JSON paths ("tax_id", "documents[0].number") and store nothing.

Secrets: the patient's secret word is kept encrypted (`Person.secret`), and so is each confidant
person's (`secret_encrypted` in the stored item instead of `secret`). A change may leave a secret out:
the stored one is kept (the person's, and a confidant's of the same relation type), so a form never
needs to show one to change the rest.

One person once: a new patient (or a change) whose RNOKPP is another active patient's, or whose names,
birth date and a document number are, is refused with code "person_exists". Creations and changes of
the same identity are serialised (a PostgreSQL advisory lock), so two clicks register one patient.
"""

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from ehealth_portal import encryption
from ehealth_portal.history import acting_as

from ..models import Person
from ..payloads.person import OFFLINE, person_payload_validate

# The members a declaration request's person has that a registered patient does not keep.
_REQUEST_ONLY = ("patient_signed", "process_disclosure_data_consent")
PERSON_EXISTS = _("This patient is already registered: find them with the search and open their page.")


def person_create(*, actor, data: dict) -> Person:
    """Register a patient from a person payload; ValidationError (nothing stored) when it is invalid or
    the patient is registered already ("person_exists" at "tax_id" or at the matching document)."""
    data = _validated(data)
    with transaction.atomic(), acting_as(actor):
        _identity_lock(data)
        _refuse_duplicate(data, exclude_pk=None)
        person = Person(created_by=actor)
        _apply(person, data)
        person.save()
    return person


def person_update(*, person: Person, actor, data: dict, legal_entity=None) -> Person:
    """Replace a patient's data with a person payload. A secret left out (the patient's, a confidant's)
    keeps the stored one; the result may not be another registered patient ("person_exists").

    Changed by a facility's staff (`legal_entity`), how the patient confirms may not change while they
    have a current declaration with another facility only ("authentication_method_locked"); signing a
    declaration the patient confirmed updates the card without that check.
    """
    with transaction.atomic(), acting_as(actor):
        person = Person.objects.select_for_update().get(pk=person.pk)
        if not person.is_active:
            raise ValidationError(
                _("The patient's record is closed: it cannot be changed."), code="person_inactive"
            )
        data = _validated(_secrets_kept(person, data))
        if legal_entity is not None:
            _confirmation_kept(person, data, legal_entity)
        _identity_lock(data)
        _refuse_duplicate(data, exclude_pk=person.pk)
        _apply(person, data)
        person.save()
    return person


def _confirmation_kept(person: Person, data: dict, legal_entity) -> None:
    from ..selectors.patients import person_declared_elsewhere

    if _authentication_method(person) == data["authentication_methods"][0]:
        return
    if person_declared_elsewhere(person=person, legal_entity=legal_entity):
        raise ValidationError(
            {
                "authentication_methods[0].phone_number": [
                    ValidationError(
                        _(
                            "The patient has a declaration with another facility: only that facility "
                            "changes how the patient confirms."
                        ),
                        code="authentication_method_locked",
                    )
                ]
            }
        )


def person_payload(person: Person) -> dict:
    """The patient as the `person` block of a new declaration request (secrets decrypted): the patient
    has consented to the processing of their data and has not signed the form yet."""
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "second_name": person.second_name,
        "birth_date": person.birth_date.isoformat(),
        "birth_country": person.birth_country,
        "birth_settlement": person.birth_settlement,
        "gender": person.gender,
        "tax_id": person.tax_id,
        "no_tax_id": person.no_tax_id,
        "unzr": person.unzr,
        "email": person.email,
        "secret": person.secret,
        "documents": person.documents,
        "addresses": person.addresses,
        "phones": person.phones,
        "authentication_methods": [_authentication_method(person)],
        "emergency_contact": person.emergency_contact,
        "confidant_person": [_confidant_readable(item) for item in person.confidant_person],
        "preferred_way_communication": person.preferred_way_communication,
    }
    data = {key: value for key, value in data.items() if value not in ("", [], None)}
    return {
        **data,
        "no_tax_id": person.no_tax_id,
        "patient_signed": False,
        "process_disclosure_data_consent": True,
    }


def person_confidant_secrets(person: Person) -> dict[str, str]:
    """The confidant persons' secret words by relation type (for the patient's page, when it shows them)."""
    return {
        item["relation_type"]: _confidant_readable(item).get("secret", "") for item in person.confidant_person
    }


# --- Helpers ------------------------------------------------------------------------------------------


def _validated(data) -> dict:
    data = person_payload_validate(data)
    for name in _REQUEST_ONLY:
        data.pop(name, None)
    return data


def _authentication_method(person: Person) -> dict:
    # A patient whose method was reset (NA) confirms by documents until they choose again.
    if person.authentication_method == Person.AuthenticationMethod.OTP:
        return {"type": "OTP", "phone_number": person.authentication_phone}
    return {"type": OFFLINE}


def _confidant_readable(item: dict) -> dict:
    item = dict(item)
    token = item.pop("secret_encrypted", None)
    if token:
        item["secret"] = encryption.decrypt(token)
    return item


def _secrets_kept(person: Person, data):
    """`data` with the stored secrets put where it left them out (a dict only: the rest is refused later)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if not data.get("secret"):
        data["secret"] = person.secret
    stored = person_confidant_secrets(person)
    confidants = data.get("confidant_person")
    if isinstance(confidants, list):
        data["confidant_person"] = [
            {**item, "secret": stored[item.get("relation_type")]}
            if isinstance(item, dict) and not item.get("secret") and stored.get(item.get("relation_type"))
            else item
            for item in confidants
        ]
    return data


def _apply(person: Person, data: dict) -> None:
    method = data["authentication_methods"][0]  # eHealth uses the first method given
    person.last_name = data["last_name"]
    person.first_name = data["first_name"]
    person.second_name = data.get("second_name", "")
    person.birth_date = datetime.date.fromisoformat(data["birth_date"])
    person.birth_country = data["birth_country"]
    person.birth_settlement = data["birth_settlement"]
    person.gender = data["gender"]
    person.tax_id = data.get("tax_id", "")
    person.no_tax_id = data["no_tax_id"]
    person.unzr = data.get("unzr", "")
    person.email = data.get("email", "")
    person.preferred_way_communication = data.get("preferred_way_communication", "")
    person.documents = data["documents"]
    person.addresses = data["addresses"]
    person.phones = data.get("phones", [])
    person.emergency_contact = data["emergency_contact"]
    person.confidant_person = _confidants_stored(person, data.get("confidant_person", []))
    person.authentication_method = method["type"]
    person.authentication_phone = method.get("phone_number", "")
    if not person.secret_encrypted or person.secret != data["secret"]:
        person.secret = data["secret"]


def _confidants_stored(person: Person, confidants: list[dict]) -> list[dict]:
    """The confidant persons with their secrets encrypted; an unchanged secret keeps its stored token, so
    saving the same data records no change of the confidant persons."""
    tokens = {item["relation_type"]: item.get("secret_encrypted") for item in person.confidant_person}
    stored = person_confidant_secrets(person)
    result = []
    for item in confidants:
        item = dict(item)
        secret = item.pop("secret")
        same = stored.get(item["relation_type"]) == secret and tokens.get(item["relation_type"])
        item["secret_encrypted"] = tokens[item["relation_type"]] if same else encryption.encrypt(secret)
        result.append(item)
    return result


def _document_key(number: str) -> str:
    """A document number as compared: without spaces, in capitals (typed with or without them)."""
    return "".join(number.split()).upper()


def _identity_keys(data: dict) -> list[str]:
    keys = [f"name:{data['last_name'].upper()}|{data['first_name'].upper()}|{data['birth_date']}"]
    if data.get("tax_id"):
        keys.append(f"tax_id:{data['tax_id']}")
    return sorted(keys)  # always in the same order: two writers never wait for each other in a circle


def _identity_lock(data: dict) -> None:
    """Serialise, until the transaction ends, the writes of one identity (PostgreSQL advisory locks).

    SQLite needs none: it runs one write transaction at a time.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in _identity_keys(data):
            digest = hashlib.sha256(f"declarations.person:{key}".encode()).digest()[:8]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big") - 2**63])


def _refuse_duplicate(data: dict, *, exclude_pk) -> None:
    others = Person.objects.filter(is_active=True).exclude(pk=exclude_pk)
    if data.get("tax_id") and others.filter(tax_id=data["tax_id"]).exists():
        raise ValidationError({"tax_id": [ValidationError(PERSON_EXISTS, code="person_exists")]})
    numbers = {_document_key(document["number"]): index for index, document in enumerate(data["documents"])}
    namesakes = others.filter(
        last_name__iexact=data["last_name"],
        first_name__iexact=data["first_name"],
        birth_date=data["birth_date"],
    ).only("documents")
    for namesake in namesakes:
        for document in namesake.documents:
            index = numbers.get(_document_key(document.get("number", "")))
            if index is not None:
                path = f"documents[{index}].number"
                raise ValidationError({path: [ValidationError(PERSON_EXISTS, code="person_exists")]})
