"""Writes of a facility's places of service (divisions): create, change, activate, deactivate.

Who may call these is the caller's question to `registry.permissions` (the service checks facts, not
rights). Every write is atomic and recorded in the division's history with the actor.

Deactivating a place where employees still work is allowed, as in eHealth: a facility closes a place
for a while (repairs, a season) without dismissing its doctor, and people are moved or dismissed in the
staff flow. The cabinet says how many work there before the button (`division_working_employees_count`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..models import Division, LegalEntity
from ..payloads import division_payload_validate

# Members a PATCH may clear with null; the others are required by the payload.
_OPTIONAL = ("external_id", "location", "working_hours")


def _error(path: str, message, code: str) -> ValidationError:
    return ValidationError({path: [ValidationError(message, code=code)]})


def division_payload(division: Division) -> dict:
    """The division as eHealth's payload (what a PATCH is merged into)."""
    data = {
        "name": division.name,
        "type": division.type,
        "addresses": division.addresses,
        "phones": division.phones,
        "email": division.email,
        "legal_entity_id": str(division.legal_entity_id),
    }
    if division.external_id:
        data["external_id"] = division.external_id
    if division.latitude is not None and division.longitude is not None:
        data["location"] = {"latitude": float(division.latitude), "longitude": float(division.longitude)}
    if division.working_hours:
        data["working_hours"] = division.working_hours
    return data


def _facility_lock_active(legal_entity_id) -> LegalEntity:
    legal_entity = LegalEntity.objects.select_for_update().get(pk=legal_entity_id)
    if legal_entity.status != LegalEntity.Status.ACTIVE or not legal_entity.is_active:
        raise _error("legal_entity_id", _("The facility is not active."), "legal_entity_not_active")
    return legal_entity


def _apply(division: Division, data: dict) -> None:
    location = data.get("location")
    division.name = data["name"]
    division.type = data["type"]
    division.addresses = data["addresses"]
    division.phones = data["phones"]
    division.email = data["email"]
    division.external_id = data.get("external_id", "")
    division.latitude = location["latitude"] if location else None
    division.longitude = location["longitude"] if location else None
    division.working_hours = data.get("working_hours", {})


def division_create(*, legal_entity: LegalEntity, actor, data: dict) -> Division:
    """A new ACTIVE place of service of the facility from eHealth's division payload.

    `legal_entity_id` is always this facility. Refusals are a ValidationError keyed by JSON paths;
    nothing is stored then.
    """
    if not isinstance(data, dict):
        division_payload_validate(data)  # refuses it as eHealth does: "Expected a JSON object."
    data = division_payload_validate({**data, "legal_entity_id": str(legal_entity.pk)})
    with transaction.atomic():
        legal_entity = _facility_lock_active(legal_entity.pk)
        division = Division(legal_entity=legal_entity, status=Division.Status.ACTIVE)
        _apply(division, data)
        division._history_user = actor
        division.save()
    return division


def division_update(*, division: Division, actor, data: dict) -> Division:
    """Change a place of service: the members given replace the stored ones (eHealth's PATCH).

    An optional member (`external_id`, `location`, `working_hours`) given as null is removed. The
    result is validated as a whole, and `legal_entity_id` stays the division's facility.
    """
    if not isinstance(data, dict):
        division_payload_validate(data)  # refuses it as eHealth does: "Expected a JSON object."
    with transaction.atomic():
        # The facility first, then the place: the order every write of a facility's rows takes.
        _facility_lock_active(division.legal_entity_id)
        division = Division.objects.select_for_update().get(pk=division.pk)
        stored = division_payload(division)
        merged = {**stored, **data, "legal_entity_id": str(division.legal_entity_id)}
        merged = {key: value for key, value in merged.items() if not (value is None and key in _OPTIONAL)}
        _apply(division, division_payload_validate(merged))
        if division_payload(division) == stored:
            return division  # nothing changed: no new version in the history
        division._history_user = actor
        division.save()
    return division


def _status_change(division: Division, actor, *, to: str, code: str, message) -> Division:
    with transaction.atomic():
        _facility_lock_active(division.legal_entity_id)
        division = Division.objects.select_for_update().get(pk=division.pk)
        if division.status == to:
            raise _error("status", message, code)
        division.status = to
        division._history_user = actor
        division.save(update_fields=["status", "updated_at"])
    return division


def division_activate(*, division: Division, actor) -> Division:
    """INACTIVE → ACTIVE: the place is on the map again (if it has a location)."""
    return _status_change(
        division,
        actor,
        to=Division.Status.ACTIVE,
        code="division_not_inactive",
        message=_("The place of service is already active."),
    )


def division_deactivate(*, division: Division, actor) -> Division:
    """ACTIVE → INACTIVE: the place leaves the public map; its employees stay (see the module's note)."""
    return _status_change(
        division,
        actor,
        to=Division.Status.INACTIVE,
        code="division_not_active",
        message=_("The place of service is already inactive."),
    )
