"""Writes of a facility's staff: inviting people (employee requests), sending an invitation again,
dismissing an employee.

Accepting or declining an invitation is the invitee's: `invitations`. Who may call these is the
caller's question to `registry.permissions` (the service checks facts, not rights).
"""

import datetime
import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ehealth_portal.history import acting_as
from ehealth_portal.json_depth import json_too_deep
from ehealth_portal.services import email_queue

from .. import signals
from ..addresses import address_text
from ..models import Division, Employee, EmployeeRequest, LegalEntity, Party, SupersededInvitationLink
from ..payloads import employee_request_payload_validate, payload_canonical
from ..selectors import OWNER, dictionary_value_label, global_parameter_term, token_hash
from .signing import signed_document_verify, signer_is

SIGNED_FIELD = "signed_content"  # the JSON path of signature problems (eHealth's v2 employee requests)


def _error(path: str, message, code: str) -> ValidationError:
    return ValidationError({path: [ValidationError(message, code=code)]})


def employee_request_expiry() -> datetime.datetime:
    """When an invitation sent now expires: the `employee_request_expiration` global parameter."""
    term = global_parameter_term(name="employee_request_expiration", unit_name="employee_request_term_unit")
    return term.after(timezone.now())


def employee_request_create(
    *, legal_entity: LegalEntity, actor, data: dict, signed_envelope: bytes | None = None
) -> tuple[EmployeeRequest, str]:
    """Invite a person to work at the facility; return the request and its link token (emailed).

    `data` is eHealth's employee_request (validated here; `legal_entity_id` is always this facility).
    With `signed_envelope` (the head granting HR access) the envelope must sign exactly the canonical
    JSON of the validated request and be the actor's own signature. The API's signed requests, whose
    content is the MIS's own JSON, are `employee_request_create_signed`.
    Refusals are a ValidationError keyed by JSON paths; nothing is stored then.
    """
    data = employee_request_payload_validate({**data, "legal_entity_id": str(legal_entity.pk)})
    document = None
    if signed_envelope is not None:
        document = signed_document_verify(
            envelope=signed_envelope, expected=payload_canonical(data), field=SIGNED_FIELD
        )
        _signer_is_actor(document, actor)
    return _request_store(
        legal_entity=legal_entity, actor=actor, data=data, signed_envelope=signed_envelope, document=document
    )


def employee_request_create_signed(
    *, legal_entity: LegalEntity, actor, signed_envelope: bytes
) -> tuple[EmployeeRequest, str]:
    """The API's signed request (eHealth's `POST /api/v2/employee_requests`): the envelope's content is
    the JSON `{"employee_request": {...}}` as the MIS wrote it (any formatting), signed by the actor.

    The signature is checked first (attached content, the actor's RNOKPP), then the content as
    `employee_request_create` checks `data`; the content is kept as the evidence. Refusals: signature
    problems at `signed_content`, the content's at its own paths (`employee_request.party.tax_id`).
    A `legal_entity_id` in the content must be this facility: the signer named it.
    """
    document = signed_document_verify(envelope=signed_envelope, expected=None, field=SIGNED_FIELD)
    _signer_is_actor(document, actor)
    content = None
    if not json_too_deep(document.content):
        try:
            content = json.loads(document.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            content = None
    if not isinstance(content, dict):
        raise _error(SIGNED_FIELD, _("The signed content is not a JSON object."), "content_not_json")
    if not isinstance(content.get("employee_request"), dict):
        raise _error(
            "employee_request", _('The signed content must be {"employee_request": {...}}.'), "required"
        )
    data = content["employee_request"]
    try:
        if data.get("legal_entity_id") not in (None, str(legal_entity.pk)):
            raise _error(
                "legal_entity_id",
                _("The request names another facility than yours."),
                "legal_entity_mismatch",
            )
        data = employee_request_payload_validate({**data, "legal_entity_id": str(legal_entity.pk)})
        return _request_store(
            legal_entity=legal_entity,
            actor=actor,
            data=data,
            signed_envelope=signed_envelope,
            document=document,
        )
    except ValidationError as error:
        raise errors_under(error, "employee_request") from error


def errors_under(error: ValidationError, prefix: str) -> ValidationError:
    """The same errors at paths inside `prefix` ("party.tax_id" → "employee_request.party.tax_id")."""
    return ValidationError(
        {
            prefix if path == NON_FIELD_ERRORS else f"{prefix}.{path}": items
            for path, items in error.update_error_dict({}).items()
        }
    )


def _signer_is_actor(document, actor) -> None:
    actor_party = Party.objects.filter(user=actor).first()
    signer_is(
        document=document,
        tax_id=actor_party.tax_id if actor_party else "",
        field=SIGNED_FIELD,
        message=_("The request is signed by someone else: the signer's RNOKPP is not yours."),
    )


def _request_store(
    *, legal_entity: LegalEntity, actor, data: dict, signed_envelope: bytes | None, document
) -> tuple[EmployeeRequest, str]:
    """The facility-level checks of a validated request, then the request and its invitation email."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic(), acting_as(actor):
        legal_entity = LegalEntity.objects.select_for_update().get(pk=legal_entity.pk)
        if legal_entity.status != LegalEntity.Status.ACTIVE or not legal_entity.is_active:
            raise _error("legal_entity_id", _("The facility is not active."), "legal_entity_not_active")
        division = _division_of(legal_entity, data.get("division_id"))
        employee = _employee_to_update(legal_entity, data)
        _person_checks(legal_entity, data, updating=employee)
        party = data["party"]
        request = EmployeeRequest(
            legal_entity=legal_entity,
            division=division,
            employee=employee,
            employee_type=data["employee_type"],
            position=data["position"],
            email=party["email"],
            data=data,
            token_hash=token_hash(token),
            expires_at=employee_request_expiry(),
            created_by=actor,
            signed_envelope=signed_envelope,
            signed_content=document.content if document else None,
            signer=document.signer.as_dict() if document else {},
        )
        request.save()
        _invitation_email(request, token, actor=actor)
    return request, token


def employee_request_resend(*, employee_request: EmployeeRequest, actor) -> str:
    """Send a waiting invitation again with a new link (and a new term); the old link stops working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic(), acting_as(actor):
        request = (
            EmployeeRequest.objects.select_for_update()
            .select_related("legal_entity")
            .get(pk=employee_request.pk)
        )
        if request.status != EmployeeRequest.Status.NEW:
            raise _error(
                "status",
                _("Only a waiting invitation can be sent again; this one is %(status)s.")
                % {"status": request.get_status_display()},
                "status_not_new",
            )
        SupersededInvitationLink.objects.create(employee_request=request, token_hash=request.token_hash)
        request.token_hash = token_hash(token)
        request.expires_at = employee_request_expiry()
        request.save(update_fields=["token_hash", "expires_at", "updated_at"])
        _invitation_email(request, token, actor=actor)
    return token


def employee_request_withdraw(*, employee_request: EmployeeRequest, actor) -> EmployeeRequest:
    """The facility withdraws a waiting invitation: NEW → REJECTED; its link stops working."""
    with transaction.atomic(), acting_as(actor):
        request = EmployeeRequest.objects.select_for_update().get(pk=employee_request.pk)
        if request.status != EmployeeRequest.Status.NEW:
            raise _error(
                "status",
                _("Only a waiting invitation can be withdrawn; this one is %(status)s.")
                % {"status": request.get_status_display()},
                "status_not_new",
            )
        request.status = EmployeeRequest.Status.REJECTED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at", "updated_at"])
    return request


def employee_dismiss(*, employee: Employee, actor, reason: str = "") -> Employee:
    """Dismiss a working employee: APPROVED → DISMISSED, today; they lose the facility's rights at once.

    The head cannot be dismissed this way (eHealth: "Owner can't be deactivated"): a head changes
    with the facility's registration data.
    """
    with transaction.atomic(), acting_as(actor):
        employee = Employee.objects.select_for_update().get(pk=employee.pk)
        if employee.employee_type == OWNER:
            raise _error("employee_type", _("The head cannot be dismissed."), "owner_deactivate")
        if employee.status != Employee.Status.APPROVED or not employee.is_active:
            raise _error("status", _("The employee is already dismissed."), "employee_not_active")
        employee.status = Employee.Status.DISMISSED
        employee.is_active = False
        employee.end_date = timezone.localdate()
        employee.status_reason = reason[:255]
        employee.save(update_fields=["status", "is_active", "end_date", "status_reason", "updated_at"])
        signals.employees_dismissed.send(
            sender=Employee, employee_ids=[employee.pk], actor=actor, reason="employee_dismissed"
        )
    return employee


# --- Checks ---------------------------------------------------------------------------------------


def _division_of(legal_entity: LegalEntity, division_id: str | None) -> Division | None:
    if division_id is None:
        return None
    division = Division.objects.filter(pk=division_id, legal_entity=legal_entity).first()
    if division is None:
        raise _error("division_id", _("This facility has no such place of service."), "division_not_found")
    if division.status != Division.Status.ACTIVE:
        raise _error("division_id", _("The place of service is not active."), "division_not_active")
    return division


def _employee_to_update(legal_entity: LegalEntity, data: dict) -> Employee | None:
    """eHealth's update mode: `employee_id` names a working employee whose data the request changes."""
    if "employee_id" not in data:
        return None
    employee = (
        Employee.objects.filter(pk=data["employee_id"], legal_entity=legal_entity)
        .select_related("party")
        .first()
    )
    if employee is None:
        raise _error("employee_id", _("This facility has no such employee."), "employee_not_found")
    if employee.status != Employee.Status.APPROVED or not employee.is_active:
        raise _error(
            "employee_id", _("The employee is dismissed and cannot be changed."), "employee_dismissed"
        )
    party = data["party"]
    mismatches = {
        "party.tax_id": employee.party.tax_id != party["tax_id"],
        "party.birth_date": employee.party.birth_date.isoformat() != party["birth_date"],
        "employee_type": employee.employee_type != data["employee_type"],
        "start_date": employee.start_date.isoformat() != data["start_date"],
    }
    errors = {
        path: [ValidationError(_("It must stay as the employee's: it cannot be changed."), code="mismatch")]
        for path, differs in mismatches.items()
        if differs
    }
    if errors:
        raise ValidationError(errors)
    return employee


def _person_checks(legal_entity: LegalEntity, data: dict, *, updating: Employee | None) -> None:
    """The email is this person's alone; the person is not already working or invited here in this role."""
    party = data["party"]
    same_person = Q(tax_id=party["tax_id"], birth_date=party["birth_date"])
    email_owner = get_user_model().objects.filter(email__iexact=party["email"]).first()
    if email_owner is not None:
        owner_party = Party.objects.filter(user=email_owner).first()
        if owner_party is not None and not Party.objects.filter(same_person, pk=owner_party.pk).exists():
            raise _email_taken()
    other_invitations = EmployeeRequest.objects.filter(
        email__iexact=party["email"], status=EmployeeRequest.Status.NEW
    ).exclude(data__party__tax_id=party["tax_id"], data__party__birth_date=party["birth_date"])
    if other_invitations.exists():
        raise _email_taken()
    if updating is not None:
        if EmployeeRequest.objects.filter(employee=updating, status=EmployeeRequest.Status.NEW).exists():
            raise _error(
                "employee_id",
                _("A change of this employee's data is already waiting: send it again or withdraw it first."),
                "employee_request_exists",
            )
        return
    if Employee.objects.filter(
        legal_entity=legal_entity,
        employee_type=data["employee_type"],
        status=Employee.Status.APPROVED,
        is_active=True,
        party__tax_id=party["tax_id"],
        party__birth_date=party["birth_date"],
    ).exists():
        raise _error(
            "party.tax_id",
            _("This person already works here in this role; change their data with the employee's request."),
            "employee_exists",
        )
    if EmployeeRequest.objects.filter(
        legal_entity=legal_entity,
        employee_type=data["employee_type"],
        status=EmployeeRequest.Status.NEW,
        data__party__tax_id=party["tax_id"],
    ).exists():
        raise _error(
            "party.tax_id",
            _("This person already has a waiting invitation in this role: send it again instead."),
            "employee_request_exists",
        )


def _email_taken() -> ValidationError:
    return _error(
        "party.email",
        _("This email address belongs to another person. Each person needs an address of their own."),
        "email_other_person",
    )


# --- Email ----------------------------------------------------------------------------------------


def invitation_url(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("registry:invitation", args=[token])


def _invitation_email(request: EmployeeRequest, token: str, *, actor) -> None:
    legal_entity = request.legal_entity
    # Outgoing mail is written in the portal's language (Ukrainian), whoever triggered it.
    with translation.override(settings.LANGUAGE_CODE):
        role = (
            dictionary_value_label(name="EMPLOYEE_TYPE", key=request.employee_type) or request.employee_type
        )
        context = {
            "request": request,
            "legal_entity": legal_entity,
            "clinic_address": address_text(legal_entity.addresses, address_type="REGISTRATION"),
            "role": role,
            "position": dictionary_value_label(name="POSITION", key=request.position) or request.position,
            "invitation_url": invitation_url(token),
            "is_update": request.employee_id is not None,
        }
        email_queue(
            to=request.email,
            subject=str(_("Invitation to work at %(name)s")) % {"name": legal_entity},
            text_body=render_to_string("registry/emails/employee_invitation.txt", context),
            created_by=actor,
        )
