"""Reads of a facility's places of service (divisions): its list with eHealth's filters, one of them.

A person sees only their facility's places: every lookup is filtered by the facility (404 otherwise).
The public map's GeoJSON is `registry.selectors.division_geojson`.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404

from ..models import Division, Employee, LegalEntity


def division_list(
    *,
    legal_entity: LegalEntity,
    ids: Iterable | None = None,
    name: str | None = None,
    type: str | None = None,  # noqa: A002 - the eHealth filter's name
    status: str | None = None,
) -> QuerySet[Division]:
    """The facility's places of service by name; `name` matches a part of it, in any case."""
    queryset = Division.objects.filter(legal_entity=legal_entity)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    if name:
        queryset = queryset.filter(name__icontains=name)
    if type:
        queryset = queryset.filter(type=type)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("name", "pk")


def division_get(*, legal_entity: LegalEntity, division_id) -> Division:
    """One place of service of the facility; 404 for another facility's or an unknown one."""
    try:
        return Division.objects.get(pk=division_id, legal_entity=legal_entity)
    except (Division.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def division_for_change(*, legal_entity: LegalEntity, division_id) -> Division:
    """One place of service the facility may change: 403 for another facility's (eHealth's rule for
    updating another legal entity's division), 404 for an unknown one."""
    try:
        division = Division.objects.get(pk=division_id)
    except (Division.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if division.legal_entity_id != legal_entity.pk:
        raise PermissionDenied
    return division


def division_working_employees_count(*, division: Division) -> int:
    """How many people work at the place now (active, APPROVED employees assigned to it)."""
    return Employee.objects.filter(division=division, is_active=True, status=Employee.Status.APPROVED).count()
