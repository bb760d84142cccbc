"""The declarations benchmark's data: 2,000,000 patients, 50,000 doctors, 1,000,000 declarations, with COPY.

What the registration, staff and declaration flows would leave in the tables, written with PostgreSQL's
COPY (psycopg 3 `cursor.copy`) — no services, no history rows — in a few minutes. Deterministic (seeded
generators; ids are a bijection of a row's number), so two builds hold the same rows. The big tables are
loaded without their indexes and constraints, which are rebuilt afterwards (a sort each instead of a
million random index insertions), then VACUUM ANALYZE. A marker row (`bench_dataset`) records the
parameters: a later run with the same parameters reuses the data.

* The registry: 5,000 primary-care facilities (3 places of service each, a head) with 10 DOCTOR employees
  each (the main speciality FAMILY_DOCTOR 60%, THERAPIST 25%, PEDIATRICIAN 15%; 1% of the doctors also work
  at a second facility), every one with a login.
* Patients (`declarations_person`): 18% children (a birth certificate and a PRIMARY confidant person), the
  rest adults (passport or ID card, 3% without an RNOKPP); 80% confirm by SMS (OTP, their phone in
  `verified_phones`), 20% by documents (OFFLINE).
* Declarations: 88% current (active, 3% of those pending_verification), one per patient, matched by age to
  the doctor's speciality; the rest terminated, closed or rejected. Per doctor: 50 doctors at their limit
  (they no longer accept new patients), 50 within 10% of it, the rest spread log-normally (most have a few,
  some hundreds). Every declaration has its SIGNED request; requests signed over 30 days ago have their data
  and printout wiped (eHealth 2019's terminator does so).
* Other requests: NEW and APPROVED of the last day (they count against the limits), REJECTED, CANCELLED,
  and EXPIRED (data wiped).
* The bench facility (`BENCH_EDRPOU`): two places of service and, besides ordinary doctors, SMALL (a family
  doctor with 10 declarations) and BIG (a therapist with 1,800 of 2,000), with logins and known RNOKPPs.
"""

import datetime as dt
import functools
import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulk_copy import copy_rows, indexes_dropped, marker_read, marker_write, text_value
from django.db import connection
from django.utils import timezone
from staff_dataset import FEMALE, MALE, STREETS, SURNAMES, towns

from tests.staff_data import doctor as doctor_block
from tests.staff_data import rnokpp

DATASET = "declarations"
BENCH_EDRPOU = "43210013"
SMALL_EMAIL, BIG_EMAIL = "small.doctor@declbench.example", "big.doctor@declbench.example"
HEAD_EMAIL_FORMAT = "head{}@declbench.example"
SMALL_COUNT, BIG_COUNT = 10, 1_800  # current declarations of the two measured doctors
DOCTORS_PER_FACILITY, PLACES_PER_FACILITY = 10, 3
SPECIALITIES = [("FAMILY_DOCTOR", "P7", 0.60), ("THERAPIST", "P10", 0.25), ("PEDIATRICIAN", "P8", 0.15)]
LIMITS = {"FAMILY_DOCTOR": 1800, "THERAPIST": 2000, "PEDIATRICIAN": 900}
AT_LIMIT = 50  # doctors at their limit in 50,000, and as many within 10% of it
CURRENT_SHARE, PENDING_SHARE = 0.88, 0.03
ENDED = [("terminated", "manual_person", 0.7), ("closed", "", 0.2), ("rejected", "offline", 0.1)]
OTHER_REQUESTS = {
    "NEW": 15_000,
    "APPROVED": 5_000,
    "REJECTED": 10_000,
    "CANCELLED": 20_000,
    "EXPIRED": 100_000,
}
CHILD_SHARE, OTP_SHARE, NO_TAX_ID_SHARE = 0.18, 0.80, 0.03
NUMBER_ALPHABET = "0123456789AEHKMPTX"  # eHealth 2019's declaration numbers (number_generator.ex)
TABLES = (
    "declarations_person",
    "declarations_verifiedphone",
    "declarations_declarationrequest",
    "declarations_declaration",
)
_MASK = (1 << 128) - 1
_KINDS = {"user": 1, "party": 2, "facility": 3, "division": 4, "employee": 5, "person": 6, "request": 7}


def _uuid(kind: str, number: int) -> str:
    """A random-looking, unique UUID for a row's number (an odd multiplier is a bijection mod 2**128)."""
    value = ((number + 1) * 0x9E3779B97F4A7C15F39CC0605CEDC835 + _KINDS[kind] * 0x1F1F1F1F) & _MASK
    value = (value & ~(0xF000 << 64) & ~(0xC << 60)) | (0x4000 << 64) | (0x8 << 60)  # version 4, variant
    return str(uuid.UUID(int=value))


def declaration_number(number: int) -> str:
    """0001-XXXX-XXXX from a row's number (a permutation of the 18**8 numbers, so they look spread)."""
    value, digits = (number * 7_919_180_077 + 12_345) % 18**8, []
    for _ in range(8):
        value, digit = divmod(value, 18)
        digits.append(NUMBER_ALPHABET[digit])
    return f"0001-{''.join(digits[:4])}-{''.join(digits[4:])}"


@dataclass(frozen=True)
class Parameters:
    patients: int = 2_000_000
    doctors: int = 50_000
    declarations: int = 1_000_000
    seed: int = 13
    version: int = 2  # of this generator: a change of the rows' shape builds the data again
    schema: str = ""  # the migrations' fingerprint: a migration edited in place builds the data again

    @property
    def facilities(self) -> int:
        return self.doctors // DOCTORS_PER_FACILITY


def schema_fingerprint() -> str:
    """A digest of the migration files of the apps the data lives in (an edited migration is not
    re-applied by `migrate`, so the data is built again on the schema it now makes)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for app in ("ehealth_portal", "registry", "declarations"):
        for path in sorted((root / app / "migrations").glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def matches(parameters: Parameters) -> bool:
    marker = marker_read(DATASET)
    return marker is not None and marker["parameters"] == parameters.__dict__


# --- The registry -------------------------------------------------------------------------------------------


@dataclass
class Doctor:
    number: int  # of the employee row
    party: int
    facility: int
    division: int
    speciality: str
    current: int = 0  # current declarations planned


def _address(area: str, town: str, number: int, address_type: str) -> dict:
    return {
        "type": address_type,
        "country": "UA",
        "area": area,
        "settlement": town,
        "settlement_type": "CITY",
        "street_type": "STREET",
        "street": STREETS[number % len(STREETS)],
        "building": str(number % 120 + 1),
        "zip": f"{10000 + number * 37 % 89999:05d}",
    }


def _registry(parameters: Parameters, rng: random.Random, places: list) -> list[Doctor]:
    """Facilities, places of service, people with logins, heads and doctors; returns the doctors."""
    from django.contrib.auth.hashers import make_password

    from ehealth_portal.models import User
    from registry.models import Division, Employee, LegalEntity, Party

    facilities, password = parameters.facilities, make_password(None)
    now = timezone.now()
    entity_lines, division_lines = [], []
    for number in range(facilities):
        area, town, latitude, longitude = places[number % len(places)]
        edrpou = BENCH_EDRPOU if number == 0 else f"{45_000_000 + number}"
        name = f"Центр первинної медико-санітарної допомоги № {number + 1}"
        if number == 0:
            name = "Центр первинної медико-санітарної допомоги (декларації)"
        license_ = {"type": "MSP", "license_number": f"АЕ{number:06d}", "issued_by": "МОЗ України",
                    "issued_date": "2020-01-15", "active_from_date": "2020-01-15", "order_no": f"{number}-Л"}  # fmt: skip
        entity_lines.append(
            "\t".join([
                _uuid("facility", number), edrpou, f'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "{name.upper()}"',
                f'КНП "{name.upper()}"', name, "150", "STATE", '["86.21"]', f"clinic{number}@declbench.example",
                text_value([{"type": "LAND_LINE", "number": f"+38044{number:07d}"}]),
                text_value([_address(area, town, number, "REGISTRATION")]), text_value(license_),
                text_value({"category": "FIRST", "order_no": f"{number}", "order_date": "2021-03-01"}), "t",
            ])
        )  # fmt: skip
        for place in range(PLACES_PER_FACILITY):
            index = number * PLACES_PER_FACILITY + place
            division_lines.append(
                "\t".join([
                    _uuid("division", index), _uuid("facility", number),
                    f"Амбулаторія загальної практики сімейної медицини № {place + 1}",
                    ("CLINIC", "AMBULANT_CLINIC", "FAP")[place], text_value([_address(area, town, index, "RESIDENCE")]),
                    text_value([{"type": "LAND_LINE", "number": f"+38032{index:07d}"}]), f"place{index}@declbench.example",
                    f"{latitude + rng.gauss(0, 0.03):.6f}", f"{longitude + rng.gauss(0, 0.045):.6f}",
                    text_value({"mon": [["08.00", "20.00"]], "tue": [["08.00", "20.00"]], "wed": [["08.00", "20.00"]]}),
                ])
            )  # fmt: skip
    copy_rows(LegalEntity, ["id", "edrpou", "name", "short_name", "public_name", "legal_form",
                            "owner_property_type", "kveds", "email", "phones", "addresses", "license",
                            "accreditation", "nhs_verified"], entity_lines)  # fmt: skip
    copy_rows(Division, ["id", "legal_entity_id", "name", "type", "addresses", "phones", "email", "latitude",
                         "longitude", "working_hours"], division_lines)  # fmt: skip

    # People: a head per facility, then the doctors; party n has user n.
    doctors: list[Doctor] = []
    people: list[tuple[str, str]] = []  # (email, role) of party n
    for number in range(facilities):
        people.append((HEAD_EMAIL_FORMAT.format(number), "OWNER"))
    for number in range(parameters.doctors):
        facility = number // DOCTORS_PER_FACILITY
        speciality = rng.choices([row[0] for row in SPECIALITIES], [row[2] for row in SPECIALITIES])[0]
        email = f"doctor{number}@declbench.example"
        if facility == 0 and number == 0:
            speciality, email = "FAMILY_DOCTOR", SMALL_EMAIL
        elif facility == 0 and number == 1:
            speciality, email = "THERAPIST", BIG_EMAIL
        division = facility * PLACES_PER_FACILITY + number % (2 if facility == 0 else PLACES_PER_FACILITY)
        doctors.append(Doctor(len(doctors), len(people), facility, division, speciality))
        people.append((email, "DOCTOR"))
    user_lines, party_lines = [], []
    for number, (email, _role) in enumerate(people):
        female = rng.random() < 0.6
        names, patronymics = FEMALE if female else MALE
        surname, name = rng.choice(SURNAMES), rng.choice(names)
        birth_date = dt.date(1955, 1, 1) + dt.timedelta(days=number % 15000)
        user_lines.append(f"{number + 1}\t{password}\tf\t{email}\t{name}\t{surname}\tf\tt\t{now.isoformat()}")
        party_lines.append(
            "\t".join([
                _uuid("party", number), str(number + 1), surname, name, rng.choice(patronymics),
                birth_date.isoformat(), "FEMALE" if female else "MALE", rnokpp(birth_date, serial=number // 15000),
                text_value([{"type": "PASSPORT", "number": f"АА{number:06d}", "issued_by": "Київ", "issued_at": "2005-04-01"}]),
                text_value([{"type": "MOBILE", "number": f"+38050{number:07d}"}]),
            ])
        )  # fmt: skip
    copy_rows(User, ["id", "password", "is_superuser", "email", "first_name", "last_name", "is_staff",
                     "is_active", "date_joined"], user_lines)  # fmt: skip
    with connection.cursor() as cursor:
        table = User._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    copy_rows(Party, ["id", "user_id", "last_name", "first_name", "second_name", "birth_date", "gender",
                      "tax_id", "documents", "phones"], party_lines)  # fmt: skip

    employee_lines = []
    start = dt.date(2019, 1, 1)

    def employee(number, party, facility, division, role, position, info, speciality):
        employee_lines.append(
            "\t".join([
                _uuid("employee", number), _uuid("facility", facility),
                _uuid("division", division) if division is not None else r"\N", _uuid("party", party), role,
                position, (start + dt.timedelta(days=number % 1500)).isoformat(), text_value(info), text_value(speciality),
            ])
        )  # fmt: skip

    blocks = {}
    for code, position, _share in SPECIALITIES:
        block = doctor_block()
        block["specialities"][0]["speciality"] = code
        blocks[code] = (block, block["specialities"][0], position)
    for doctor in doctors:
        block, main, position = blocks[doctor.speciality]
        employee(
            doctor.number, doctor.party, doctor.facility, doctor.division, "DOCTOR", position, block, main
        )
    extra = len(doctors)
    for number in range(facilities):  # the heads
        employee(extra + number, number, number, None, "OWNER", "P2", {}, {})
    extra += facilities
    for index in range(parameters.doctors // 100):  # a second job at another facility
        doctor = doctors[(index * 97 + 13) % len(doctors)]
        if doctor.facility == 0:
            continue
        facility = (doctor.facility + 1 + index) % facilities or 1
        block, main, position = blocks[doctor.speciality]
        employee(extra + index, doctor.party, facility, facility * PLACES_PER_FACILITY, "DOCTOR", position, block, main)  # fmt: skip
    copy_rows(Employee, ["id", "legal_entity_id", "division_id", "party_id", "employee_type", "position",
                         "start_date", "additional_info", "speciality"], employee_lines)  # fmt: skip
    return doctors


# --- Patients -----------------------------------------------------------------------------------------------


def _is_child(number: int) -> bool:
    return number % 100 < CHILD_SHARE * 100


def _birth_date(number: int, today: dt.date) -> dt.date:
    """Children 0–16 years old, adults 19–89 (clear of the 18th birthday within a year's term)."""
    spread = (number * 2_654_435_761) % 1_000_003
    if _is_child(number):
        return today - dt.timedelta(days=30 + spread % (16 * 365))
    return today - dt.timedelta(days=19 * 365 + spread % (70 * 365))


def _phone(number: int) -> str:
    return f"+38067{number:07d}"


def _names(number: int) -> tuple[bool, str, str, str]:
    """(female, surname, first name, patronymic) of patient `number`: a function of it, so that a request's
    person key is computed without the patient's row."""
    mixed = (number * 2_246_822_519 + 3_266_489_917) % 4_294_967_291
    female = mixed % 100 < 52
    names, patronymics = FEMALE if female else MALE
    return (
        female,
        SURNAMES[mixed // 100 % len(SURNAMES)],
        names[mixed // 7919 % len(names)],
        patronymics[mixed // 104_729 % len(patronymics)],
    )


def _tax_id(number: int, birth_date: dt.date) -> str:
    """The patient's RNOKPP, or "" for a child and an adult who refused one."""
    if _is_child(number) or (number * 40_503) % 1000 < NO_TAX_ID_SHARE * 1000:
        return ""
    return rnokpp(birth_date, serial=number % 10000)


def _has_otp(number: int) -> bool:
    return (number * 7) % 100 < OTP_SHARE * 100


# JSON of the patients' rows as text templates: json.dumps was most of the patients' time. The values put
# in hold no quote, backslash, tab or newline, so they need no escaping (in JSON or in COPY's text format).
_ADDRESS_JSON = (
    '{{"type":"{type}","country":"UA","area":"{area}","settlement":"{town}","settlement_type":"CITY",'
    '"street_type":"STREET","street":"{street}","building":"{building}","apartment":"{apartment}","zip":"{zip}"}}'
)
_CHILD_DOCUMENTS_JSON = '[{{"type":"BIRTH_CERTIFICATE","number":"І-КВ {number:06d}","issued_by":"РАЦС"}}]'
_ID_CARD_JSON = (
    '[{{"type":"NATIONAL_ID","number":"{number:09d}","issued_by":"8001","issued_at":"2018-01-10"}}]'
)
_PASSPORT_JSON = '[{{"type":"PASSPORT","number":"КВ{number:06d}","issued_by":"Шевченківський РВ","issued_at":"2010-05-01"}}]'
_CONTACT_JSON = (
    '{{"first_name":"{name}","last_name":"{surname}","phones":[{{"type":"MOBILE","number":"{phone}"}}]}}'
)
_CONFIDANT_JSON = (
    '[{{"relation_type":"PRIMARY","first_name":"{name}","last_name":"{surname}","birth_date":"{birth_date}",'
    '"birth_country":"Україна","birth_settlement":"{town}","gender":"FEMALE","secret_encrypted":"{secret}",'
    '"documents_person":[{{"type":"NATIONAL_ID","number":"{number:09d}","issued_by":"8001"}}],'
    '"documents_relationship":[{{"type":"BIRTH_CERTIFICATE","number":"І-КВ {number:06d}","issued_by":"РАЦС"}}],'
    '"phones":[{{"type":"MOBILE","number":"{phone}"}}]}}]'
)


def _person_lines(parameters: Parameters, places: list) -> Iterator[str]:
    from ehealth_portal import encryption

    today = _build_day()
    secrets = [encryption.encrypt(f"Слово{index:03d}") for index in range(64)]
    consent_since = timezone.now() - dt.timedelta(days=6 * 365)
    mothers = FEMALE[0]
    for number in range(parameters.patients):
        female, surname, name, patronymic = _names(number)
        birth_date = _birth_date(number, today)
        tax_id = _tax_id(number, birth_date)
        area, town, *_coordinates = places[number % len(places)]
        address = {
            "area": area, "town": town, "street": STREETS[number % len(STREETS)], "building": number % 120 + 1,
            "apartment": number % 200 + 1, "zip": f"{10000 + number * 37 % 89999:05d}",
        }  # fmt: skip
        addresses = _ADDRESS_JSON.format(type="RESIDENCE", **address)
        if number % 2:
            addresses += "," + _ADDRESS_JSON.format(type="REGISTRATION", **address)
        phone = _phone(number)
        mother = mothers[number % len(mothers)]
        contact = _CONTACT_JSON.format(name=mother, surname=surname, phone=f"+38063{number:07d}")
        child = _is_child(number)
        if child:
            documents = _CHILD_DOCUMENTS_JSON.format(number=number)
            confidants = _CONFIDANT_JSON.format(
                name=mother, surname=surname, town=town, secret=secrets[(number + 1) % 64], number=number,
                phone=phone, birth_date=(birth_date - dt.timedelta(days=9000 + number % 3000)).isoformat(),
            )  # fmt: skip
        else:
            documents = (_ID_CARD_JSON if number % 3 else _PASSPORT_JSON).format(number=number % 1_000_000)
            confidants = "[]"
        otp = _has_otp(number)
        created = (
            consent_since + dt.timedelta(seconds=number * 94_608_000 // parameters.patients)
        ).isoformat()
        yield "\t".join([
            _uuid("person", number), surname, name, patronymic, birth_date.isoformat(), "Україна", town,
            "FEMALE" if female else "MALE", tax_id, "t" if not tax_id and not child else "f", "",
            f"patient{number}@example.com" if number % 4 == 0 else "", "phone", documents, f"[{addresses}]",
            f'[{{"type":"MOBILE","number":"{phone}"}}]', contact, confidants, "OTP" if otp else "OFFLINE",
            phone if otp else "", secrets[number % 64], "t", created, created,
        ])  # fmt: skip


PERSON_COLUMNS = [
    "id", "last_name", "first_name", "second_name", "birth_date", "birth_country", "birth_settlement", "gender",
    "tax_id", "no_tax_id", "unzr", "email", "preferred_way_communication", "documents", "addresses", "phones",
    "emergency_contact", "confidant_person", "authentication_method", "authentication_phone",
    "secret_encrypted", "is_active", "created_at", "updated_at",
]  # fmt: skip


# --- Declarations and requests ------------------------------------------------------------------------------


def _plan_counts(parameters: Parameters, doctors: list[Doctor], rng: random.Random) -> None:
    """Each doctor's current declarations: a few at or near their limit, the rest log-normal."""
    budget = int(parameters.declarations * CURRENT_SHARE) - SMALL_COUNT - BIG_COUNT
    ordinary = [doctor for doctor in doctors if doctor.facility != 0 or doctor.number > 1]
    doctors[0].current, doctors[1].current = SMALL_COUNT, BIG_COUNT
    at_limit = near_limit = max(1, len(doctors) * AT_LIMIT // 50_000)  # 50 and 50 of 50,000
    chosen = rng.sample(ordinary, at_limit + near_limit)
    for index, doctor in enumerate(chosen):
        limit = LIMITS[doctor.speciality]
        doctor.current = limit if index < at_limit else limit - rng.randrange(1, limit // 10)
        budget -= doctor.current
    rest = [doctor for doctor in ordinary if doctor.current == 0]
    weights = [rng.lognormvariate(0, 1.2) for _ in rest]
    scale = budget / sum(weights)
    for doctor, weight in zip(rest, weights, strict=True):
        doctor.current = min(int(weight * scale), LIMITS[doctor.speciality] * 9 // 10)
    short = budget - sum(doctor.current for doctor in rest)
    for index in range(short):  # the remainder of the rounding, one each
        rest[index % len(rest)].current += 1


@dataclass(frozen=True)
class Planned:
    number: int  # of the declaration and its request
    doctor: Doctor
    person: int
    status: str
    reason: str
    signed: dt.datetime


def _plan(parameters: Parameters, doctors: list[Doctor], seed: int) -> Iterator[Planned]:
    """The declarations, replayable (the same seed gives the same plan): current ones doctor by doctor,
    each a different patient of a fitting age; then ended ones of random patients and doctors."""
    rng = random.Random(seed)
    children = [number for number in range(parameters.patients) if _is_child(number)]
    adults = [number for number in range(parameters.patients) if not _is_child(number)]
    rng.shuffle(children)
    rng.shuffle(adults)
    now = timezone.now()
    number = 0
    for doctor in doctors:
        for _ in range(doctor.current):
            if doctor.speciality == "PEDIATRICIAN" or (
                doctor.speciality == "FAMILY_DOCTOR" and rng.random() < 0.2
            ):
                person = children.pop() if children else adults.pop()
            else:
                person = adults.pop()
            status = "pending_verification" if rng.random() < PENDING_SHARE else "active"
            signed = now - dt.timedelta(seconds=rng.randrange(60, 360 * 86400))
            yield Planned(number, doctor, person, status, "offline" if status != "active" else "", signed)
            number += 1
    while number < parameters.declarations:
        doctor = doctors[rng.randrange(len(doctors))]
        status, reason = rng.choices([row[:2] for row in ENDED], [row[2] for row in ENDED])[0]
        signed = now - dt.timedelta(seconds=rng.randrange(86400, 720 * 86400))
        yield Planned(number, doctor, rng.randrange(parameters.patients), status, reason, signed)
        number += 1


@functools.cache
def _build_day() -> dt.date:
    return timezone.localdate()


def person_key(number: int, today: dt.date) -> str:
    """Who a request is for before the patient is registered (DeclarationRequest.person_key)."""
    birth_date = _birth_date(number, today)
    tax_id = _tax_id(number, birth_date)
    if tax_id:
        return f"tax_id:{tax_id}"
    _female, surname, name, _patronymic = _names(number)
    return f"name:{surname.upper()}|{name.upper()}|{birth_date.isoformat()}"


def _request_line(number, doctor: Doctor, person: int, status: str, created: dt.datetime, *, end: dt.date,
                  data: str = "{}", method: str = "{}") -> str:  # fmt: skip
    start = created.date()
    expires = created + dt.timedelta(days=1)
    return "\t".join([
        _uuid("request", number), _uuid("facility", doctor.facility), _uuid("employee", doctor.number),
        _uuid("division", doctor.division), _uuid("person", person),
        person_key(person, _build_day()), data, status, "CABINET" if number % 10 < 7 else "MIS", method, "[]", "",
        _uuid("request", number ^ (1 << 40)), declaration_number(number),
        hashlib.sha256(f"seed{number}".encode()).hexdigest(), "f", start.isoformat(), end.isoformat(),
        expires.isoformat(), created.isoformat(), created.isoformat(),
    ])  # fmt: skip


REQUEST_COLUMNS = [
    "id", "legal_entity_id", "employee_id", "division_id", "person_id", "person_key", "data", "status", "channel",
    "authentication_method_current", "documents", "printout_content", "declaration_id", "declaration_number",
    "seed", "overlimit", "start_date", "end_date", "expires_at", "created_at", "updated_at",
]  # fmt: skip


def _request_data(person: int, doctor: Doctor) -> str:
    """A compact request body (the person's identity and the doctor's ids) for a request still kept."""
    return text_value({
        "person": {"first_name": "Пацієнт", "last_name": f"№{person}", "authentication_methods": [
            {"type": "OTP", "phone_number": _phone(person)}]},
        "employee_id": _uuid("employee", doctor.number), "division_id": _uuid("division", doctor.division),
        "scope": "family_doctor",
    })  # fmt: skip


def _signed_request_lines(parameters: Parameters, doctors: list[Doctor]) -> Iterator[str]:
    keep_since = timezone.now() - dt.timedelta(days=30)
    for planned in _plan(parameters, doctors, parameters.seed):
        kept = planned.signed >= keep_since
        method = '{"type":"OTP","number":"+38067*****12"}'
        yield _request_line(
            planned.number, planned.doctor, planned.person, "SIGNED", planned.signed - dt.timedelta(minutes=20),
            end=(planned.signed + dt.timedelta(days=365)).date(),
            data=_request_data(planned.person, planned.doctor) if kept else "{}", method=method,
        )  # fmt: skip


def _declaration_lines(parameters: Parameters, doctors: list[Doctor]) -> Iterator[str]:
    for planned in _plan(parameters, doctors, parameters.seed):
        start = planned.signed.date()
        updated = planned.signed if planned.status in ("active", "pending_verification") else (
            planned.signed + dt.timedelta(days=30 + planned.number % 300))  # fmt: skip
        doctor = planned.doctor
        yield "\t".join([
            _uuid("request", planned.number ^ (1 << 40)), declaration_number(planned.number),
            _uuid("request", planned.number), _uuid("person", planned.person), _uuid("employee", doctor.number),
            _uuid("division", doctor.division), _uuid("facility", doctor.facility), "family_doctor",
            start.isoformat(), (start + dt.timedelta(days=365)).isoformat(), planned.status, planned.reason,
            "f", planned.signed.isoformat(), planned.signed.isoformat(), updated.isoformat(),
        ])  # fmt: skip


DECLARATION_COLUMNS = [
    "id", "declaration_number", "declaration_request_id", "person_id", "employee_id", "division_id",
    "legal_entity_id", "scope", "start_date", "end_date", "status", "reason", "overlimit", "signed_at",
    "created_at", "updated_at",
]  # fmt: skip


def _other_request_lines(parameters: Parameters, doctors: list[Doctor], rng: random.Random) -> Iterator[str]:
    """Requests that did not become declarations; NEW and APPROVED only for doctors with room left."""
    now = timezone.now()
    number = parameters.declarations
    # The measured doctors' counts stay as planned; the others' pending requests leave them under their limit.
    with_room = [doctor for doctor in doctors[2:] if doctor.current < LIMITS[doctor.speciality] - 5]
    for status, count in OTHER_REQUESTS.items():
        for _ in range(count * parameters.declarations // 1_000_000):
            pending = status in ("NEW", "APPROVED")
            doctor = rng.choice(with_room) if pending else doctors[rng.randrange(len(doctors))]
            age = (
                dt.timedelta(seconds=rng.randrange(60, 86000))
                if pending
                else dt.timedelta(days=rng.randrange(2, 700))
            )
            person = rng.randrange(parameters.patients)
            created = now - age
            keep = pending or status == "REJECTED"
            yield _request_line(
                number, doctor, person, status, created, end=(created + dt.timedelta(days=365)).date(),
                data=_request_data(person, doctor) if keep else "{}",
                method='{"type":"OTP","number":"+38067*****12"}' if keep else "{}",
            )  # fmt: skip
            number += 1


# --- The build ----------------------------------------------------------------------------------------------


def build(parameters: Parameters, *, log=print) -> float:
    """Write the data into the (migrated, empty) database; returns the seconds it took."""
    from declarations.models import Declaration, DeclarationRequest, Person, VerifiedPhone
    from ehealth_portal.models import User
    from registry.models import Employee

    started = time.perf_counter()
    rng = random.Random(parameters.seed)
    places = towns()

    def step(label: str, since: float) -> float:
        now = time.perf_counter()
        log(f"  {label}: {now - since:.1f} s")
        return now

    mark = started
    doctors = _registry(parameters, rng, places)
    mark = step(f"registry ({parameters.facilities:,} facilities, {len(doctors):,} doctors)", mark)
    _plan_counts(parameters, doctors, rng)
    with indexes_dropped(TABLES, log=log):
        count = copy_rows(Person, PERSON_COLUMNS, _person_lines(parameters, places))
        mark = step(f"patients ({count:,})", mark)
        verified = (
            f"{_phone(number)}\t{timezone.now().isoformat()}"
            for number in range(parameters.patients)
            if _has_otp(number)
        )
        count = copy_rows(VerifiedPhone, ["phone_number", "verified_at"], verified)
        mark = step(f"verified phones ({count:,})", mark)
        count = copy_rows(DeclarationRequest, REQUEST_COLUMNS, _signed_request_lines(parameters, doctors))
        count += copy_rows(
            DeclarationRequest, REQUEST_COLUMNS, _other_request_lines(parameters, doctors, rng)
        )
        mark = step(f"declaration requests ({count:,})", mark)
        count = copy_rows(Declaration, DECLARATION_COLUMNS, _declaration_lines(parameters, doctors))
        mark = step(f"declarations ({count:,})", mark)
    mark = step("indexes and constraints rebuilt", mark)
    full = [
        _uuid("employee", doctor.number) for doctor in doctors if doctor.current >= LIMITS[doctor.speciality]
    ]
    Employee.objects.filter(pk__in=full).update(accepts_new_patients=False)
    with connection.cursor() as cursor:
        for table in (User._meta.db_table, "registry_party", "registry_employee", "registry_division",
                      "registry_legalentity", *TABLES):  # fmt: skip
            cursor.execute(f"VACUUM ANALYZE {table}")
    step("VACUUM ANALYZE", mark)
    seconds = time.perf_counter() - started
    marker_write(DATASET, parameters.__dict__, seconds)
    return seconds
