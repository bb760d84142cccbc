"""The cabinet's places of service: the list, adding one with the map location and working hours,
changing, activating and deactivating it — refusals at the field, rights, and another facility's places."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from registry.models import Division
from registry.selectors import division_geojson
from tests.factories import UserFactory

from .divisions_data import clinic_with_people, division_at, division_state

pytestmark = pytest.mark.usefixtures("reference_data")

FORM = {
    "name": "Амбулаторія загальної практики № 2",
    "type": "AMBULANT_CLINIC",
    "email": "Ambulatory2@Clinic.example",
    "phone_mobile": "050 111 22 33",
    "phone_landline": "",
    "division_area": "М.КИЇВ",
    "division_region": "",
    "division_settlement_type": "CITY",
    "division_settlement": "Київ",
    "division_street_type": "STREET",
    "division_street": "Хрещатик",
    "division_building": "5",
    "division_apartment": "",
    "division_zip": "01001",
    "division_latitude": "50.447200",  # as the map's click writes them
    "division_longitude": "30.522600",
    "hours_mon": "13.00-17.00, 8:00 - 12.00",
    "hours_tue": "",
    "hours_wed": "",
    "hours_thu": "",
    "hours_fri": "08.00–16.00",
    "hours_sat": "",
    "hours_sun": "",
}


@pytest.fixture
def clinic():
    return clinic_with_people()


@pytest.fixture
def head_client(client, clinic):
    client.force_login(clinic.head)
    return client


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["form"]
    return {name: [error.code for error in errors.as_data()] for name, errors in form.errors.items()}


def create(client, **changes):
    return client.post(reverse("registry:division-create"), {**FORM, **changes})


# --- The list -----------------------------------------------------------------------------------------


def test_the_list_shows_the_facilitys_places_only_and_filters(head_client, clinic):
    division_at(clinic.legal_entity, name="ФАП у селі", type="FAP", status=Division.Status.INACTIVE)
    html = head_client.get(reverse("registry:division-list")).content.decode()
    assert "Амбулаторія на Хрещатику" in html and "ФАП у селі" in html
    assert "Чужа амбулаторія" not in html
    assert reverse("registry:division-create") in html
    detail = reverse("registry:division-detail", args=[clinic.division.pk])
    assert f'href="{detail}"' in html

    active = head_client.get(reverse("registry:division-list"), {"status": "ACTIVE"}).content.decode()
    assert "Амбулаторія на Хрещатику" in active and "ФАП у селі" not in active
    by_name = head_client.get(reverse("registry:division-list"), {"name": "фап"}).content.decode()
    assert "ФАП у селі" in by_name and "Амбулаторія на Хрещатику" not in by_name
    by_type = head_client.get(reverse("registry:division-list"), {"type": "CLINIC"}).content.decode()
    assert "Амбулаторія на Хрещатику" in by_type and "ФАП у селі" not in by_type


def test_the_cabinet_links_to_the_places_of_service(head_client, client, clinic):
    html = head_client.get(reverse("registry:cabinet")).content.decode()
    assert f'href="{reverse("registry:division-list")}"' in html
    assert f'href="{reverse("registry:division-create")}"' in html
    client.force_login(clinic.doctor)
    html = client.get(reverse("registry:cabinet")).content.decode()
    assert f'href="{reverse("registry:division-list")}"' in html
    assert reverse("registry:division-create") not in html


def test_a_doctor_reads_the_places_but_cannot_add_change_or_switch_them(client, clinic):
    client.force_login(clinic.doctor)
    before = (Division.objects.count(), division_state(clinic.division))
    html = client.get(reverse("registry:division-detail", args=[clinic.division.pk])).content.decode()
    assert "Амбулаторія на Хрещатику" in html
    assert reverse("registry:division-edit", args=[clinic.division.pk]) not in html
    assert reverse("registry:division-deactivate", args=[clinic.division.pk]) not in html
    assert client.get(reverse("registry:division-create")).status_code == 403
    assert create(client).status_code == 403
    edit = reverse("registry:division-edit", args=[clinic.division.pk])
    assert client.post(edit, {**FORM, "name": "Інша назва"}).status_code == 403
    deactivate = reverse("registry:division-deactivate", args=[clinic.division.pk])
    assert client.post(deactivate).status_code == 403
    assert (Division.objects.count(), division_state(clinic.division)) == before


def test_the_pages_need_a_sign_in_and_a_job_at_the_facility(client, clinic):
    response = client.get(reverse("registry:division-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(UserFactory())  # works nowhere
    assert client.get(reverse("registry:division-list")).status_code == 403
    assert create(client).status_code == 403


# --- Adding one -----------------------------------------------------------------------------------------


def test_adding_a_place_with_the_map_location_and_working_hours(head_client, clinic):
    page = head_client.get(reverse("registry:division-create")).content.decode()
    # The wizard's location picker, wired to this form's coordinates and address.
    assert "data-location-picker" in page
    assert 'data-lat-input="id_division_latitude" data-lng-input="id_division_longitude"' in page
    assert "js/location-picker.js" in page

    response = create(head_client)
    division = Division.objects.exclude(pk__in=[clinic.division.pk, clinic.other_division.pk]).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:division-detail", args=[division.pk])
    assert division.legal_entity == clinic.legal_entity
    assert (division.status, division.type, division.email) == (
        "ACTIVE",
        "AMBULANT_CLINIC",
        "ambulatory2@clinic.example",
    )
    assert (division.latitude, division.longitude) == (Decimal("50.447200"), Decimal("30.522600"))
    assert division.phones == [{"type": "MOBILE", "number": "+380501112233"}]
    assert division.addresses[0]["type"] == "RESIDENCE" and division.addresses[0]["street"] == "Хрещатик"
    assert division.working_hours == {
        "mon": [["08.00", "12.00"], ["13.00", "17.00"]],
        "fri": [["08.00", "16.00"]],
    }
    assert division.history.get().history_user == clinic.head

    detail = head_client.get(response["Location"]).content.decode()
    assert "08.00-12.00, 13.00-17.00" in detail and "50.447200, 30.522600" in detail
    names = [feature["properties"]["name"] for feature in division_geojson()["features"]]
    assert "Амбулаторія загальної практики № 2" in names  # on the public map at once


def test_a_fap_is_a_place_of_service_a_drugstore_is_not(head_client, clinic):
    assert create(head_client, type="FAP", name="ФАП").status_code == 302
    assert Division.objects.filter(name="ФАП", type="FAP").exists()
    count = Division.objects.count()
    response = create(head_client, type="DRUGSTORE", name="Аптека")
    assert field_errors(response) == {"type": ["invalid_choice"]}
    assert Division.objects.count() == count


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"hours_mon": "08.00-12.00, 11.00-14.00"}, {"hours_mon": ["intervals_overlap"]}),
        ({"hours_tue": "17.00-08.00"}, {"hours_tue": ["interval_order"]}),
        ({"hours_wed": "08.00-25.00"}, {"hours_wed": ["time_format"]}),
        ({"hours_thu": "з восьмої"}, {"hours_thu": ["interval_format"]}),
        ({"phone_mobile": ""}, {"phone_mobile": ["required"]}),
        ({"division_longitude": ""}, {"division_longitude": ["location_incomplete"]}),
        ({"division_latitude": "60.1"}, {"division_latitude": ["out_of_ukraine"]}),
        ({"division_building": "а5"}, {"division_building": ["format"]}),
        ({"name": "Амбулаторія Ы"}, {"name": ["name_forbidden_characters"]}),
    ],
)
def test_refusals_are_at_the_field_and_store_nothing(head_client, clinic, changes, errors):
    count, history = Division.objects.count(), Division.history.count()
    response = create(head_client, **changes)
    assert response.status_code == 200
    assert field_errors(response) == errors
    html = response.content.decode()
    assert "error-summary" in html and html.count('aria-invalid="true"') >= 1
    assert (Division.objects.count(), Division.history.count()) == (count, history)


def test_a_place_without_a_location_is_added_but_not_on_the_map(head_client, clinic):
    assert (
        create(head_client, division_latitude="", division_longitude="", name="Без мапи").status_code == 302
    )
    division = Division.objects.get(name="Без мапи")
    assert division.latitude is None and division.longitude is None
    assert "Без мапи" not in [feature["properties"]["name"] for feature in division_geojson()["features"]]


# --- Changing one -------------------------------------------------------------------------------------


def test_changing_a_place_shows_its_data_and_records_who(head_client, clinic):
    clinic.division.working_hours = {"mon": [["08.00", "12.00"], ["13.00", "17.00"]]}
    clinic.division.save()
    url = reverse("registry:division-edit", args=[clinic.division.pk])
    page = head_client.get(url)
    form = page.context["form"]
    assert form["name"].value() == "Амбулаторія на Хрещатику"
    assert form["hours_mon"].value() == "08.00-12.00, 13.00-17.00"
    assert form["phone_landline"].value() == "+380441234567"
    assert 'value="50.450100"' in page.content.decode()

    response = head_client.post(
        url,
        {
            **FORM,
            "name": "Амбулаторія на Хрещатику, 5",
            "type": "CLINIC",
            "division_latitude": "",  # the location is cleared: the place leaves the map
            "division_longitude": "",
            "hours_mon": "",
            "hours_fri": "",
            "hours_sun": "10.00-14.00",
        },
    )
    assert response.status_code == 302
    division = Division.objects.get(pk=clinic.division.pk)
    assert division.name == "Амбулаторія на Хрещатику, 5"
    assert division.latitude is None and division.longitude is None
    assert division.working_hours == {"sun": [["10.00", "14.00"]]}
    latest = division.history.latest("history_date")
    assert (latest.history_user, latest.name) == (clinic.head, "Амбулаторія на Хрещатику, 5")


def test_a_refused_change_changes_nothing(head_client, clinic):
    before = division_state(clinic.division)
    url = reverse("registry:division-edit", args=[clinic.division.pk])
    response = head_client.post(url, {**FORM, "hours_mon": "08.00-12.00, 09.00-10.00"})
    assert field_errors(response) == {"hours_mon": ["intervals_overlap"]}
    assert division_state(clinic.division) == before


# --- Activating and deactivating --------------------------------------------------------------------------


def test_deactivating_and_activating_with_post_buttons(head_client, clinic):
    detail = reverse("registry:division-detail", args=[clinic.division.pk])
    deactivate = reverse("registry:division-deactivate", args=[clinic.division.pk])
    activate = reverse("registry:division-activate", args=[clinic.division.pk])
    html = head_client.get(detail).content.decode()
    # One employee (the doctor) works there: said before the button, and not refused.
    assert 'id="deactivate-note"' in html and 'aria-describedby="deactivate-note"' in html
    assert re.search(
        rf'<form method="post" action="{deactivate}">\s*<input type="hidden" name="csrfmiddlewaretoken"', html
    )
    assert head_client.get(deactivate).status_code == 405

    response = head_client.post(deactivate, follow=True)
    assert response.redirect_chain == [(detail, 302)]
    clinic.division.refresh_from_db()
    assert clinic.division.status == "INACTIVE"
    assert clinic.division.history.latest("history_date").history_user == clinic.head
    assert [message.level_tag for message in response.context["messages"]] == ["success"]
    assert clinic.division.name not in [f["properties"]["name"] for f in division_geojson()["features"]]
    clinic.doctor_employee.refresh_from_db()
    assert (clinic.doctor_employee.division, clinic.doctor_employee.is_active) == (clinic.division, True)

    history = clinic.division.history.count()
    again = head_client.post(deactivate, follow=True)  # a second click (another tab): refused, nothing new
    assert again.status_code == 200
    assert [message.level_tag for message in again.context["messages"]] == ["error"]
    assert clinic.division.history.count() == history

    assert head_client.post(activate).status_code == 302
    clinic.division.refresh_from_db()
    assert clinic.division.status == "ACTIVE"


def test_another_facilitys_place_is_404_and_unchanged(head_client, clinic):
    other = clinic.other_division
    before = division_state(other)
    for name in ("registry:division-detail", "registry:division-edit"):
        assert head_client.get(reverse(name, args=[other.pk])).status_code == 404
    assert head_client.post(reverse("registry:division-edit", args=[other.pk]), FORM).status_code == 404
    for name in ("registry:division-deactivate", "registry:division-activate"):
        assert head_client.post(reverse(name, args=[other.pk])).status_code == 404
    assert division_state(other) == before
