"""The world of the declarations' authorization matrix (test_authorization.py), built once per module.

Facility A (`clinic_make`): its head, receptionist (ADMIN), family doctor — the doctor of every request and
declaration here — and therapist (another doctor of A), with an HR officer, an accountant and an assistant
added; facility B with its own doctors; a user who works nowhere. A's patients, each with their own
RNOKPP, passport and phone:

    new       a NEW request of A's family doctor, confirmed by SMS (its code in `world.code`)
    approved  an APPROVED request, waiting for the family doctor's signature (`world.signature` signs it)
    offline   a NEW request of a patient who confirms with documents (scans to upload)
    declared  an ACTIVE declaration with A's family doctor
"""

import base64
import datetime
import hashlib
from dataclasses import dataclass, field

from declarations import services
from declarations.models import Declaration, DeclarationRequest, Person
from registry.models import Division, LegalEntity
from tests.declaration_data import adult, offline
from tests.factories import EmployeeFactory, UserFactory
from tests.staff_data import rnokpp

from .conftest import Clinic, clinic_make, party_make, patient_register, phone_verified, sms_code
from .lifecycle_data import declaration_make

# An adult patient as a receptionist types them in (tests/declarations/test_patients_pages.py's FORM):
# none of the world's patients, so registering them is a new record.
PATIENT_FORM = {
    "last_name": "Іваненко",
    "first_name": "Петро",
    "second_name": "Миколайович",
    "birth_date": "1990-04-12",
    "gender": "MALE",
    "birth_country": "Україна",
    "birth_settlement": "Київ",
    "tax_id": rnokpp(datetime.date(1990, 4, 12), serial=7199),
    "document_type": "PASSPORT",
    "document_number": "КВ123456",
    "document_issued_by": "Шевченківський РВ",
    "document_issued_at": "2010-05-01",
    "residence_area": "М.КИЇВ",
    "residence_settlement_type": "CITY",
    "residence_settlement": "Київ",
    "residence_street_type": "STREET",
    "residence_street": "Хрещатик",
    "residence_building": "15",
    "residence_apartment": "23",
    "residence_zip": "01001",
    "registration_same": "on",
    "phone_mobile": "067 111 22 33",
    "email": "petro@example.com",
    "preferred_way_communication": "phone",
    "authentication_method": "OTP",
    "authentication_phone": "0671112233",
    "secret": "Квітка2024",
    "emergency_last_name": "Петренко",
    "emergency_first_name": "Ольга",
    "emergency_phone_type": "MOBILE",
    "emergency_phone": "+380501234500",
}

PHONES = {
    "new": "+380671110001",
    "approved": "+380671110002",
    "offline": "+380671110003",
    "declared": "+380671110004",
    "api": "+380671110005",  # the patient of a request made through the API
}
SERIALS = {"new": 7101, "approved": 7102, "offline": 7103, "declared": 7104, "api": 7105}

# A 1×1 PNG: a scan as the upload lets it in (checked by content).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class World:
    a: LegalEntity
    b: LegalEntity
    clinic: Clinic  # A
    division: Division  # A's active place of service
    patients: dict[str, Person]
    new: DeclarationRequest
    approved: DeclarationRequest
    offline: DeclarationRequest
    declaration: Declaration
    code: str  # the SMS code of the NEW request (and of its phone's verification)
    signature: bytes  # the family doctor's signature of the APPROVED request, as served
    users: dict  # actor name → user
    sessions: dict = field(default_factory=dict)  # actor name → session key
    api_keys: dict = field(default_factory=dict)  # actor name → API key

    def a_query(self, name: str = "facility") -> str:
        return f"?{name}={self.a.pk}"

    @property
    def scan_type(self) -> str:
        return self.offline.documents[0]

    def signature_base64(self) -> str:
        return base64.b64encode(self.signature).decode()

    def signed_sha256(self) -> str:
        return hashlib.sha256(services.declaration_request_signable_bytes(self.approved)).hexdigest()


def patient_data(key: str, **overrides) -> dict:
    """A patient of the world: their own RNOKPP, passport and phone (verified by `world_build`), confirming
    by SMS."""
    phone = PHONES[key]
    return adult(
        SERIALS[key],
        phones=[{"type": "MOBILE", "number": phone}],
        authentication_methods=[{"type": "OTP", "phone_number": phone}],
        **overrides,
    )


def worker(legal_entity: LegalEntity, role: str, last_name: str):
    user = UserFactory()
    EmployeeFactory(
        legal_entity=legal_entity,
        party=party_make(last_name=last_name, first_name="Ганна", gender="FEMALE", user=user),
        employee_type=role,
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    return user


def world_build(pki) -> World:
    clinic, other = clinic_make(), clinic_make(name_suffix=" (інший заклад)")
    doctor = clinic.family_doctor
    for phone in PHONES.values():
        phone_verified(phone)

    def request_for(person: Person) -> DeclarationRequest:
        return services.declaration_request_create_for_person(
            legal_entity=clinic.legal_entity,
            actor=clinic.receptionist,
            person=person,
            employee=doctor,
            division=clinic.division,
        )

    patients = {
        "new": patient_register(patient_data("new")),
        "approved": patient_register(patient_data("approved")),
        "offline": patient_register(offline(patient_data("offline"))),
        "declared": patient_register(patient_data("declared")),
    }
    approved = request_for(patients["approved"])
    approved = services.declaration_request_approve(
        declaration_request=approved,
        actor=clinic.receptionist,
        verification_code=sms_code(PHONES["approved"]),
    )
    credential = pki.person(
        surname=doctor.party.last_name,
        given_names=f"{doctor.party.first_name} {doctor.party.second_name}",
        drfo=doctor.party.tax_id,
        edrpou=None,
    )
    new = request_for(patients["new"])
    return World(
        a=clinic.legal_entity,
        b=other.legal_entity,
        clinic=clinic,
        division=clinic.division,
        patients=patients,
        new=new,
        approved=approved,
        offline=request_for(patients["offline"]),
        declaration=declaration_make(clinic, patient=patients["declared"]),
        code=sms_code(PHONES["new"]),
        signature=pki.sign(credential, services.declaration_request_signable_bytes(approved)),
        users={
            "no-facility": UserFactory(),
            "hr-of-A": worker(clinic.legal_entity, "HR", "Бондар"),
            "accountant-of-A": worker(clinic.legal_entity, "ACCOUNTANT", "Кравець"),
            "assistant-of-A": worker(clinic.legal_entity, "ASSISTANT", "Лисенко"),
            "receptionist-of-A": clinic.receptionist,
            "doctor-of-A": doctor.party.user,
            "other-doctor-of-A": clinic.therapist.party.user,
            "head-of-A": clinic.head,
            "doctor-of-B": other.family_doctor.party.user,
        },
    )


def patient_form(person: Person | None = None, **changes) -> dict:
    """The registration form of a new patient, or the change form of `person` (their RNOKPP and passport
    kept; the secret word left empty keeps theirs)."""
    if person is None:
        return {**PATIENT_FORM, **changes}
    kept = {
        "tax_id": person.tax_id,
        "document_number": person.documents[0]["number"],
        "phone_mobile": person.authentication_phone,
        "authentication_phone": person.authentication_phone,
        "secret": "",
    }
    return {**PATIENT_FORM, **kept, **changes}
