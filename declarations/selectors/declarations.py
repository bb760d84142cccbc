"""Reads of signed declarations: a facility's list (filters of the cabinet and the API) and one of them."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from registry.models import LegalEntity

from ..models import Declaration

# The columns of the request a declaration page shows: not its document, printout or signature.
_REQUEST_LARGE_FIELDS = (
    "declaration_request__data",
    "declaration_request__printout_content",
    "declaration_request__signed_envelope",
    "declaration_request__signed_content",
)


def declaration_list(
    *,
    legal_entity: LegalEntity,
    employee_id=None,
    status: str | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Declaration]:
    """The facility's declarations, newest first, with their patient, doctor and division (one query
    for a page however long): by doctor, status and the day they were signed (inclusive)."""
    declarations = (
        Declaration.objects.filter(legal_entity=legal_entity)
        .select_related("person", "employee__party", "division")
        .defer(*_LIST_UNSHOWN)
    )
    if employee_id is not None:
        declarations = declarations.filter(employee_id=employee_id)
    if status:
        declarations = declarations.filter(status=status)
    if date_from is not None:
        declarations = declarations.filter(signed_at__gte=_day_start(date_from))
    if date_to is not None:
        declarations = declarations.filter(signed_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    return declarations.order_by("-created_at", "-pk")


# What a list row never shows: the patients', doctors' and places' JSON blocks (a doctor's page of 50 rows
# decoded them in half its time).
_LIST_UNSHOWN = (
    "person__documents",
    "person__addresses",
    "person__phones",
    "person__emergency_contact",
    "person__confidant_person",
    "person__secret_encrypted",
    "employee__additional_info",
    "employee__speciality",
    "employee__party__documents",
    "employee__party__phones",
    "division__addresses",
    "division__phones",
    "division__working_hours",
)


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of the day in the portal's time zone (a range on the column, not a function of it)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def declaration_get(*, legal_entity: LegalEntity, declaration_id) -> Declaration:
    """One declaration of the facility with its patient, doctor, division and request; 404 otherwise
    (another facility's declaration is as unknown as a missing one)."""
    try:
        return (
            Declaration.objects.select_related(
                "person", "employee__party", "division", "legal_entity", "declaration_request", "updated_by"
            )
            .defer(*_REQUEST_LARGE_FIELDS)
            .get(pk=declaration_id, legal_entity=legal_entity)
        )
    except (Declaration.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def declarations_pending_verification_count() -> int:
    """Declarations waiting for an operator's verification (the admin's dashboard)."""
    return Declaration.objects.filter(status=Declaration.Status.PENDING_VERIFICATION).count()
