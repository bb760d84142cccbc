"""The public map and facility pages say whether each doctor accepts new patients (the flag the
declarations app keeps as a doctor's list fills up and frees), and the cached map follows it."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations.services.limits import doctor_availability_refresh
from registry.models import Employee, GlobalParameter

from .conftest import doctor_make
from .lifecycle_data import declaration_make

GEOJSON = reverse("registry:division-geojson")


def map_doctors(client) -> dict[str, bool]:
    collection = json.loads(client.get(GEOJSON, {"bbox": "30,50,31,51"}).content)
    return {
        doctor["name"]: doctor["accepts_new_patients"]
        for feature in collection["features"]
        for doctor in feature["properties"]["doctors"]
    }


def facility_page(client, clinic) -> str:
    response = client.get(reverse("registry:facility-detail", args=[clinic.legal_entity.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_map_says_which_doctors_do_not_accept_new_patients(client, clinic):
    Employee.objects.filter(pk=clinic.therapist.pk).update(accepts_new_patients=False)
    shown = map_doctors(client)
    assert shown[str(clinic.therapist.party)] is False
    assert shown[str(clinic.family_doctor.party)] is True
    assert shown[str(clinic.paediatrician.party)] is True


def test_the_facility_page_lists_each_doctor_with_whether_they_accept_new_patients(client, clinic):
    Employee.objects.filter(pk=clinic.therapist.pk).update(accepts_new_patients=False)
    html = facility_page(client, clinic)
    doctors = html[html.index('class="plain doctor-list"') :]
    therapist = doctors[doctors.index(clinic.therapist.party.last_name) :].split("</li>")[0]
    family = doctors[doctors.index(clinic.family_doctor.party.last_name) :].split("</li>")[0]
    assert "не приймає нових пацієнтів" in therapist
    assert "приймає нових пацієнтів" in family and "не приймає" not in family
    assert "Терапевт" in therapist  # the main speciality in words


def test_the_served_map_and_page_follow_a_full_list(client, clinic):
    GlobalParameter.objects.filter(name="declaration_limit_family_doctor").update(value="1")
    name = str(clinic.family_doctor.party)
    assert map_doctors(client)[name] is True  # cached from here on

    declaration_make(clinic)
    doctor_availability_refresh(party_ids=[clinic.family_doctor.party_id])

    assert map_doctors(client)[name] is False
    assert "не приймає нових пацієнтів" in facility_page(client, clinic)


def test_the_map_popup_and_the_page_carry_the_words_for_the_script(client, clinic):
    html = facility_page(client, clinic)
    assert 'data-accepting-label="приймає нових пацієнтів"' in html
    assert 'data-not-accepting-label="не приймає нових пацієнтів"' in html


@pytest.mark.usefixtures("reference_data")
def test_the_facility_page_costs_the_same_queries_for_three_or_nine_doctors(client, clinic):
    facility_page(client, clinic)  # the dictionaries' labels are read once per version
    with CaptureQueriesContext(connection) as few:
        facility_page(client, clinic)
    for last_name in ("Гончар", "Кравець", "Мельник", "Олійник", "Пасічник", "Швець"):
        doctor_make(clinic.legal_entity, clinic.division, last_name=last_name)
    facility_page(client, clinic)
    with CaptureQueriesContext(connection) as many:
        html = facility_page(client, clinic)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert html.count("нових пацієнтів") == 9 + 2  # each doctor, and the two words for the map script
