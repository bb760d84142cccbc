"""Who may do what in a facility: the one place pages and API endpoints ask.

A person's rights in a facility are the eHealth scopes of the roles they hold there — an active,
APPROVED employee of an ACTIVE facility, by `employee_type` — so a dismissed employee or a closed
facility loses them at once. The role table is eHealth's (ehealth-api.md §7: Mithril's
`fixtures/roles`); the portal's MIS access will intersect the same scopes with a MIS's allowed ones.

HR, ACCOUNTANT and ASSISTANT have no fixture in the reference. Decided here: HR keeps the staff and the
places of service (the seeds: HR registers doctors and other staff); an accountant and an assistant
read the facility, its places and staff, and an assistant also what a doctor reads of declarations.
A doctor, the head and a receptionist (ADMIN) keep patients and take declaration requests through the
patient's confirmation (`DECLARATION_KEEPING`, as eHealth's ADMIN role does); only a doctor signs.
"""

from django.db.models import QuerySet

from .models import Employee, LegalEntity

# What an administrator and an HR officer do alike: keep the staff and the places of service.
STAFF_KEEPING = frozenset(
    {
        "division:read",
        "division:write",
        "division:details",
        "division:activate",
        "division:deactivate",
        "employee:read",
        "employee:write",
        "employee:details",
        "employee:deactivate",
        "employee_request:read",
        "employee_request:write",
        "employee_request:approve",
        "employee_request:reject",
        "legal_entity:read",
    }
)

# What a doctor and a receptionist do alike with patients: find and register them, take a declaration
# request through the patient's confirmation (signing is the doctor's), read and end declarations.
DECLARATION_KEEPING = frozenset(
    {
        "declaration:read",
        "declaration:terminate",
        "declaration_request:read",
        "declaration_request:write",
        "declaration_request:approve",
        "declaration_request:reject",
        "otp:read",
        "otp:write",
        "person:read",
        "person:write",
    }
)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "OWNER": STAFF_KEEPING | DECLARATION_KEEPING | {"client:read", "secret:refresh"},
    "DOCTOR": DECLARATION_KEEPING
    | frozenset(
        {
            "declaration_request:sign",
            "division:read",
            "employee:read",
            "employee_request:approve",
            "employee_request:reject",
            "legal_entity:read",
        }
    ),
    "ADMIN": STAFF_KEEPING | DECLARATION_KEEPING,
    "HR": STAFF_KEEPING,
    "ACCOUNTANT": frozenset({"division:read", "employee:read", "legal_entity:read"}),
    "ASSISTANT": frozenset(
        {
            "declaration:read",
            "declaration_request:read",
            "division:read",
            "employee:read",
            "legal_entity:read",
            "person:read",
        }
    ),
}


def employees_working(user) -> QuerySet[Employee]:
    """The user's jobs that give rights now: active, APPROVED, at an ACTIVE facility."""
    return Employee.objects.filter(
        party__user=user,
        is_active=True,
        status=Employee.Status.APPROVED,
        legal_entity__status=LegalEntity.Status.ACTIVE,
        legal_entity__is_active=True,
    )


def roles_of(user, legal_entity) -> frozenset[str]:
    """The roles the user holds in the facility now (one query; none for an anonymous user)."""
    if not getattr(user, "is_authenticated", False) or legal_entity is None:
        return frozenset()
    return frozenset(
        employees_working(user).filter(legal_entity=legal_entity).values_list("employee_type", flat=True)
    )


def scopes_of(user, legal_entity) -> frozenset[str]:
    """Every eHealth scope the user has in the facility: the union of their roles' scopes."""
    return frozenset().union(*(ROLE_SCOPES.get(role, frozenset()) for role in roles_of(user, legal_entity)))


def can(user, legal_entity, scope: str) -> bool:
    """May the user do `scope` (e.g. "employee_request:write") in this facility now?"""
    if scope not in ALL_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")  # a typo must not quietly refuse (or allow)
    return scope in scopes_of(user, legal_entity)


def facilities_of(user) -> QuerySet[LegalEntity]:
    """The facilities the user works at now (a person may work at several)."""
    if not getattr(user, "is_authenticated", False):
        return LegalEntity.objects.none()
    return LegalEntity.objects.filter(pk__in=employees_working(user).values("legal_entity"))


ALL_SCOPES = frozenset().union(*ROLE_SCOPES.values())
