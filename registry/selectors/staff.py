"""Reads of a facility's staff: its employees and its invitations (employee requests).

A person sees only their facility's staff: every lookup is filtered by the facility, so another
facility's employee is as unknown as a made-up id (404). Lists cost a constant number of queries
however many rows a page holds and however deep the page (`employee_pages`: the page's ids from the
list's index, its rows joined to their person and place of service).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import Http404

from ..models import Employee, EmployeeRequest, LegalEntity, Party

# Changes of these fields are not worth a line in the history a person reads.
_HISTORY_HIDDEN = frozenset({"id", "created_at", "legal_entity", "party"})


def employee_list(
    *,
    legal_entity: LegalEntity,
    employee_type: str | None = None,
    status: str | None = None,
    division_id=None,
    division_name: str = "",
    tax_id: str | None = None,
    no_tax_id: bool | None = None,
    search: str = "",
) -> QuerySet[Employee]:
    """The facility's employees with eHealth's filters and the cabinet's search: by status (working
    first), role, then newest first.

    That is the order of `employee_list_idx` (facility, status, role, newest first, id), so a page of a
    facility with 10,000 employees is read from the index and joined for its own rows only; "newest
    first" across roles would join and sort every row of the facility (about 300 times slower on
    PostgreSQL). To page it, use `employee_pages`. `division_name`: a part of the place's name, in any
    case. `search`: every word must match the surname, first name, patronymic or email (a part of it,
    in any case) or be the RNOKPP / passport number.
    """
    queryset = _employees_of(legal_entity)
    if status:
        queryset = queryset.filter(status=status)
    if employee_type:
        queryset = queryset.filter(employee_type=employee_type)
    if division_id:
        queryset = queryset.filter(division_id=division_id)
    if division_name:
        queryset = queryset.filter(division__name__icontains=division_name)
    if tax_id:
        queryset = queryset.filter(party__tax_id=tax_id.upper())
    if no_tax_id is not None:
        queryset = queryset.filter(party__no_tax_id=no_tax_id)
    for word in search.split()[:5]:  # a few words are a name; more only slow the query down
        queryset = queryset.filter(_person_matches(word))
    return queryset.order_by("status", "employee_type", "-created_at", "-pk")


def _employees_of(legal_entity: LegalEntity) -> QuerySet[Employee]:
    """The facility's employees with their person, login and place; the facility is the one given
    (the related manager sets it on every row: no join)."""
    return legal_entity.employees.select_related("party__user", "division")


def _person_matches(word: str) -> Q:
    """The employee's name or login email contains the word, or the word is their RNOKPP / passport.

    A word of 3 letters or more: the people matching it, found by two queries joined by UNION, each
    of the shape PostgreSQL answers from an index (the name parts' and the email's trigram indexes of
    migration 0009, the RNOKPP's); a single OR spanning the person and the login would evaluate every
    condition on every person in the country. A shorter word has no trigram: it is checked on the
    rows the other words and filters leave.
    """
    if len(word) < 3:
        return (
            Q(party__last_name__icontains=word)
            | Q(party__first_name__icontains=word)
            | Q(party__second_name__icontains=word)
            | Q(party__tax_id=word.upper())
            | Q(party__user__email__icontains=word)
        )
    names = Party.objects.filter(
        Q(last_name__icontains=word)
        | Q(first_name__icontains=word)
        | Q(second_name__icontains=word)
        | Q(tax_id=word.upper())
    )
    emails = Party.objects.filter(user__email__icontains=word)
    return Q(party__in=names.values("pk").union(emails.values("pk")))


class PagedByIds:
    """A list for Django's `Paginator` or the API's `PagePagination` whose page query picks its rows by
    their ids first.

    `OFFSET n` over the list's query would join the person and place of each of the n skipped rows
    (page 200: about 5,000); here the page's ids are a subquery read from `employee_list_idx` alone,
    and only the page's rows are joined: one query whatever the page (and one to count).
    """

    def __init__(self, queryset: QuerySet, rows: QuerySet):
        self._queryset = queryset  # filtered and ordered
        self._rows = rows  # what is read of each row shown

    def count(self) -> int:
        return self._queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice):
            raise TypeError("PagedByIds is read a page (a slice) at a time")
        page = self._rows.filter(pk__in=self._queryset.values("pk")[index])
        return list(page.order_by(*self._queryset.query.order_by))


# What a list of employees shows (the staff page, GET /api/employees); the doctor's education, the
# person's documents and the place's addresses and hours stay in the database.
_LIST_FIELDS = (
    "legal_entity",
    "party",
    "division",
    "employee_type",
    "position",
    "status",
    "start_date",
    "end_date",
    "party__last_name",
    "party__first_name",
    "party__second_name",
    "party__no_tax_id",
    "division__legal_entity",
    "division__name",
    "division__type",
    "division__status",
)


def employee_pages(*, legal_entity: LegalEntity, **filters) -> PagedByIds:
    """`employee_list` to page (`PagedByIds`), the rows with what a list shows: the person's names, the
    place's, and `specialities` (the doctor block's, else None); the facility is the one given."""
    return PagedByIds(
        employee_list(legal_entity=legal_entity, **filters),
        legal_entity.employees.select_related("party", "division")
        .only(*_LIST_FIELDS)
        .annotate(specialities=KeyTransform("specialities", "additional_info")),
    )


def employee_get(*, legal_entity: LegalEntity, employee_id) -> Employee:
    """One employee of the facility with their person, login and place of service; 404 otherwise."""
    try:
        return Employee.objects.select_related("party__user", "division", "legal_entity").get(
            pk=employee_id, legal_entity=legal_entity
        )
    except (Employee.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


@dataclass(frozen=True)
class EmployeeChange:
    """One recorded version of an employee: when, by whom, what changed (field labels)."""

    when: datetime
    who: object  # the User, or None for a change nobody made (a job)
    kind: str  # "+" created, "~" changed, "-" deleted
    fields: tuple[str, ...]
    reason: str


def employee_history(*, employee: Employee) -> list[EmployeeChange]:
    """Every recorded version of the employee, newest first, with the fields each one changed.

    Two queries (the versions with their authors); the differences are computed in memory.
    """
    versions = list(employee.history.select_related("history_user").order_by("-history_date", "-history_id"))
    labels = {field.name: str(field.verbose_name) for field in Employee._meta.fields}
    changes = []
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        fields: tuple[str, ...] = ()
        if previous is not None and version.history_type == "~":
            delta = version.diff_against(previous, foreign_keys_are_objs=False)
            fields = tuple(
                labels.get(name, name) for name in delta.changed_fields if name not in _HISTORY_HIDDEN
            )
        changes.append(
            EmployeeChange(
                when=version.history_date,
                who=version.history_user,
                kind=version.history_type,
                fields=fields,
                reason=version.history_change_reason or "",
            )
        )
    return changes


def employee_request_list(
    *, legal_entity: LegalEntity, status: str | None = None
) -> QuerySet[EmployeeRequest]:
    """The facility's invitations, newest first (`employee_request_le_idx`), with the facility joined."""
    queryset = EmployeeRequest.objects.filter(legal_entity=legal_entity)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("legal_entity").order_by("-created_at", "-pk")


def employee_request_get(*, legal_entity: LegalEntity, employee_request_id) -> EmployeeRequest:
    """One invitation of the facility; 404 for another facility's or an unknown one."""
    try:
        return EmployeeRequest.objects.select_related("legal_entity").get(
            pk=employee_request_id, legal_entity=legal_entity
        )
    except (EmployeeRequest.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


def employee_request_of_invitee(*, user, employee_request_id) -> EmployeeRequest:
    """An invitation answered by the invitee themselves (the API's approve and reject).

    404 for an unknown id; 403 (PermissionDenied) when the signed-in user's email is not the
    invitation's, before anything about the invitation (its status) is told — as eHealth's
    approve/reject check the user first.
    """
    try:
        request = EmployeeRequest.objects.select_related("legal_entity").get(pk=employee_request_id)
    except (EmployeeRequest.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if (getattr(user, "email", "") or "").lower() != request.email.lower():
        raise PermissionDenied
    return request
