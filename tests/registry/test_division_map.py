"""The public map's places of service: each with the doctors working there and their main speciality;
inactive places, places without a location, dismissed doctors and private facilities stay off it."""

import pytest
from django.urls import reverse

from registry.models import Employee
from registry.selectors import division_geojson
from registry.services import division_deactivate, legal_entity_deactivate
from tests.factories import EmployeeFactory, LegalEntityFactory

from .divisions_data import clinic_with_people, division_at, doctor_at

pytestmark = pytest.mark.usefixtures("reference_data")


@pytest.fixture
def clinic():
    return clinic_with_people()


def features() -> dict[str, dict]:
    return {
        feature["properties"]["name"]: feature["properties"] for feature in division_geojson()["features"]
    }


def test_a_place_lists_its_working_doctors_with_their_speciality(clinic):
    doctor_at(clinic.division, last_name="Бойко", speciality="PEDIATRICIAN")
    doctor_at(clinic.division, last_name="Яковенко", status=Employee.Status.DISMISSED, is_active=False)
    EmployeeFactory(legal_entity=clinic.legal_entity, division=clinic.division, employee_type="HR")
    elsewhere = division_at(clinic.legal_entity, name="ФАП у селі", type="FAP", latitude=50.1, longitude=30.1)
    doctor_at(elsewhere, last_name="Коваль", speciality="THERAPIST")

    shown = features()
    assert shown["Амбулаторія на Хрещатику"]["doctors"] == [
        {
            "name": "Бойко Тарас Григорович",
            "speciality": "PEDIATRICIAN",
            "speciality_label": "Педіатр",
            "accepts_new_patients": True,
        },
        {
            "name": "Шевченко Тарас Григорович",
            "speciality": "FAMILY_DOCTOR",
            "speciality_label": "Сімейний лікар",
            "accepts_new_patients": True,
        },
    ]
    assert shown["ФАП у селі"]["doctors"] == [
        {
            "name": "Коваль Тарас Григорович",
            "speciality": "THERAPIST",
            "speciality_label": "Терапевт",
            "accepts_new_patients": True,
        }
    ]
    assert shown["Чужа амбулаторія"]["doctors"] == []


def test_inactive_places_places_without_a_location_and_closed_facilities_are_not_shown(clinic):
    division_at(clinic.legal_entity, name="Без мапи", latitude=None, longitude=None)
    closed_place = division_at(clinic.legal_entity, name="На ремонті")
    division_deactivate(division=closed_place, actor=clinic.head)
    unconfirmed = LegalEntityFactory()  # its head has not accepted the invitation
    division_at(unconfirmed, name="Непідтверджена")
    assert set(features()) == {"Амбулаторія на Хрещатику", "Чужа амбулаторія"}

    legal_entity_deactivate(legal_entity=clinic.other_division.legal_entity, actor=None)
    assert set(features()) == {"Амбулаторія на Хрещатику"}


def test_the_map_keeps_a_constant_number_of_queries(clinic, django_assert_num_queries):
    features()  # the dictionaries' labels are read once per version, kept in the process
    with django_assert_num_queries(2) as few:  # the places, then all their doctors
        assert len(division_geojson()["features"]) == 2
    for number in range(6):
        place = division_at(clinic.legal_entity, name=f"Амбулаторія № {number}", latitude=50 + number / 10)
        for last_name in ("Бойко", "Коваль", "Мельник"):
            doctor_at(place, last_name=last_name, speciality="THERAPIST")
    with django_assert_num_queries(len(few.captured_queries)):
        shown = division_geojson()["features"]
    assert len(shown) == 8 and sum(len(feature["properties"]["doctors"]) for feature in shown) == 19


def test_the_served_map_follows_a_dismissal_and_a_deactivation(client, clinic):
    url = reverse("registry:division-geojson")

    def doctors() -> dict[str, list[str]]:
        collection = client.get(url, {"bbox": "30,50,31,51"}).json()
        return {
            feature["properties"]["name"]: [doctor["name"] for doctor in feature["properties"]["doctors"]]
            for feature in collection["features"]
        }

    assert doctors()["Амбулаторія на Хрещатику"] == ["Шевченко Тарас Григорович"]
    employee = clinic.doctor_employee
    employee.status, employee.is_active = Employee.Status.DISMISSED, False
    employee.save()  # an Employee write replaces the public registry's version: the cached map too
    assert doctors()["Амбулаторія на Хрещатику"] == []

    division_deactivate(division=clinic.division, actor=clinic.head)
    assert "Амбулаторія на Хрещатику" not in doctors()
