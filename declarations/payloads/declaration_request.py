"""The eHealth declaration request (ehealth-api.md §4.2): the inside of `{"declaration_request": {...}}`.

The checks that need the database (the doctor, the division, the phone) are
`services.requests.declaration_request_create`'s; this module checks the document itself.

Differences from eHealth, on purpose:
* `start_date`, `end_date` and `seed` are accepted and ignored: the server sets them (eHealth 2018's
  schema had them; its own creator overwrote them).
* `overlimit` may be true (2018): the facility takes the patient over the doctor's limit.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from registry.payloads.common import StrictSerializer, payload_validate

from .person import DeclarationPersonSerializer

FAMILY_DOCTOR_SCOPE = "family_doctor"


class DeclarationRequestSerializer(StrictSerializer):
    ignored_fields = ("start_date", "end_date", "seed")

    person = DeclarationPersonSerializer()
    employee_id = serializers.UUIDField()
    division_id = serializers.UUIDField()
    scope = serializers.ChoiceField(
        choices=[FAMILY_DOCTOR_SCOPE],
        error_messages={"invalid_choice": _("A declaration's scope is family_doctor.")},
    )
    overlimit = serializers.BooleanField(default=False)


def declaration_request_payload_validate(data: Any) -> dict:
    """Validate a declaration request; return it normalised (errors at "person.tax_id", "employee_id"...)."""
    return payload_validate(DeclarationRequestSerializer, data)
