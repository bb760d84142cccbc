"""Writes of people (parties), shared by registration and invitations."""

import datetime

from ..models import Party


def _party_fields(person: dict) -> dict:
    return {
        "last_name": person["last_name"],
        "first_name": person["first_name"],
        "second_name": person.get("second_name", ""),
        "gender": person["gender"],
        "no_tax_id": person.get("no_tax_id", False),
        "documents": person.get("documents", []),
        "phones": person.get("phones", []),
    }


def _person_key(person: dict) -> dict:
    return {"tax_id": person["tax_id"], "birth_date": datetime.date.fromisoformat(person["birth_date"])}


def party_get_or_create(*, person: dict) -> Party:
    """The person by (tax_id, birth_date), created from an eHealth party block when new."""
    party, _created = Party.objects.get_or_create(**_person_key(person), defaults=_party_fields(person))
    return party


def party_upsert(*, person: dict) -> Party:
    """The person by (tax_id, birth_date) with the data of an accepted request (eHealth: create or update)."""
    party, _created = Party.objects.update_or_create(**_person_key(person), defaults=_party_fields(person))
    return party
