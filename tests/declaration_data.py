"""Valid eHealth 2019 declaration payloads for the declarations tests (change what a test is about only).

`person(...)` is an adult patient confirming by SMS (OTP), `child(...)` a child with a PRIMARY confidant
person, `declaration_request(...)` the inside of `{"declaration_request": {...}}`. Overrides replace
top-level members of the person; `birth_date` may be a date.
"""

import copy
import datetime

from django.utils import timezone

from tests.staff_data import rnokpp

PATIENT_PHONE = "+380671112233"
CONFIDANT_PHONE = "+380671114455"

RESIDENCE = {
    "type": "RESIDENCE",
    "country": "UA",
    "area": "М.КИЇВ",
    "settlement": "Київ",
    "settlement_type": "CITY",
    "street_type": "STREET",
    "street": "Хрещатик",
    "building": "15",
    "apartment": "23",
    "zip": "01001",
}
REGISTRATION = {**RESIDENCE, "type": "REGISTRATION", "street": "Басейна", "building": "7"}

EMERGENCY_CONTACT = {
    "first_name": "Ольга",
    "last_name": "Петренко",
    "second_name": "Іванівна",
    "phones": [{"type": "MOBILE", "number": "+380501234500"}],
}


def years_ago(years: int, *, days: int = 0, today: datetime.date | None = None) -> datetime.date:
    """The date `years` full years before today (29 February → 28), then `days` later."""
    today = today or timezone.localdate()  # the portal's day, as the services count ages
    try:
        date = today.replace(year=today.year - years)
    except ValueError:
        date = today.replace(year=today.year - years, day=28)
    return date + datetime.timedelta(days=days)


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else value


def person(**overrides) -> dict:
    """An adult patient (born 1990-04-12) with an RNOKPP, a passport, one RESIDENCE, OTP by SMS."""
    birth_date = _iso(overrides.pop("birth_date", "1990-04-12"))
    data = {
        "first_name": "Петро",
        "last_name": "Іваненко",
        "second_name": "Миколайович",
        "birth_date": birth_date,
        "birth_country": "Україна",
        "birth_settlement": "Київ",
        "gender": "MALE",
        "tax_id": rnokpp(datetime.date.fromisoformat(birth_date), serial=4321),  # the same patient each call
        "no_tax_id": False,
        "email": "petro.ivanenko@example.com",
        "secret": "Квітка2024",
        "documents": [
            {
                "type": "PASSPORT",
                "number": "КВ123456",
                "issued_by": "Шевченківський РВ",
                "issued_at": "2010-05-01",
            }
        ],
        "addresses": [copy.deepcopy(RESIDENCE), copy.deepcopy(REGISTRATION)],
        "phones": [{"type": "MOBILE", "number": PATIENT_PHONE}],
        "authentication_methods": [{"type": "OTP", "phone_number": PATIENT_PHONE}],
        "emergency_contact": copy.deepcopy(EMERGENCY_CONTACT),
        "preferred_way_communication": "phone",
        "patient_signed": False,
        "process_disclosure_data_consent": True,
    }
    data.update(overrides)
    return data


_adult = person


def adult(serial: int, **overrides) -> dict:
    """Another adult patient: their own RNOKPP and passport (the same verified phone)."""
    birth_date = datetime.date(1990, 4, 12)
    return person(
        tax_id=rnokpp(birth_date, serial=serial),
        documents=[{"type": "PASSPORT", "number": f"КВ{serial:06d}"}],
        **overrides,
    )


def confidant(**overrides) -> dict:
    """The PRIMARY confidant person of a child (the mother)."""
    birth_date = _iso(overrides.pop("birth_date", "1988-09-03"))
    return {
        "relation_type": "PRIMARY",
        "first_name": "Ірина",
        "last_name": "Іваненко",
        "second_name": "Олегівна",
        "birth_date": birth_date,
        "birth_country": "Україна",
        "birth_settlement": "Львів",
        "gender": "FEMALE",
        "tax_id": rnokpp(datetime.date.fromisoformat(birth_date), serial=8765),
        "secret": "Сонечко7",
        "documents_person": [{"type": "NATIONAL_ID", "number": "001234568", "issued_by": "8001"}],
        "documents_relationship": [
            {"type": "BIRTH_CERTIFICATE", "number": "І-КВ 654321", "issued_by": "РАЦС"}
        ],
        "phones": [{"type": "MOBILE", "number": CONFIDANT_PHONE}],
        **overrides,
    }


def child(*, age: int = 7, **overrides) -> dict:
    """A child of `age` (birthday in 100 days) with a birth certificate and a PRIMARY confidant person."""
    birth_date = overrides.pop("birth_date", None) or years_ago(age + 1, days=100)
    data = person(
        first_name="Марійка",
        second_name="Петрівна",
        gender="FEMALE",
        birth_date=_iso(birth_date),
        documents=[{"type": "BIRTH_CERTIFICATE", "number": "І-КВ 123456", "issued_by": "Київський РАЦС"}],
        confidant_person=[confidant()],
        authentication_methods=[{"type": "OTP", "phone_number": CONFIDANT_PHONE}],
        phones=[{"type": "MOBILE", "number": CONFIDANT_PHONE}],
        email="iryna.ivanenko@example.com",
    )
    data.pop("tax_id")
    data.update(overrides)
    return data


def offline(person_data: dict) -> dict:
    """The same patient confirming by documents (OFFLINE)."""
    return {**person_data, "authentication_methods": [{"type": "OFFLINE"}]}


def declaration_request(*, person: dict | None = None, employee_id, division_id, **overrides) -> dict:
    """The inside of `{"declaration_request": {...}}` for a doctor and a division (ids or objects)."""
    data = {
        "person": person if person is not None else _adult(),
        "employee_id": str(getattr(employee_id, "pk", employee_id)),
        "division_id": str(getattr(division_id, "pk", division_id)),
        "scope": "family_doctor",
    }
    data.update(overrides)
    return data
