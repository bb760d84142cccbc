"""Pages after submission: status, invitation, cabinet; the public list, facility page and map data."""

import datetime
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from registry.models import Division, Employee, EmployeeRequest, LegalEntity, Party, RegistrationApplication
from registry.services import registration_application_submit
from tests.accounts.helpers import create_account, main_html, signed_in_user_id

from .conftest import CLINIC_EDRPOU, HEAD_EMAIL

pytestmark = pytest.mark.django_db

PASSWORD = "Smereka-u-Karpatakh-2026"


def submit(registration, pki, run_on_commit, *, data=None, **person):
    data = data or registration.payload()
    envelope = pki.sign(pki.person(**person), registration.canonical(data))
    application, token = run_on_commit(registration_application_submit, signed_envelope=envelope, data=data)
    application.refresh_from_db()
    return application, token


def invitation_token(outbox_email_body: str) -> str:
    return re.search(r"/invite/([\w-]+)/", outbox_email_body)[1]


@pytest.fixture
def registered(registration, pki, run_on_commit, outbox):
    """The demo clinic registered through the checks; the head's invitation token from the email."""
    registration.register_clinic()
    application, status_token = submit(registration, pki, run_on_commit)
    assert application.status == RegistrationApplication.Status.APPROVED
    invitation = next(message for message in outbox if "/invite/" in message.body)
    return application, status_token, invitation_token(invitation.body)


def accept(client, token, password=PASSWORD, again=None):
    return client.post(
        reverse("registry:invitation", args=[token]), {"password1": password, "password2": again or password}
    )


def facility_state():
    return (
        EmployeeRequest.objects.values_list("status", flat=True).first(),
        Employee.objects.count(),
        get_user_model().objects.count(),
        Party.objects.filter(user__isnull=False).count(),
    )


# --- Status page -------------------------------------------------------------------------------------


def test_status_page_of_a_registered_application(client, registered):
    application, status_token, _invitation = registered
    response = client.get(reverse("registry:application-status", args=[status_token]))
    html = main_html(response)
    assert response.status_code == 200
    assert application.name in html and CLINIC_EDRPOU in html
    assert "Заклад зареєстровано" in html and HEAD_EMAIL in html
    steps = re.findall(r'<span class="check-step">([^<]+)</span>', html)
    assert len(steps) == 3
    assert "http-equiv" not in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_status_page_while_the_checks_wait_refreshes_itself(client, registration, pki):
    data = registration.payload()
    envelope = pki.sign(pki.person(), registration.canonical(data))
    _application, token = registration_application_submit(
        signed_envelope=envelope, data=data
    )  # not committed
    response = client.get(reverse("registry:application-status", args=[token]))
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in html
    assert "Ми перевіряємо вашу заяву" in main_html(response)
    # The signature was checked at submission; the other checks are still to come.
    assert re.findall(r'<span class="check-step">([^<]+)</span>', main_html(response)) == ["Підпис"]


def test_status_page_of_a_rejected_application_gives_the_reasons_and_a_way_to_correct(
    client, registration, pki, run_on_commit
):
    application, token = submit(registration, pki, run_on_commit)  # the clinic is not in the register
    assert application.status == RegistrationApplication.Status.REJECTED
    html = main_html(client.get(reverse("registry:application-status", args=[token])))
    assert application.reasons[0]["message"] in html
    assert f'href="/register/?correct={token}"' in html


def test_unknown_status_token_is_404(client, registered):
    _application, status_token, _invitation = registered
    assert (
        client.get(reverse("registry:application-status", args=["x" + status_token[1:]])).status_code == 404
    )
    assert client.get(reverse("registry:application-status", args=["nonsense"])).status_code == 404


# --- Invitation ---------------------------------------------------------------------------------------


def test_the_invitation_shows_the_facility_role_and_the_login(client, registered):
    application, _status, token = registered
    response = client.get(reverse("registry:invitation", args=[token]))
    html = main_html(response)
    assert application.name in html and "Директор" in html
    assert f'value="{HEAD_EMAIL}" readonly' in html
    assert 'name="email"' not in html  # the login is shown, not editable


def test_accepting_sets_the_password_signs_in_and_opens_the_cabinet(client, registered):
    application, _status, token = registered
    response = accept(client, token)
    # The cabinet of the facility that invited them.
    facility = LegalEntity.objects.get()
    assert (
        response.status_code == 302
        and response.url == f"{reverse('registry:cabinet')}?facility={facility.pk}"
    )
    user = get_user_model().objects.get(email=HEAD_EMAIL)
    assert user.check_password(PASSWORD)
    assert str(signed_in_user_id(client)) == str(user.pk)
    cabinet = main_html(client.get(response.url))
    assert application.name in cabinet and "Коваленко Олена Петрівна" in cabinet
    assert "Ще не верифіковано НСЗУ" in cabinet
    assert "Амбулаторія на Хрещатику" in cabinet


def test_a_second_use_of_the_link_changes_nothing(client, registered):
    _application, _status, token = registered
    accept(client, token)
    client.logout()
    before = facility_state()
    response = accept(client, token, password="Insha-Dovha-Fraza-2027")
    assert response.status_code == 410
    assert "Це запрошення вже використано" in main_html(response)
    assert facility_state() == before
    assert get_user_model().objects.get(email=HEAD_EMAIL).check_password(PASSWORD)
    assert client.get(reverse("registry:invitation", args=[token])).status_code == 410


def test_an_expired_link_changes_nothing(client, registered):
    _application, _status, token = registered
    EmployeeRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    before = facility_state()
    response = accept(client, token)
    assert response.status_code == 410
    assert "Строк дії запрошення минув" in main_html(response)
    assert facility_state() == before
    assert not get_user_model().objects.filter(email=HEAD_EMAIL).exists()


def test_a_tampered_link_changes_nothing(client, registered):
    _application, _status, token = registered
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    before = facility_state()
    response = accept(client, tampered)
    assert response.status_code == 404
    assert "Це посилання-запрошення недійсне" in main_html(response)
    assert facility_state() == before


def test_different_or_weak_passwords_are_refused_next_to_the_field(client, registered):
    _application, _status, token = registered
    before = facility_state()
    response = accept(client, token, again=PASSWORD + "x")
    assert response.context["form"].errors == {"password2": ["Паролі не збігаються."]}
    response = accept(client, token, password="1234567890")
    assert response.context["form"].errors["password1"]
    assert 'aria-invalid="true"' in main_html(response)
    assert facility_state() == before


def test_accepting_is_rate_limited(client, registered, settings):
    _application, _status, token = registered
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "invitation_accept": "2/m/ip"}
    for _attempt in range(2):
        assert accept(client, token, again="different-one").status_code == 200
    assert accept(client, token).status_code == 429
    assert facility_state()[1] == 0  # the limited attempt did nothing


# --- Cabinet ---------------------------------------------------------------------------------------------


def test_the_cabinet_needs_a_sign_in(client):
    response = client.get(reverse("registry:cabinet"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_cabinet_is_only_for_the_facilitys_active_employees(client, registered):
    _application, _status, token = registered
    accept(client, token)
    assert client.get(reverse("registry:cabinet")).status_code == 200

    client.force_login(create_account("stranger@example.com"))
    assert client.get(reverse("registry:cabinet")).status_code == 403

    head = get_user_model().objects.get(email=HEAD_EMAIL)
    Employee.objects.update(is_active=False, status=Employee.Status.DISMISSED)
    client.force_login(head)
    assert client.get(reverse("registry:cabinet")).status_code == 403


# --- Public list, facility page, map data ---------------------------------------------------------------


def public_facility(
    name, edrpou, *, area="М.КИЇВ", settlement="Київ", confirmed=True, location=(50.45, 30.52)
):
    """A facility as the registration leaves it; confirmed = its head accepted the invitation."""
    legal_entity = LegalEntity.objects.create(
        edrpou=edrpou,
        name=name,
        legal_form="240",
        owner_property_type="PRIVATE",
        email="info@clinic.example",
        phones=[{"type": "MOBILE", "number": "+380501234567"}],
        addresses=[
            {
                "type": "REGISTRATION",
                "country": "UA",
                "area": area,
                "settlement": settlement,
                "settlement_type": "CITY",
            }
        ],
    )
    Division.objects.create(
        legal_entity=legal_entity,
        name=f"Амбулаторія {name}",
        addresses=[{"type": "RESIDENCE", "country": "UA", "area": area, "settlement": settlement}],
        email="ambulatory@clinic.example",
        latitude=location[0],
        longitude=location[1],
    )
    if confirmed:
        party = Party.objects.create(
            last_name="Коваленко",
            first_name="Олена",
            birth_date=datetime.date(1980, 5, 17),
            tax_id=edrpou + "00",
        )
        Employee.objects.create(
            legal_entity=legal_entity,
            party=party,
            employee_type="OWNER",
            position="P2",
            start_date=timezone.localdate(),
        )
    return legal_entity


@pytest.fixture
def facilities(reference_data):
    return {
        "kyiv": public_facility("Клініка Дніпро", "10000001"),
        "lviv": public_facility(
            "Медцентр Лева", "10000002", area="ЛЬВІВСЬКА", settlement="Львів", location=(49.84, 24.03)
        ),
        "bucha": public_facility(
            "Клініка Буча", "10000003", area="КИЇВСЬКА", settlement="Буча", location=(50.54, 30.21)
        ),
        "unconfirmed": public_facility("Клініка Невідома", "10000004", confirmed=False),
    }


def listed(response) -> list[str]:
    return re.findall(r'<h2><a href="/facilities/[^"]+/">([^<]+)</a></h2>', main_html(response))


def test_the_public_list_shows_only_confirmed_facilities(client, facilities):
    response = client.get(reverse("registry:facility-list"))
    assert sorted(listed(response)) == ["Клініка Буча", "Клініка Дніпро", "Медцентр Лева"]
    assert "Знайдено 3 заклади" in main_html(response)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"q": "клініка"}, ["Клініка Буча", "Клініка Дніпро"]),
        ({"q": "10000002"}, ["Медцентр Лева"]),
        ({"q": "10000004"}, []),
        ({"area": "ЛЬВІВСЬКА"}, ["Медцентр Лева"]),
        ({"area": "КИЇВСЬКА", "settlement": "Буча"}, ["Клініка Буча"]),
        ({"q": "Клініка", "area": "М.КИЇВ"}, ["Клініка Дніпро"]),
    ],
)
def test_search_and_filters(client, facilities, query, names):
    response = client.get(reverse("registry:facility-list"), query)
    assert sorted(listed(response)) == names
    if not names:
        assert "Жоден заклад не відповідає пошуку" in main_html(response)


def test_the_list_is_paginated_by_20_and_keeps_the_filters(client, reference_data):
    for number in range(25):
        public_facility(f"Амбулаторія {number:02d}", f"2{number:07d}")
    first = client.get(reverse("registry:facility-list"), {"q": "Амбулаторія"})
    assert len(listed(first)) == 20
    assert "Сторінка 1 з 2" in main_html(first)
    assert "?q=%D0%90%D0%BC%D0%B1%D1%83%D0%BB%D0%B0%D1%82%D0%BE%D1%80%D1%96%D1%8F&amp;page=2" in main_html(
        first
    )
    second = client.get(reverse("registry:facility-list"), {"q": "Амбулаторія", "page": 2})
    assert listed(second) == [f"Амбулаторія {number:02d}" for number in range(20, 25)]
    assert client.get(reverse("registry:facility-list"), {"page": "99"}).status_code == 200


def test_the_facility_page_shows_public_data_and_a_map(client, facilities):
    legal_entity = facilities["lviv"]
    response = client.get(reverse("registry:facility-detail", args=[legal_entity.pk]))
    html = main_html(response)
    assert "Медцентр Лева" in html and "10000002" in html and "Львівська область" in html
    assert "+380501234567" in html and "info@clinic.example" in html
    assert "Амбулаторія Медцентр Лева" in html
    assert 'data-facility-map data-geojson-url="/map/divisions.geojson"' in html
    assert 'data-center-lat="49.840000"' in html


def test_unconfirmed_and_unknown_facilities_have_no_page(client, facilities):
    assert (
        client.get(reverse("registry:facility-detail", args=[facilities["unconfirmed"].pk])).status_code
        == 404
    )
    assert client.get(reverse("registry:facility-detail", args=[uuid.uuid4()])).status_code == 404


def test_the_map_page_loads_the_map_with_the_settings(client, settings):
    settings.MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    html = main_html(client.get(reverse("registry:facility-map")))
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in html
    assert 'data-geojson-url="/map/divisions.geojson"' in html


def geojson_names(client, **query):
    response = client.get(reverse("registry:division-geojson"), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    return sorted(feature["properties"]["name"] for feature in response.json()["features"])


def test_geojson_has_only_public_divisions_and_filters_by_bbox(client, facilities):
    everything = ["Амбулаторія Клініка Буча", "Амбулаторія Клініка Дніпро", "Амбулаторія Медцентр Лева"]
    assert geojson_names(client) == everything
    assert geojson_names(client, bbox="22,44,41,53") == everything
    assert geojson_names(client, bbox="23.5,49.5,24.5,50") == ["Амбулаторія Медцентр Лева"]
    assert geojson_names(client, bbox="30.4,50.4,30.6,50.5") == ["Амбулаторія Клініка Дніпро"]
    assert geojson_names(client, bbox="10,10,11,11") == []
    feature = client.get(reverse("registry:division-geojson"), {"bbox": "23.5,49.5,24.5,50"}).json()[
        "features"
    ][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [24.03, 49.84]}
    assert feature["properties"]["url"] == reverse("registry:facility-detail", args=[facilities["lviv"].pk])


@pytest.mark.parametrize(
    "bbox",
    ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "30,51,31,50", "0,-91,1,0", "-181,0,0,1", "nan,0,1,1", "inf,0,1,1"],
)
def test_a_bad_bbox_is_400_with_a_json_error(client, facilities, bbox):
    response = client.get(reverse("registry:division-geojson"), {"bbox": bbox})
    assert response.status_code == 400
    assert "bbox" in response.json()["error"]


def test_navigation_links_to_the_public_pages(client, reference_data):
    html = client.get(reverse("registry:facility-list")).content.decode()
    for url, text in (("/facilities/", "Заклади"), ("/map/", "Мапа"), ("/register/", "Зареєструвати заклад")):
        assert f'<a href="{url}"' in html and text in html


def test_the_list_and_the_map_are_served_from_the_cache_until_the_registry_changes(
    client, facilities, django_assert_num_queries
):
    from registry.services import legal_entity_deactivate

    client.get(reverse("registry:facility-list"), {"q": "Клініка"})
    first = client.get(reverse("registry:division-geojson"), {"bbox": "30,50,31,51"})
    with django_assert_num_queries(0):  # the results and the GeoJSON are rendered once per version
        assert sorted(listed(client.get(reverse("registry:facility-list"), {"q": "Клініка"}))) == [
            "Клініка Буча",
            "Клініка Дніпро",
        ]
        again = client.get(
            reverse("registry:division-geojson"), {"bbox": "30.1,50.2,30.9,50.9"}
        )  # same grid cell
        assert again.content == first.content
        unchanged = client.get(
            reverse("registry:division-geojson"), {"bbox": "30,50,31,51"}, HTTP_IF_NONE_MATCH=first["ETag"]
        )
        assert unchanged.status_code == 304
    assert first["Cache-Control"] == "public, max-age=60" and first["Last-Modified"]

    legal_entity_deactivate(legal_entity=facilities["bucha"], actor=None)  # closed: off the list and the map
    assert listed(client.get(reverse("registry:facility-list"), {"q": "Клініка"})) == ["Клініка Дніпро"]
    changed = client.get(
        reverse("registry:division-geojson"), {"bbox": "30,50,31,51"}, HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert changed.status_code == 200
    assert [feature["properties"]["name"] for feature in changed.json()["features"]] == [
        "Амбулаторія Клініка Дніпро"
    ]
