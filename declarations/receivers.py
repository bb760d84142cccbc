"""What the declarations app does on registry events (`registry.signals`).

A dismissal and a facility's closure send `employees_dismissed` inside their own transaction, so the
declarations end (and the waiting requests are cancelled) atomically with them.
"""

from django.dispatch import receiver

from registry import signals

from .services.declarations import (
    AUTO_EMPLOYEE_DISMISSED,
    AUTO_LEGAL_ENTITY_CLOSED,
    declarations_terminate_for_employees,
)

# The registry's reason → eHealth's reason on the declaration.
_REASONS = {
    "employee_dismissed": AUTO_EMPLOYEE_DISMISSED,
    "legal_entity_closed": AUTO_LEGAL_ENTITY_CLOSED,
}


@receiver(signals.employees_dismissed, dispatch_uid="declarations.employees_dismissed")
def employees_dismissed(sender, *, employee_ids, actor, reason, **kwargs):
    declarations_terminate_for_employees(employee_ids=employee_ids, actor=actor, reason=_REASONS[reason])
