"""Declarations after signing (ehealth-api.md §4.7): termination on the doctor's or the patient's
request, termination of a dismissed doctor's or a closed facility's declarations, and the operator's
verification of the declarations that wait for it (an OFFLINE patient's documents).

Transitions: active → terminated; pending_verification → active | rejected | terminated. Each write is
atomic, records who made it (`updated_by` and the history) and refreshes the doctor's "accepts new
patients" (`limits.doctor_availability_refresh`), since a place in their list was freed.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ehealth_portal.history import acting_as, update_recorded
from registry.models import Employee

from ..models import Declaration, DeclarationRequest
from .limits import doctor_availability_refresh
from .requests import _error

# eHealth's reasons (§4.7): asked for in the cabinet or the API…
Reason = Declaration.Reason
MANUAL_EMPLOYEE = Reason.MANUAL_EMPLOYEE  # the doctor's (the facility's) request
MANUAL_PERSON = Reason.MANUAL_PERSON  # the patient's request
MANUAL_REASONS = {reason: reason.label for reason in (MANUAL_EMPLOYEE, MANUAL_PERSON)}
# …and made by the portal when the doctor no longer works there.
AUTO_EMPLOYEE_DISMISSED = Reason.AUTO_EMPLOYEE_DISMISSED
AUTO_LEGAL_ENTITY_CLOSED = Reason.AUTO_LEGAL_ENTITY_CLOSED
REASONS = dict(Reason.choices)
# How a bulk change is named in the versions' history (`update_recorded(reason=…)`), stored in English.
HISTORY_REASONS = {AUTO_EMPLOYEE_DISMISSED: "employee dismissed", AUTO_LEGAL_ENTITY_CLOSED: "facility closed"}
REASON_DESCRIPTION_MAX = 500


def _transition_error(message, declaration: Declaration) -> ValidationError:
    """eHealth's 409 "Invalid transition": the declaration's status does not allow the change."""
    return _error("status", message % {"status": declaration.get_status_display()}, "invalid_transition")


_REQUEST_LARGE_FIELDS = ("data", "printout_content", "signed_envelope", "signed_content")


def _stamped(queryset, **columns) -> list:
    """Lock the rows, set `columns` and the change time on them; their ids."""
    ids = list(queryset.values_list("pk", flat=True))
    if ids:
        queryset.model.objects.filter(pk__in=ids).update(updated_at=timezone.now(), **columns)
    return ids


def _parties_of(employee_ids) -> list:
    return list(Employee.objects.filter(pk__in=employee_ids).values_list("party_id", flat=True).distinct())


def _availability_refresh(employee_ids) -> None:
    """The doctors' "accepts new patients" after their lists changed."""
    doctor_availability_refresh(party_ids=_parties_of(employee_ids))


def declaration_terminate(
    *, declaration: Declaration, actor, reason: str, reason_description: str = ""
) -> Declaration:
    """End a current declaration on the doctor's ("manual_employee") or the patient's ("manual_person")
    request: active or pending_verification → terminated, with the reason and its words."""
    if reason not in MANUAL_REASONS:
        raise _error("reason", _("Choose who asked to terminate the declaration."), "invalid_reason")
    description = (reason_description or "").strip()
    if len(description) > REASON_DESCRIPTION_MAX:
        raise _error(
            "reason_description",
            _("Describe the reason in at most %(count)d characters.") % {"count": REASON_DESCRIPTION_MAX},
            "too_long",
        )
    with transaction.atomic(), acting_as(actor):
        locked = Declaration.objects.select_for_update().get(pk=declaration.pk)
        if locked.status not in Declaration.CURRENT:
            raise _transition_error(
                _(
                    "Only an active declaration or one waiting for verification can be terminated; "
                    "this one is %(status)s."
                ),
                locked,
            )
        locked.status = Declaration.Status.TERMINATED
        locked.reason = reason
        locked.reason_description = description
        locked.updated_by = actor
        locked.save(update_fields=["status", "reason", "reason_description", "updated_by", "updated_at"])
        _availability_refresh([locked.employee_id])
    return locked


def declarations_terminate_for_employees(*, employee_ids, actor, reason: str) -> int:
    """Terminate the current declarations of employees who no longer work (dismissed, or their facility
    closed) and cancel their requests still waiting for the patient or the doctor's signature.

    Runs inside the dismissal's (or the closure's) transaction, through `registry.signals`. The same
    few queries whatever the number of declarations, each row with its version. Returns how many
    declarations ended.
    """
    if reason not in HISTORY_REASONS:
        raise ValueError(f"not a reason the portal terminates declarations for: {reason!r}")
    employee_ids = list(employee_ids)
    if not employee_ids:
        return 0
    history_reason = HISTORY_REASONS[reason]
    with transaction.atomic(), acting_as(actor):
        # Requests before declarations, in the order signing locks them (no deadlock between the two).
        requests = DeclarationRequest.objects.select_for_update().filter(
            employee_id__in=employee_ids, status__in=DeclarationRequest.PENDING
        )
        update_recorded(
            DeclarationRequest.objects.filter(pk__in=_stamped(requests)).defer(*_REQUEST_LARGE_FIELDS),
            reason=history_reason,
            status=DeclarationRequest.Status.CANCELLED,
            updated_by=actor,
        )
        declarations = Declaration.objects.select_for_update().filter(
            employee_id__in=employee_ids, status__in=Declaration.CURRENT
        )
        # `update_recorded` names its change reason `reason`, so the reason column is set by a plain
        # update first (with the time, which a bulk update leaves as it was); the versions written next
        # carry it with the new status.
        ids = _stamped(declarations, reason=reason, reason_description="")
        terminated = update_recorded(
            Declaration.objects.filter(pk__in=ids),
            reason=history_reason,
            status=Declaration.Status.TERMINATED,
            updated_by=actor,
        )
        _availability_refresh(employee_ids)
    return terminated


def declaration_verify(*, declaration: Declaration, actor, approve: bool) -> Declaration:
    """The operator's decision on a declaration waiting for verification (the patient confirmed with
    documents): pending_verification → active (approve) or rejected."""
    with transaction.atomic(), acting_as(actor):
        locked = Declaration.objects.select_for_update().get(pk=declaration.pk)
        if locked.status != Declaration.Status.PENDING_VERIFICATION:
            raise _transition_error(
                _(
                    "Only a declaration waiting for verification can be verified or rejected; "
                    "this one is %(status)s."
                ),
                locked,
            )
        locked.status = Declaration.Status.ACTIVE if approve else Declaration.Status.REJECTED
        locked.updated_by = actor
        locked.save(update_fields=["status", "updated_by", "updated_at"])
        _availability_refresh([locked.employee_id])
    return locked


def declaration_reason_text(reason: str) -> str:
    """A stored reason in words (an unknown one, e.g. eHealth's "offline", as it is)."""
    return str(REASONS.get(reason, reason))


__all__ = [
    "AUTO_EMPLOYEE_DISMISSED",
    "AUTO_LEGAL_ENTITY_CLOSED",
    "MANUAL_EMPLOYEE",
    "MANUAL_PERSON",
    "MANUAL_REASONS",
    "REASONS",
    "declaration_reason_text",
    "declaration_terminate",
    "declaration_verify",
    "declarations_terminate_for_employees",
]
