"""Signed declarations for the lifecycle tests (termination, verification, the cabinet's list), made
directly: the requests' services make them in real flows, these tests are about what comes after.

    declaration = declaration_make(clinic)                      # an active one, with a new patient
    declaration_make(clinic, status="pending_verification", employee=clinic.therapist)
"""

import datetime
import itertools

from django.utils import timezone

from declarations.models import Declaration, DeclarationRequest, Person
from tests.declaration_data import person as person_payload
from tests.staff_data import rnokpp

from .conftest import Clinic, patient_register

_numbers = itertools.count(1)
SURNAMES = ["Іваненко", "Петренко", "Сидоренко", "Коваль", "Бондар", "Ткачук", "Мороз", "Лисенко"]
FIRST_NAMES = ["Петро", "Ганна", "Остап", "Марія", "Богдан", "Леся", "Тарас"]


def patient_make(number: int | None = None) -> Person:
    """A registered adult patient of its own (RNOKPP and passport unique to `number`)."""
    number = next(_numbers) if number is None else number
    data = person_payload(
        last_name=SURNAMES[number % len(SURNAMES)],
        first_name=FIRST_NAMES[number % len(FIRST_NAMES)],
        tax_id=rnokpp(datetime.date(1990, 4, 12), serial=5000 + number),
    )
    data["documents"][0]["number"] = f"КВ{100000 + number:06d}"
    return patient_register(data)


def declaration_make(
    clinic: Clinic,
    *,
    patient: Person | None = None,
    employee=None,
    status: str = Declaration.Status.ACTIVE,
    signed_at: datetime.datetime | None = None,
    **fields,
) -> Declaration:
    """A declaration as signing leaves it (with its SIGNED request) with the clinic's family doctor."""
    number = next(_numbers)
    patient = patient or patient_make(number)
    employee = employee or clinic.family_doctor
    today = timezone.localdate()
    declaration_number = f"0001-{number:04d}-{number % 9999:04d}"
    request = DeclarationRequest.objects.create(
        legal_entity=clinic.legal_entity,
        employee=employee,
        division=clinic.division,
        person=patient,
        person_key=f"tax_id:{patient.tax_id}",
        data={
            "person": {
                "last_name": patient.last_name,
                "first_name": patient.first_name,
                "secret": "Квітка2024",
            }
        },
        status=DeclarationRequest.Status.SIGNED,
        declaration_number=declaration_number,
        seed="a" * 64,
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    return Declaration.objects.create(
        id=request.declaration_id,
        declaration_number=declaration_number,
        declaration_request=request,
        person=patient,
        employee=employee,
        division=clinic.division,
        legal_entity=clinic.legal_entity,
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
        status=status,
        signed_at=signed_at or timezone.now(),
        **fields,
    )


def request_make(clinic: Clinic, *, status: str, employee=None) -> DeclarationRequest:
    """A request of the clinic's family doctor still waiting (NEW) or approved by the patient."""
    number = next(_numbers)
    patient = patient_make(number)
    today = timezone.localdate()
    return DeclarationRequest.objects.create(
        legal_entity=clinic.legal_entity,
        employee=employee or clinic.family_doctor,
        division=clinic.division,
        person=patient,
        person_key=f"tax_id:{patient.tax_id}",
        data={"person": {"last_name": patient.last_name}},
        status=status,
        declaration_number=f"0002-{number:04d}-{number % 9999:04d}",
        seed="b" * 64,
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )


def declaration_state(declaration: Declaration) -> tuple:
    """What a refused change must leave as it was: the row and its history."""
    declaration.refresh_from_db()
    return (
        declaration.status,
        declaration.reason,
        declaration.reason_description,
        declaration.updated_by_id,
        declaration.updated_at,
        declaration.history.count(),
    )


def admin_samples(division) -> Declaration:
    """One record of each declarations model the admin shows (for the admin's screen tests): a
    patient, a request with a scan, its declaration waiting for verification, an SMS code, an SMS."""
    from django.core.files.base import ContentFile

    from declarations.models import DeclarationRequestDocument, SmsMessage, Verification
    from tests.factories import EmployeeFactory, PartyFactory

    doctor = EmployeeFactory(
        legal_entity=division.legal_entity,
        division=division,
        party=PartyFactory(last_name="Шевченко", first_name="Тарас"),
        employee_type="DOCTOR",
        position="P7",
        speciality={"speciality": "FAMILY_DOCTOR", "speciality_officio": True, "level": "FIRST"},
    )
    data = person_payload(tax_id=rnokpp(datetime.date(1990, 4, 12), serial=9999))
    patient = Person(
        last_name=data["last_name"],
        first_name=data["first_name"],
        second_name=data["second_name"],
        birth_date=datetime.date(1990, 4, 12),
        birth_country=data["birth_country"],
        birth_settlement=data["birth_settlement"],
        gender=data["gender"],
        tax_id=data["tax_id"],
        documents=data["documents"],
        addresses=data["addresses"],
        phones=data["phones"],
        emergency_contact=data["emergency_contact"],
        authentication_method="OFFLINE",
    )
    patient.secret = data["secret"]
    patient.save()
    clinic = Clinic(
        legal_entity=division.legal_entity,
        division=division,
        head=None,
        receptionist=None,
        family_doctor=doctor,
        therapist=doctor,
        paediatrician=doctor,
    )
    declaration = declaration_make(
        clinic, patient=patient, status=Declaration.Status.PENDING_VERIFICATION, reason="offline"
    )
    DeclarationRequest.objects.filter(pk=declaration.declaration_request_id).update(
        data={"person": data},
        signer={"surname": "Шевченко", "given_names": "Тарас", "drfo": doctor.party.tax_id},
    )
    DeclarationRequestDocument.objects.create(
        declaration_request_id=declaration.declaration_request_id,
        type="person.PASSPORT",
        file=ContentFile(PNG, name="passport.png"),
        content_type="image/png",
        size=len(PNG),
    )
    Verification.objects.create(
        phone_number=data["phones"][0]["number"],
        code_hash="pbkdf2_sha256$1$salt$hash",
        code_expired_at=timezone.now() + datetime.timedelta(minutes=15),
    )
    SmsMessage.objects.create(
        phone_number=data["phones"][0]["number"], body="Код авторизації дій в системі eHealth: 4821"
    )
    return declaration


# A 1×1 PNG (a scan as the upload lets it in: checked by content).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
