"""The staff read paths cost the same SQL statements for a small facility and a larger one.

The employees page (a deep page and the search too), the employees and divisions API lists, the
cabinet and the public map's GeoJSON: the count is measured with 3 employees and 3 places of service,
then asserted with 30 of each (django_assert_num_queries). Each count is of the first request after the
data changed (the public registry's cached renderings replaced), after a warm-up request (the session's
facility remembered, the dictionaries and API key read). The map, kept by what each place shows, stays
byte for byte what it would be built afresh. How long they take at 10,000 employees is
bench/bench_staff.py's (docs/benchmarks.md), not a test's.
"""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ehealth_portal.api_cache import CachedJson
from ehealth_portal.models import ApiKey
from registry.models import Division, Employee
from registry.selectors import division_geojson
from tests.factories import (
    DivisionFactory,
    EmployeeFactory,
    EmployeeRequestFactory,
    LegalEntityFactory,
    PartyFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("reference_data")

ROLES = ["DOCTOR", "DOCTOR", "HR", "DOCTOR", "ASSISTANT", "ACCOUNTANT", "DOCTOR", "ADMIN"]
SPECIALITIES = ["FAMILY_DOCTOR", "THERAPIST", "PEDIATRICIAN"]


class Facility:
    """A public facility (its head confirmed) whose places of service and staff grow to a number."""

    def __init__(self):
        self.legal_entity = LegalEntityFactory()
        self.head = EmployeeFactory(
            legal_entity=self.legal_entity,
            party=PartyFactory(user=UserFactory(email="head@clinic.example")),
            employee_type="OWNER",
        )
        self.divisions: list[Division] = []
        self.employees: list[Employee] = []

    def grow(self, size: int) -> None:
        """Up to `size` places of service (with coordinates) and employees of every role, each with a
        login; a doctor at each place, one in five dismissed; an invitation waiting for each."""
        for number in range(len(self.divisions), size):
            self.divisions.append(
                DivisionFactory(
                    legal_entity=self.legal_entity,
                    name=f"Амбулаторія № {number}",
                    latitude=50.40 + number / 1000,
                    longitude=30.50 + number / 1000,
                )
            )
        for number in range(len(self.employees), size):
            role = ROLES[number % len(ROLES)]
            speciality = {
                "speciality": SPECIALITIES[number % 3],
                "speciality_officio": True,
                "level": "FIRST",
            }
            dismissed = number % 5 == 4
            self.employees.append(
                EmployeeFactory(
                    legal_entity=self.legal_entity,
                    party=PartyFactory(user=UserFactory(), last_name=f"Шевченко{number}"),
                    employee_type=role,
                    position="P7" if role == "DOCTOR" else "P14",
                    division=self.divisions[number] if role == "DOCTOR" else None,
                    speciality=speciality if role == "DOCTOR" else {},
                    additional_info={"specialities": [speciality]} if role == "DOCTOR" else {},
                    status="DISMISSED" if dismissed else "APPROVED",
                    is_active=not dismissed,
                    end_date=datetime.date(2026, 11, 20) if dismissed else None,
                )
            )
            EmployeeRequestFactory(legal_entity=self.legal_entity, employee_type="DOCTOR", position="P7")


@pytest.fixture
def facility():
    return Facility()


@pytest.fixture
def head_client(facility):
    client = Client()
    client.force_login(facility.head.party.user)
    return client


@pytest.fixture
def key_client(facility):
    _api_key, key = ApiKey.objects.create_key(name="query counts", user=facility.head.party.user)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def after_a_change(client: Client, url: str):
    """The first request after the public registry changed (its cached renderings replaced)."""
    Division.data_version.bump()
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response


def statements(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        after_a_change(client, url)
    return len(queries)


def staff_page_names(response) -> int:
    return response.content.decode().count("Шевченко")


def cabinet_places(response) -> int:
    return response.content.decode().count("Амбулаторія № ")


def invitation_rows(response) -> int:
    return response.content.decode().count("/resend/")


def api_rows(response) -> int:
    return len(json.loads(response.content)["data"])


def map_doctors(response) -> int:
    features = json.loads(response.content)["features"]
    return sum(len(feature["properties"]["doctors"]) for feature in features)


@pytest.mark.parametrize(
    ("url", "who", "rows"),
    [
        (reverse("registry:staff-list"), "session", staff_page_names),
        (reverse("registry:staff-list") + "?status=ALL&q=Шевченко", "session", staff_page_names),
        (reverse("registry:staff-list") + "?employee_type=DOCTOR", "session", staff_page_names),
        (reverse("registry:staff-list") + "?status=ALL&q=Ше ко", "session", staff_page_names),
        (reverse("registry:staff-list") + "?page=2&status=ALL", "session", staff_page_names),
        (reverse("registry:cabinet"), "session", cabinet_places),
        (reverse("registry:employee-request-list"), "session", invitation_rows),
        ("/api/employees", "key", api_rows),
        ("/api/employees?page_size=100&employee_type=DOCTOR", "key", api_rows),
        ("/api/divisions", "key", api_rows),
        ("/map/divisions.geojson", None, map_doctors),
        ("/map/divisions.geojson?bbox=30.0,50.0,31.0,51.0", None, map_doctors),
    ],
)
def test_a_staff_read_path_costs_the_same_statements_for_3_or_30_rows(
    facility, head_client, key_client, client, django_assert_num_queries, url, who, rows
):
    asking = {"session": head_client, "key": key_client, None: client}[who]
    facility.grow(3)
    few_rows = rows(asking.get(url))  # the warm-up: the session's facility, dictionaries, the key's row
    few = statements(asking, url)
    facility.grow(30)
    asking.get(url)  # the same warm-up (new logins replaced the API keys' version: the key is read again)
    with django_assert_num_queries(few):
        response = after_a_change(asking, url)
    assert rows(response) > few_rows  # the larger facility's rows are there


def test_the_cabinet_shows_the_first_places_and_links_to_all_of_them(facility, head_client):
    facility.grow(25)
    page = head_client.get(reverse("registry:cabinet")).content.decode()
    assert cabinet_places(head_client.get(reverse("registry:cabinet"))) == 20
    assert "Амбулаторія № 0<" in page and "Амбулаторія № 9<" not in page  # the first 20 by name
    assert reverse("registry:division-list") in page[page.index('id="divisions-title"') :]


def test_the_search_matches_every_word_short_ones_too(facility, head_client):
    facility.grow(12)  # surnames Шевченко0 … Шевченко11; the head is Коваленко Олена Петрівна
    url = reverse("registry:staff-list")

    def found(query: str) -> str:
        page = head_client.get(url, {"status": "ALL", "q": query}).content.decode()
        return " ".join(sorted(re.findall(r"(?:Шевченко\d+|Коваленко) Олена", page)))

    assert found("шевченко1") == "Шевченко1 Олена Шевченко10 Олена Шевченко11 Олена"
    # Words of two letters have no trigram: checked all the same (a Cyrillic "о": no email has it).
    assert found("ВЧЕН о1") == "Шевченко1 Олена Шевченко10 Олена Шевченко11 Олена"
    assert found("о1 ОЛ") == "Шевченко1 Олена Шевченко10 Олена Шевченко11 Олена"
    assert found("петрівна HEAD@clinic") == "Коваленко Олена"  # the patronymic and the login's email


def test_the_cached_map_stays_what_a_fresh_build_gives(facility, client):
    """Kept by what each place shows, the served map follows every change that shows on it."""
    facility.grow(6)
    url = reverse("registry:division-geojson")

    def served_is_fresh() -> bool:
        return client.get(url).content == CachedJson.of(division_geojson()).body

    assert served_is_fresh()
    doctor = next(employee for employee in facility.employees if employee.employee_type == "DOCTOR")
    doctor.party.last_name = "Бойко"
    doctor.party.save()  # a person's name: no public-registry write of its own
    Division.data_version.bump()  # the next write anywhere
    assert served_is_fresh()
    doctor.speciality = {**doctor.speciality, "speciality": "PEDIATRICIAN"}
    doctor.save()
    assert served_is_fresh()
    doctor.division = facility.divisions[5]
    doctor.save()
    assert served_is_fresh()
    facility.divisions[5].name = "Амбулаторія на Подолі"
    facility.divisions[5].save()
    assert served_is_fresh()
    facility.legal_entity.public_name = "Клініка на Подолі"
    facility.legal_entity.save()
    assert served_is_fresh()
    Employee.objects.filter(pk=doctor.pk).update(status="DISMISSED", is_active=False)
    assert served_is_fresh()


def test_the_staff_page_shows_the_newest_invitations_and_links_to_all_of_them(facility, head_client):
    facility.grow(30)  # 30 waiting invitations
    page = head_client.get(reverse("registry:staff-list")).content.decode()
    assert invitation_rows(head_client.get(reverse("registry:staff-list"))) == 10
    assert reverse("registry:employee-request-list") in page
    invitations = reverse("registry:employee-request-list")
    assert invitation_rows(head_client.get(invitations)) == 25
    assert invitation_rows(head_client.get(invitations, {"page": 2})) == 5


def test_with_many_places_the_place_filter_is_a_search_by_name(facility, head_client):
    facility.grow(3)
    for number in range(3, 52):
        DivisionFactory(legal_entity=facility.legal_entity, name=f"Амбулаторія № {number}")
    url = reverse("registry:staff-list")
    page = head_client.get(url).content.decode()
    assert "Амбулаторія № 40" not in page  # no list of 52 places: a search box
    assert re.search(r'<input type="search" name="division"', page)

    def names(**query) -> list[str]:
        page = head_client.get(url, {"status": "ALL", **query}).content.decode()
        return sorted(re.findall(r"Шевченко\d+", page))

    assert names(division="амбулаторія № 1") == ["Шевченко1"]  # a part of the name, in any case
    assert names(division=str(facility.divisions[0].pk)) == ["Шевченко0"]  # a link's id
    assert names(division="Поділ") == []
