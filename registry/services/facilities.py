"""Writes of registered facilities: NHS verification, closing."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ehealth_portal.history import acting_as, update_recorded

from .. import signals
from ..models import (
    Employee,
    EmployeeRequest,
    LegalEntity,
)


def _legal_entity_lock_active(legal_entity: LegalEntity) -> LegalEntity:
    legal_entity = LegalEntity.objects.select_for_update().get(pk=legal_entity.pk)
    if legal_entity.status != LegalEntity.Status.ACTIVE or not legal_entity.is_active:
        raise ValidationError(
            _("The facility is not active and cannot be changed."), code="legal_entity_not_active"
        )
    return legal_entity


def legal_entity_nhs_verify(*, legal_entity: LegalEntity, actor) -> LegalEntity:
    """The NHS has checked the facility's documents: nhs_verified false → true (once)."""
    with transaction.atomic(), acting_as(actor):
        legal_entity = _legal_entity_lock_active(legal_entity)
        if legal_entity.nhs_verified:
            raise ValidationError(_("The facility is already verified by the NHS."), code="already_verified")
        legal_entity.nhs_verified = True
        legal_entity.updated_by = actor
        legal_entity.save(update_fields=["nhs_verified", "updated_by", "updated_at"])
    return legal_entity


def legal_entity_deactivate(*, legal_entity: LegalEntity, actor) -> LegalEntity:
    """Close the facility: its staff are dismissed (and lose the cabinet), pending invitations rejected."""
    with transaction.atomic(), acting_as(actor):
        legal_entity = _legal_entity_lock_active(legal_entity)
        today, now = timezone.localdate(), timezone.now()
        legal_entity.status = LegalEntity.Status.CLOSED
        legal_entity.is_active = False
        legal_entity.end_date = today
        legal_entity.updated_by = actor
        legal_entity.save(update_fields=["status", "is_active", "end_date", "updated_by", "updated_at"])
        dismissed = list(legal_entity.employees.filter(is_active=True).values_list("pk", flat=True))
        update_recorded(
            legal_entity.employees.filter(is_active=True),
            reason="facility closed",
            is_active=False,
            status=Employee.Status.DISMISSED,
            end_date=today,
        )
        update_recorded(
            legal_entity.employee_requests.filter(status=EmployeeRequest.Status.NEW),
            reason="facility closed",
            status=EmployeeRequest.Status.REJECTED,
            decided_at=now,
        )
        signals.employees_dismissed.send(
            sender=LegalEntity, employee_ids=dismissed, actor=actor, reason="legal_entity_closed"
        )
    return legal_entity
