"""Reads of the patient register: the exact search, one patient, and who may see their secret word.

The register is never browsed: a search needs the surname, first name and birth date (compared whole,
in any letter case) and at least one identifier — the RNOKPP, a document number or a phone — and every
identifier given must match. It finds at most `PERSON_SEARCH_LIMIT` patients; more is refused
("too_many_results", eHealth's 403), as a search that cannot tell patients apart is not exact.

The secret word: shown only on the patient's page, to a facility the patient has chosen or is choosing
(`person_secret_visible`); never in a search result or the API.
"""

import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from registry.models import LegalEntity

from ..models import Declaration, DeclarationRequest, Person

PERSON_SEARCH_LIMIT = 5
IDENTIFIER_REQUIRED = _(
    "Give the patient's RNOKPP, a document number or a phone number as well: "
    "the register is searched only for an exact match."
)
TOO_MANY_RESULTS = _(
    "More than %(limit)s patients match: give another identifier (the RNOKPP or a document number)."
)


def person_search(
    *,
    first_name: str,
    last_name: str,
    birth_date: datetime.date | str,
    tax_id: str | None = None,
    document_number: str | None = None,
    phone_number: str | None = None,
    document_type: str | None = None,
    second_name: str | None = None,
) -> list[Person]:
    """The active patients with these names and birth date whose every given identifier matches:
    `tax_id` the RNOKPP; `document_number` any identity document's number (spaces and letter case aside;
    of `document_type` only, when given); `phone_number` any phone or the phone for SMS codes.

    ValidationError: no identifier (code "identifier_required"), more than PERSON_SEARCH_LIMIT matches
    ("too_many_results").
    """
    if not (tax_id or document_number or phone_number):
        raise ValidationError(
            {NON_FIELD_ERRORS: [ValidationError(IDENTIFIER_REQUIRED, code="identifier_required")]}
        )
    people = Person.objects.filter(
        is_active=True,
        last_name__iexact=last_name.strip(),
        first_name__iexact=first_name.strip(),
        birth_date=birth_date,
    )
    if second_name:
        people = people.filter(second_name__iexact=second_name.strip())
    if tax_id:
        people = people.filter(tax_id=tax_id.strip())
    # Namesakes born the same day are few: the identifiers kept in JSON are compared here.
    found = [
        person
        for person in people.order_by("created_at", "pk").iterator()
        if (not document_number or _has_document(person, document_number, document_type))
        and (not phone_number or _has_phone(person, phone_number))
    ]
    if len(found) > PERSON_SEARCH_LIMIT:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    ValidationError(
                        TOO_MANY_RESULTS, code="too_many_results", params={"limit": PERSON_SEARCH_LIMIT}
                    )
                ]
            }
        )
    return found


def person_get(person_id) -> Person:
    """An active patient; 404 for an unknown or closed record."""
    try:
        return Person.objects.get(pk=person_id, is_active=True)
    except (Person.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def person_secret_visible(*, person: Person, legal_entity: LegalEntity) -> bool:
    """May the facility's staff read the patient's secret word? Only a facility the patient has chosen
    (a current declaration) or is choosing (a request waiting for confirmation or signature): the word
    is how that facility recognises the patient, e.g. on the phone. Two indexed existence checks."""
    return (
        Declaration.objects.filter(
            person=person, legal_entity=legal_entity, status__in=Declaration.CURRENT
        ).exists()
        or DeclarationRequest.objects.filter(
            person=person, legal_entity=legal_entity, status__in=DeclarationRequest.PENDING
        ).exists()
    )


def person_declared_elsewhere(*, person: Person, legal_entity: LegalEntity) -> bool:
    """Has the patient a current declaration with another facility and none with this one? Then how
    they confirm (the phone their codes go to) is that facility's to change (eHealth changes it only at
    the facility of the active declaration, §4.1 reset_authentication_method): another facility holding
    the phone could confirm a declaration that ends the patient's own."""
    current = Declaration.objects.filter(person=person, status__in=Declaration.CURRENT)
    return (
        current.exclude(legal_entity=legal_entity).exists()
        and not current.filter(legal_entity=legal_entity).exists()
    )


def person_changeable(*, person: Person, legal_entity: LegalEntity) -> bool:
    """May the facility's staff change the patient's card? A patient who has chosen or is choosing a
    facility (a current declaration, a request waiting) is that facility's to change — where they are
    choosing, not how they confirm (`person_declared_elsewhere`); a patient of nobody's, any facility's."""
    return person_secret_visible(person=person, legal_entity=legal_entity) or not (
        Declaration.objects.filter(person=person, status__in=Declaration.CURRENT).exists()
        or DeclarationRequest.objects.filter(person=person, status__in=DeclarationRequest.PENDING).exists()
    )


def _normalised(value: str) -> str:
    return "".join(value.split()).upper()


def _has_document(person: Person, number: str, document_type: str | None) -> bool:
    wanted = _normalised(number)
    return any(
        _normalised(document.get("number", "")) == wanted
        and (document_type is None or document.get("type") == document_type)
        for document in person.documents
    )


def _has_phone(person: Person, number: str) -> bool:
    number = number.strip()
    return person.authentication_phone == number or any(
        phone.get("number") == number for phone in person.phones
    )
