"""Shared fixtures of the declarations tests: reference data, a clinic with its doctors, keys, a patient.

def test_x(clinic, doctor_key, pki):
    clinic.legal_entity, clinic.division          # an ACTIVE facility and its ACTIVE place of service
    clinic.family_doctor / therapist / paediatrician   # APPROVED DOCTOR employees (each with a user)
    clinic.receptionist, clinic.head             # users: ADMIN and OWNER of the facility
    pki.sign(doctor_key, content)                # signed by the family doctor (DRFO = party.tax_id)

`clinic_make()` builds another facility the same way (`other_clinic` is one), `doctor_credential(pki,
employee)` a key for any doctor, `patient_register(data)` a registered patient (declarations.Person)
from a `tests.declaration_data.person()` payload, `phone_verified(number)` a phone confirmed earlier.
Through the services: `request_create(clinic, data)` → `request_approve(request)` (the code read from
the SMS) → `request_sign(request, pki)`; `declaration_signed(clinic, pki, data)` does all three;
`sms_code(phone)` is the code of the phone's latest SMS.
"""

import datetime
import itertools
import re
from dataclasses import dataclass

import pytest

from declarations.models import Person, VerifiedPhone
from registry.models import Division, Employee, LegalEntity
from tests.declaration_data import declaration_request
from tests.declaration_data import person as person_payload
from tests.factories import EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory
from tests.registry import conftest as registry_fixtures
from tests.registry.divisions_data import division_at
from tests.staff_data import rnokpp

# The registry's fixtures, shared here: the reference data, its test PKI and on-commit callbacks.
reference_data = registry_fixtures.reference_data
_registration_pki = registry_fixtures._registration_pki
pki = registry_fixtures.pki
run_on_commit = registry_fixtures.run_on_commit

_serial = itertools.count(500)

SPECIALITY_POSITIONS = {"FAMILY_DOCTOR": "P7", "THERAPIST": "P10", "PEDIATRICIAN": "P8"}


def speciality(code: str = "FAMILY_DOCTOR", **overrides) -> dict:
    """A doctor's main speciality as the registry keeps it (Employee.speciality)."""
    return {
        "speciality": code,
        "speciality_officio": True,
        "level": "FIRST",
        "qualification_type": "AWARDING",
        "attestation_name": "Атестаційна комісія МОЗ України",
        "attestation_date": "2019-05-20",
        "valid_to_date": "2029-05-20",
        "certificate_number": "АТ-2019-555",
        **overrides,
    }


def party_make(*, last_name: str, first_name: str, second_name: str = "Олександрович", user=None, **fields):
    birth_date = fields.pop("birth_date", datetime.date(1980, 2, 1))
    return PartyFactory(
        user=user if user is not None else UserFactory(),
        last_name=last_name,
        first_name=first_name,
        second_name=second_name,
        birth_date=birth_date,
        gender=fields.pop("gender", "MALE"),
        tax_id=fields.pop("tax_id", None) or rnokpp(birth_date, serial=next(_serial)),
        phones=[{"type": "MOBILE", "number": "+380509990011"}],
        **fields,
    )


def doctor_make(
    legal_entity: LegalEntity,
    division: Division,
    *,
    speciality_code: str = "FAMILY_DOCTOR",
    party=None,
    last_name: str = "Шевченко",
    **fields,
) -> Employee:
    """An APPROVED, active DOCTOR employee of the facility with a main speciality (and a user)."""
    party = party or party_make(last_name=last_name, first_name="Тарас")
    return EmployeeFactory(
        legal_entity=legal_entity,
        division=division,
        party=party,
        employee_type="DOCTOR",
        position=SPECIALITY_POSITIONS.get(speciality_code, "P7"),
        start_date=datetime.date(2020, 1, 1),
        speciality=speciality(speciality_code),
        additional_info={"specialities": [speciality(speciality_code)]},
        **fields,
    )


@dataclass
class Clinic:
    legal_entity: LegalEntity
    division: Division
    head: object  # user (OWNER)
    receptionist: object  # user (ADMIN)
    family_doctor: Employee
    therapist: Employee
    paediatrician: Employee

    @property
    def doctor(self) -> Employee:
        return self.family_doctor


def clinic_make(*, name_suffix: str = "") -> Clinic:
    legal_entity = LegalEntityFactory(
        addresses=[
            {
                "type": "REGISTRATION",
                "country": "UA",
                "area": "М.КИЇВ",
                "settlement": "Київ",
                "settlement_type": "CITY",
                "street_type": "STREET",
                "street": "Хрещатик",
                "building": "1",
                "zip": "01001",
            }
        ],
    )
    head = UserFactory()
    EmployeeFactory(
        legal_entity=legal_entity,
        party=party_make(last_name="Коваленко", first_name="Олена", gender="FEMALE", user=head),
        start_date=datetime.date(2020, 1, 1),
    )
    division = division_at(legal_entity, name=f"Амбулаторія на Хрещатику{name_suffix}")
    receptionist = UserFactory()
    EmployeeFactory(
        legal_entity=legal_entity,
        division=division,
        party=party_make(last_name="Мельник", first_name="Оксана", gender="FEMALE", user=receptionist),
        employee_type="ADMIN",
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    return Clinic(
        legal_entity=legal_entity,
        division=division,
        head=head,
        receptionist=receptionist,
        family_doctor=doctor_make(legal_entity, division, last_name="Шевченко"),
        therapist=doctor_make(legal_entity, division, speciality_code="THERAPIST", last_name="Бойко"),
        paediatrician=doctor_make(
            legal_entity, division, speciality_code="PEDIATRICIAN", last_name="Ткаченко"
        ),
    )


@pytest.fixture
def clinic(reference_data) -> Clinic:
    return clinic_make()


@pytest.fixture
def other_clinic(reference_data) -> Clinic:
    return clinic_make(name_suffix=" (інший заклад)")


def doctor_credential(pki, employee: Employee):
    """A devpki key of the doctor: a certificate whose DRFO is the doctor's RNOKPP."""
    party = employee.party
    return pki.person(
        surname=party.last_name,
        given_names=f"{party.first_name} {party.second_name}".strip(),
        drfo=party.tax_id,
        edrpou=None,
    )


@pytest.fixture
def doctor_key(clinic, pki):
    """The family doctor's key (sign with `pki.sign(doctor_key, content)`)."""
    return doctor_credential(pki, clinic.family_doctor)


def phone_verified(phone_number: str) -> VerifiedPhone:
    """The patient proved this phone with an SMS code earlier (eHealth's verified_phones)."""
    return VerifiedPhone.objects.update_or_create(
        phone_number=phone_number, defaults={"verified_at": datetime.datetime.now(tz=datetime.UTC)}
    )[0]


def patient_register(data: dict | None = None, *, actor=None) -> Person:
    """A registered patient from a person payload, through the patient register's own service."""
    from declarations.services.patients import person_create

    return person_create(actor=actor, data=data or person_payload())


@pytest.fixture
def patient(reference_data) -> Person:
    """A registered adult patient confirming by SMS, whose phone is verified."""
    data = person_payload()
    phone_verified(data["authentication_methods"][0]["phone_number"])
    return patient_register(data)


# --- Requests through their services -------------------------------------------------------------------


def sms_code(phone_number: str) -> str:
    """The code of the latest SMS to the phone, as the patient reads it."""
    from declarations.models import SmsMessage

    body = SmsMessage.objects.filter(phone_number=phone_number).latest("created_at", "pk").body
    return re.search(r"\b\d{4}\b", body).group()


def request_create(clinic: Clinic, data: dict | None = None, *, doctor: Employee | None = None, actor=None):
    """A NEW request of `data` (a person payload; the default adult) with the clinic's family doctor (or
    `doctor`), made by the receptionist; every OTP phone of the person verified first."""
    from declarations.services import declaration_request_create

    person = data or person_payload()
    for method in person["authentication_methods"]:
        if method.get("phone_number"):
            phone_verified(method["phone_number"])
    doctor = doctor or clinic.family_doctor
    return declaration_request_create(
        legal_entity=clinic.legal_entity,
        actor=actor or clinic.receptionist,
        data=declaration_request(person=person, employee_id=doctor.pk, division_id=clinic.division.pk),
    )


def request_approve(declaration_request, *, actor=None):
    """The patient confirms: the code from the SMS for OTP, nothing more otherwise."""
    from declarations.services import declaration_request_approve

    method = declaration_request.authentication_method_current
    code = sms_code(method["number"]) if method.get("type") == "OTP" else None
    return declaration_request_approve(
        declaration_request=declaration_request,
        actor=actor or declaration_request.created_by,
        verification_code=code,
    )


def request_sign(declaration_request, pki, *, employee: Employee | None = None, detached: bool = False):
    """The request's doctor signs exactly what the portal serves, with their own key."""
    from declarations.services import declaration_request_sign, declaration_request_signable_bytes

    employee = employee or declaration_request.employee
    envelope = pki.sign(
        doctor_credential(pki, employee),
        declaration_request_signable_bytes(declaration_request),
        detached=detached,
    )
    return declaration_request_sign(
        declaration_request=declaration_request, actor=employee.party.user, signed_envelope=envelope
    )


def declaration_signed(clinic: Clinic, pki, data: dict | None = None, *, doctor: Employee | None = None):
    """A signed declaration of the patient (`data`) with the clinic's doctor, through every step."""
    request = request_approve(request_create(clinic, data, doctor=doctor))
    return request_sign(request, pki)
