"""Reads of declaration requests: a facility's list (the cabinet and the API) and one of them."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from registry.models import LegalEntity

from ..models import DeclarationRequest

# What a list never shows: the printed form and the signature (the patient's data stays: names are shown).
_LIST_DEFERRED = ("printout_content", "signed_envelope", "signed_content")


def declaration_request_get(
    *, legal_entity: LegalEntity, declaration_request_id
) -> DeclarationRequest | None:
    """One request of the facility with its doctor, division and scans' types; None when there is none
    (another facility's request is as unknown as a missing one, and so is a malformed id)."""
    try:
        return (
            DeclarationRequest.objects.select_related("employee__party", "division", "legal_entity", "person")
            .filter(legal_entity=legal_entity, pk=declaration_request_id)
            .first()
        )
    except (ValidationError, ValueError):
        return None


def declaration_request_list(
    *, legal_entity: LegalEntity, employee_id=None, status: str | None = None
) -> QuerySet[DeclarationRequest]:
    """The facility's requests, newest first, with their doctor and division (one query for a page)."""
    requests = (
        DeclarationRequest.objects.filter(legal_entity=legal_entity)
        .select_related("employee__party", "division")
        .defer(*_LIST_DEFERRED)
    )
    if employee_id is not None:
        requests = requests.filter(employee_id=employee_id)
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("-created_at", "-pk")
