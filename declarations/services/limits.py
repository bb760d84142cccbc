"""A doctor's declaration limit (ehealth-api.md §4.5 step 4) and whether they accept new patients.

The limit of a person who works as a doctor (a `Party`) is the smallest limit of the main specialities
of their active, APPROVED DOCTOR jobs, at any facility (global parameters `declaration_limit_<speciality>`:
2000 therapist, 900 paediatrician, 1800 family doctor; none set: no limit). What counts against it: the
current declarations (active or waiting for verification) of those jobs and their requests the patient
has approved (each will become a declaration when the doctor signs).
"""

from django.db.models import Q

from ehealth_portal.history import update_recorded
from registry.models import Employee, Party
from registry.selectors import global_parameter_declaration_limit

from ..models import Declaration, DeclarationRequest

DOCTOR = "DOCTOR"


def doctor_jobs(party) -> list[Employee]:
    """The person's active, APPROVED DOCTOR jobs (all facilities)."""
    party_id = getattr(party, "pk", party)
    return list(
        Employee.objects.filter(
            party_id=party_id, employee_type=DOCTOR, status=Employee.Status.APPROVED, is_active=True
        ).only("pk", "speciality")
    )


def doctor_limit(jobs: list[Employee]) -> int | None:
    """The smallest limit of the jobs' main specialities; None when none of them has a limit."""
    limits = [
        global_parameter_declaration_limit(speciality_type=speciality)
        for speciality in {(job.speciality or {}).get("speciality") for job in jobs}
        if speciality
    ]
    limits = [limit for limit in limits if limit is not None]
    return min(limits) if limits else None


def doctor_count(jobs: list[Employee], *, exclude_person_id=None) -> int:
    """Current declarations plus approved requests of the jobs (a patient's own declaration left out)."""
    employee_ids = [job.pk for job in jobs]
    if not employee_ids:
        return 0
    declarations = Declaration.objects.filter(employee_id__in=employee_ids, status__in=Declaration.CURRENT)
    if exclude_person_id is not None:
        declarations = declarations.filter(~Q(person_id=exclude_person_id))
    approved = DeclarationRequest.objects.filter(
        employee_id__in=employee_ids, status=DeclarationRequest.Status.APPROVED
    )
    return declarations.count() + approved.count()


def doctor_limit_status(party) -> tuple[int, int | None]:
    """(count, limit) of the person as a doctor; limit None: no limit."""
    jobs = doctor_jobs(party)
    return doctor_count(jobs), doctor_limit(jobs)


def doctor_party_lock(party_id) -> None:
    """Serialise, until the transaction ends, the changes that count against the person's limit (their
    `Party` row, locked FOR UPDATE on PostgreSQL; SQLite runs one write transaction at a time)."""
    Party.objects.select_for_update().filter(pk=party_id).values_list("pk", flat=True).first()


def doctor_availability_refresh(*, party_ids) -> int:
    """Set `Employee.accepts_new_patients` of these people's DOCTOR jobs from their count and limit,
    writing (and versioning) only the jobs whose value changes; returns how many changed."""
    changed = 0
    for party_id in {party_id for party_id in party_ids if party_id is not None}:
        count, limit = doctor_limit_status(party_id)
        accepts = limit is None or count < limit
        changed += update_recorded(
            Employee.objects.filter(party_id=party_id, employee_type=DOCTOR).exclude(
                accepts_new_patients=accepts
            ),
            reason="declaration limit",
            accepts_new_patients=accepts,
        )
    return changed
