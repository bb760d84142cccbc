"""What an approved registration application writes: a new facility (its first place of service and the
head's invitation), or the change of a registered one (its data, its head's; a handover invites the new
head). Also how an application finds the facility it changes and who must sign that change."""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Value, When
from django.utils import timezone

from ehealth_portal.history import update_recorded

from ..models import Division, Employee, EmployeeRequest, LegalEntity, RegistrationApplication
from ..selectors import OWNER, legal_entity_owner, token_hash
from .staff import employee_request_expiry


def registration_application_is_change(application: RegistrationApplication) -> bool:
    """Did (or does) the application change a facility registered before it, rather than register one?

    A change names its facility from submission; a registration gets the facility it created on approval.
    """
    legal_entity = application.legal_entity
    return legal_entity is not None and legal_entity.created_at < application.submitted_at


@dataclass
class FacilityChange:
    """The facility an application changes (locked) and its current head (None: nobody has confirmed)."""

    legal_entity: LegalEntity
    head: Employee | None


def facility_change_of(legal_entity: LegalEntity | None) -> FacilityChange | None:
    """The change of `legal_entity`, the facility locked and its head read once with their person."""
    if legal_entity is None:
        return None
    active = legal_entity.status == LegalEntity.Status.ACTIVE
    return FacilityChange(legal_entity, legal_entity_owner(legal_entity=legal_entity) if active else None)


def facility_change_reason(change: FacilityChange, signer_drfo: str | None) -> str | None:
    """Why this signer may not change the facility (a reason code), or None: they are its current head."""
    if change.legal_entity.status != LegalEntity.Status.ACTIVE:
        return "legal_entity_closed"
    drfo = (signer_drfo or "").strip().upper()
    if change.head is None or not drfo or drfo != change.head.party.tax_id.upper():
        return "legal_entity_exists"
    return None


def facility_change_find(*, edrpou: str, type: str) -> FacilityChange | None:  # noqa: A002
    """The facility an application for (edrpou, type) would change, locked; None when the code is new.

    The ACTIVE facility of the code, else its newest CLOSED one (eHealth: a closed facility "can't be
    updated"); `facility_change_reason` says whether the signer may change it.
    """
    legal_entity = (
        LegalEntity.objects.select_for_update()
        .filter(edrpou=edrpou, type=type)
        .order_by(
            Case(When(status=LegalEntity.Status.ACTIVE, then=Value(0)), default=Value(1)), "-created_at"
        )
        .first()
    )
    return facility_change_of(legal_entity)


def change_signatory(data: dict, change: FacilityChange | None) -> dict:
    """Whom the signature must match: the head the document names — or, when it names another head (a
    handover), the facility's current head, who signs it."""
    owner = data["owner"]
    if change is None or change.head is None or change.head.party.tax_id == owner["tax_id"]:
        return owner
    party = change.head.party
    return {
        "tax_id": party.tax_id,
        "last_name": party.last_name,
        "first_name": party.first_name,
        "second_name": party.second_name,
    }


def legal_entity_locked(legal_entity_id) -> LegalEntity | None:
    """The facility an application names, locked for its update (None for a registration)."""
    if legal_entity_id is None:
        return None
    return LegalEntity.objects.select_for_update().get(pk=legal_entity_id)


# The facility's fields a payload sets as they are (the licence and accreditation are its MSP block).
_PAYLOAD_FIELDS = (
    "name",
    "short_name",
    "public_name",
    "legal_form",
    "owner_property_type",
    "kveds",
    "email",
    "phones",
    "website",
    "addresses",
)


def _legal_entity_data(data: dict) -> dict:
    """The facility's fields a payload sets, at registration and at every change (not its code or type)."""
    provider = data["medical_service_provider"]
    return {
        **{name: data.get(name, "") for name in _PAYLOAD_FIELDS},
        "license": provider["licenses"][0],
        "accreditation": provider.get("accreditation", {}),
    }


def legal_entity_payload(legal_entity: LegalEntity, head: Employee | None) -> dict:
    """The registration payload of the facility as it is now, with its head as the owner block: what the
    head starts a change from (`_legal_entity_data` the other way round; no place of service)."""
    payload = {
        "type": legal_entity.type,
        "edrpou": legal_entity.edrpou,
        **{
            name: getattr(legal_entity, name) for name in _PAYLOAD_FIELDS if getattr(legal_entity, name) != ""
        },
        "medical_service_provider": {
            "licenses": [legal_entity.license],
            "accreditation": legal_entity.accreditation,
        },
    }
    if head is not None:
        party = head.party
        payload["owner"] = {
            "last_name": party.last_name,
            "first_name": party.first_name,
            "second_name": party.second_name,
            "tax_id": party.tax_id,
            "no_tax_id": party.no_tax_id,
            "birth_date": party.birth_date.isoformat(),
            "gender": party.gender,
            "email": party.user.email if party.user else "",
            "documents": party.documents,
            "phones": party.phones,
            "position": head.position,
        }
    return payload


def legal_entity_register(application: RegistrationApplication) -> tuple[LegalEntity, EmployeeRequest, str]:
    """The facility, its first division and the OWNER invitation (one transaction).

    The head's Party is made when they accept (`invitations`), as eHealth makes it from the request.
    """
    data, creator_id = application.data, application.submitted_by_id
    legal_entity = LegalEntity(
        type=data["type"],
        edrpou=data["edrpou"],
        **_legal_entity_data(data),
        status=LegalEntity.Status.ACTIVE,
        is_active=True,
        nhs_verified=False,
        created_by_id=creator_id,
        updated_by_id=creator_id,
    )
    # The unique ACTIVE (edrpou, type) constraint is left to the database: see _application_approve.
    # (The creator's row needs no check: it is the submitting user's.)
    legal_entity.full_clean(
        exclude=["created_by", "updated_by"], validate_unique=False, validate_constraints=False
    )
    legal_entity.save()
    division = None
    if data.get("division"):
        block = data["division"]
        location = block.get("location") or {}
        division = Division.objects.create(
            legal_entity=legal_entity,
            name=block["name"],
            type=block["type"],
            addresses=block["addresses"],
            phones=block["phones"],
            email=block["email"],
            latitude=_decimal(location.get("latitude")),
            longitude=_decimal(location.get("longitude")),
        )
    request, token = _owner_request_create(legal_entity, division, data["owner"], creator_id=creator_id)
    return legal_entity, request, token


def legal_entity_update(
    application: RegistrationApplication, change: FacilityChange
) -> tuple[LegalEntity, EmployeeRequest | None, str | None]:
    """The facility's data from the application, its previous version kept (history, with who changed it).

    The document's `division` is not used: places of service have their own pages. When the document
    names another head, that person is invited as the new head (a handover: the current head stays
    until they accept); otherwise the head's own data (names, documents, phones, position) is updated.
    """
    data, user = application.data, application.submitted_by
    legal_entity = change.legal_entity
    for name, value in _legal_entity_data(data).items():
        setattr(legal_entity, name, value)
    legal_entity.is_active = True  # as in eHealth's update
    legal_entity.updated_by = user
    legal_entity.full_clean(
        exclude=["created_by", "updated_by"], validate_unique=False, validate_constraints=False
    )
    legal_entity.save()
    owner = data["owner"]
    if owner["tax_id"] == change.head.party.tax_id:
        _head_update(change.head, owner)
        return legal_entity, None, None
    # A new head's invitation replaces one still waiting from an earlier handover.
    update_recorded(
        legal_entity.employee_requests.filter(employee_type=OWNER, status=EmployeeRequest.Status.NEW),
        reason="another head named",
        status=EmployeeRequest.Status.REJECTED,
        decided_at=timezone.now(),
    )
    request, token = _owner_request_create(legal_entity, None, owner, creator_id=application.submitted_by_id)
    return legal_entity, request, token


def _head_update(head: Employee, owner: dict) -> None:
    """The current head's person and position as the signed document gives them; saved only if changed.

    The RNOKPP and the date of birth identify the person and stay as they are.
    """
    party = head.party
    fields = {
        "last_name": owner["last_name"],
        "first_name": owner["first_name"],
        "second_name": owner.get("second_name", ""),
        "gender": owner["gender"],
        "documents": owner.get("documents", []),
        "phones": owner.get("phones", []),
    }
    changed = [name for name, value in fields.items() if getattr(party, name) != value]
    if changed:
        for name in changed:
            setattr(party, name, fields[name])
        party.save(update_fields=[*changed, "updated_at"])
    if head.position != owner["position"]:
        head.position = owner["position"]
        head.save(update_fields=["position", "updated_at"])


def _owner_request_create(
    legal_entity: LegalEntity, division: Division | None, owner: dict, *, creator_id
) -> tuple[EmployeeRequest, str]:
    """eHealth's owner request (ehealth-api.md §2.4 step 5): the owner block is its party."""
    party = {name: value for name, value in owner.items() if name != "position"}
    token = secrets.token_urlsafe(32)
    request = EmployeeRequest.objects.create(
        legal_entity=legal_entity,
        division=division,
        employee_type=OWNER,
        position=owner["position"],
        email=owner["email"],
        data={
            "legal_entity_id": str(legal_entity.pk),
            "employee_type": OWNER,
            "position": owner["position"],
            "start_date": timezone.localdate().isoformat(),
            "status": "NEW",
            "party": party,
        },
        token_hash=token_hash(token),
        expires_at=employee_request_expiry(),
        created_by_id=creator_id,
    )
    return request, token


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))
