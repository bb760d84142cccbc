"""Writes of people (parties), shared by registration and invitations."""

import datetime

from ..models import Party


def party_get_or_create(*, person: dict) -> Party:
    """The person by (tax_id, birth_date), created from an eHealth party block when new."""
    party, _created = Party.objects.get_or_create(
        tax_id=person["tax_id"],
        birth_date=datetime.date.fromisoformat(person["birth_date"]),
        defaults={
            "last_name": person["last_name"],
            "first_name": person["first_name"],
            "second_name": person.get("second_name", ""),
            "gender": person["gender"],
            "no_tax_id": person.get("no_tax_id", False),
            "documents": person.get("documents", []),
            "phones": person.get("phones", []),
        },
    )
    return party
