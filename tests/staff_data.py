"""Valid eHealth employee-request payloads for the staff tests (change what a test is about, nothing else).

`employee_request(...)` returns the inside of `{"employee_request": {...}}`; the eHealth api-spec's own
example bodies are in tests/registry/data/ (made valid with real codes and dictionary values).
"""

import datetime
import itertools

_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)
_serial = itertools.count(1)


def rnokpp(birth_date: datetime.date = datetime.date(1985, 3, 14), serial: int | None = None) -> str:
    """A valid RNOKPP for a birth date (days since 1899-12-31, a serial, eHealth's check digit)."""
    days = (birth_date - datetime.date(1899, 12, 31)).days
    body = f"{days:05d}{(serial if serial is not None else next(_serial)) % 10000:04d}"
    check = sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True)) % 11 % 10
    return body + str(check)


def party(**overrides) -> dict:
    birth_date = overrides.pop("birth_date", "1985-03-14")
    return {
        "last_name": "Шевченко",
        "first_name": "Тарас",
        "second_name": "Григорович",
        "tax_id": rnokpp(datetime.date.fromisoformat(birth_date)),
        "no_tax_id": False,
        "birth_date": birth_date,
        "gender": "MALE",
        "email": f"staff{next(_serial)}@clinic.example",
        "documents": [
            {"type": "PASSPORT", "number": "АА123456", "issued_by": "Київський РВ", "issued_at": "2005-04-01"}
        ],
        "phones": [{"type": "MOBILE", "number": "+380501112233"}],
        **overrides,
    }


def doctor(**overrides) -> dict:
    return {
        "educations": [
            {
                "country": "UA",
                "city": "Київ",
                "institution_name": "Національний медичний університет імені О. О. Богомольця",
                "issued_date": "2008-06-30",
                "diploma_number": "КВ 12345678",
                "degree": "MASTER",
                "speciality": "Лікувальна справа",
            }
        ],
        "qualifications": [
            {
                "type": "INTERNSHIP",
                "institution_name": "Національна медична академія післядипломної освіти",
                "speciality": "Загальна практика — сімейна медицина",
                "issued_date": "2010-06-30",
                "certificate_number": "2010-1234",
            }
        ],
        "specialities": [
            {
                "speciality": "FAMILY_DOCTOR",
                "speciality_officio": True,
                "level": "FIRST",
                "qualification_type": "AWARDING",
                "attestation_name": "Атестаційна комісія МОЗ України",
                "attestation_date": "2019-05-20",
                "valid_to_date": "2029-05-20",
                "certificate_number": "АТ-2019-555",
            }
        ],
        **overrides,
    }


def employee_request(employee_type: str = "DOCTOR", *, division_id=None, **overrides) -> dict:
    """A NEW request; a DOCTOR one needs `division_id` (a division of the inviting facility)."""
    payload = {
        "position": "P1" if employee_type == "DOCTOR" else "P4",
        "start_date": datetime.date.today().isoformat(),
        "status": "NEW",
        "employee_type": employee_type,
        "party": party(**overrides.pop("party", {})),
    }
    if division_id is not None:
        payload["division_id"] = str(division_id)
    if employee_type == "DOCTOR":
        payload["doctor"] = doctor(**overrides.pop("doctor", {}))
    payload.update(overrides)
    return payload
