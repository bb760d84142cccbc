"""Tasks of declaration requests."""

from celery import shared_task

from .. import services

__all__ = ["declaration_requests_expire_task"]


# Named as the beat schedule names it (the package re-exports each flow's tasks).
@shared_task(name="declarations.tasks.declaration_requests_expire_task")
def declaration_requests_expire_task() -> None:
    """The hourly beat job: unsigned requests past their term expire (idempotent: only NEW/APPROVED ones)."""
    services.declaration_requests_expire()
