"""Places of service for the division tests: a valid eHealth payload and a facility with its people.

`division_payload(...)` is eHealth's division_create_request (change what a test is about, nothing
else); `clinic_with_people()` is an ACTIVE, public facility (its head confirmed) with a place of
service, its head, a doctor working there (division:read only) and another facility with its place.
"""

import copy
import datetime
from dataclasses import dataclass

from registry.models import Division, Employee, LegalEntity
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory

ADDRESS = {
    "type": "RESIDENCE",
    "country": "UA",
    "area": "М.КИЇВ",
    "settlement": "Київ",
    "settlement_type": "CITY",
    "street_type": "STREET",
    "street": "Хрещатик",
    "building": "5",
    "zip": "01001",
}

DIVISION = {
    "name": "Амбулаторія загальної практики № 2",
    "type": "AMBULANT_CLINIC",
    "addresses": [ADDRESS],
    "phones": [{"type": "MOBILE", "number": "+380501112233"}],
    "email": "Ambulatory2@Clinic.example",
    "location": {"latitude": 50.4472, "longitude": 30.5226},
    "working_hours": {"mon": [["13.00", "17.00"], ["08.00", "12.00"]], "sat": [["09.00", "13.00"]]},
}


def division_payload(**overrides) -> dict:
    return {**copy.deepcopy(DIVISION), **overrides}


def division_at(legal_entity: LegalEntity, **fields) -> Division:
    """A stored place of service as the services leave one (a complete, valid payload)."""
    defaults = {
        "type": "CLINIC",
        "addresses": [{**ADDRESS, "building": "1"}],
        "phones": [{"type": "LAND_LINE", "number": "+380441234567"}],
        "latitude": 50.4501,
        "longitude": 30.5234,
    }
    return DivisionFactory(legal_entity=legal_entity, **{**defaults, **fields})


def doctor_at(
    division: Division, *, last_name: str = "Шевченко", speciality: str = "FAMILY_DOCTOR", **fields
):
    """A doctor working at the place (active, APPROVED), with a login of their own."""
    party = PartyFactory(
        user=UserFactory(), last_name=last_name, first_name="Тарас", second_name="Григорович"
    )
    return EmployeeFactory(
        legal_entity=division.legal_entity,
        division=division,
        party=party,
        employee_type="DOCTOR",
        position="P1",
        speciality={"speciality": speciality, "speciality_officio": True, "level": "FIRST"},
        **fields,
    )


@dataclass
class Clinic:
    legal_entity: LegalEntity
    division: Division
    head: object  # the head's user (OWNER: every division scope)
    doctor: object  # a doctor's user (division:read only)
    doctor_employee: Employee
    other_division: Division  # another facility's place


def clinic_with_people() -> Clinic:
    legal_entity = LegalEntityFactory()
    head = UserFactory()
    EmployeeFactory(
        legal_entity=legal_entity, party=PartyFactory(user=head), start_date=datetime.date(2020, 1, 1)
    )
    division = division_at(legal_entity, name="Амбулаторія на Хрещатику")
    doctor = doctor_at(division)
    other = LegalEntityFactory()
    EmployeeFactory(legal_entity=other)
    return Clinic(
        legal_entity=legal_entity,
        division=division,
        head=head,
        doctor=doctor.party.user,
        doctor_employee=doctor,
        other_division=division_at(other, name="Чужа амбулаторія"),
    )


def division_state(division: Division) -> tuple:
    """What a refused change must leave as it was: the row's data and its history."""
    division.refresh_from_db()
    return (
        division.name,
        division.status,
        division.addresses,
        division.latitude,
        division.working_hours,
        division.updated_at,
        division.history.count(),
    )
