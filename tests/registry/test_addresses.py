"""One address line everywhere (registry.addresses), coordinates written one way, and where settlements are
(registry.places and its endpoint for the address picker)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.addresses import address_format, address_text
from registry.models import Division, Employee, LegalEntity, Party
from registry.places import _gazetteer, coordinates_text, gazetteer, settlement_places
from tests.accounts.helpers import create_account, main_html

KHRESHCHATYK = {
    "type": "RESIDENCE",
    "country": "UA",
    "zip": "01001",
    "area": "М.КИЇВ",
    "settlement": "КИЇВ",
    "settlement_type": "CITY",
    "street_type": "STREET",
    "street": "ХРЕЩАТИК",
    "building": "10",
}
KHRESHCHATYK_LINE = "вул. Хрещатик, 10, м. Київ, 01001"


# --- The formatter ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "line"),
    [
        (KHRESHCHATYK, KHRESHCHATYK_LINE),
        # Typed by a person: kept as typed, the city not repeated by its region.
        ({**KHRESHCHATYK, "settlement": "Київ", "street": "Хрещатик"}, KHRESHCHATYK_LINE),
        # A region that is not a code (the API takes any text) and equals the city.
        (
            {
                "area": "Київ",
                "settlement": "Київ",
                "settlement_type": "CITY",
                "street": "Хрещатик",
                "building": "1",
            },
            "Хрещатик, 1, м. Київ",
        ),
        ({"area": "М.КИЇВ", "settlement": "Київ"}, "м. Київ"),
        ({"area": "М.КИЇВ"}, "м. Київ"),
        (
            {
                "area": "КИЇВСЬКА",
                "region": "БОРИСПІЛЬСЬКИЙ",
                "settlement": "ГОРА",
                "settlement_type": "VILLAGE",
                "street_type": "STREET",
                "street": "ЦЕНТРАЛЬНА",
                "building": "5",
                "apartment": "3",
                "zip": "08324",
            },
            "вул. Центральна, 5, прим. 3, с. Гора, Бориспільський район, Київська область, 08324",
        ),
        (
            {
                "area": "ДНІПРОПЕТРОВСЬКА",
                "settlement": "КАМ’ЯНСЬКЕ",
                "settlement_type": "CITY",
                "street_type": "AVENUE",
                "street": "проспект Свободи",
                "building": "12а",
            },
            "просп. Свободи, 12а, м. Кам'янське, Дніпропетровська область",
        ),
        (
            {
                "area": "ІВАНО-ФРАНКІВСЬКА",
                "settlement": "ІВАНО-ФРАНКІВСЬК",
                "settlement_type": "CITY",
                "street_type": "STREET",
                "street": "50-РІЧЧЯ ПЕРЕМОГИ",
                "building": "7",
            },
            "вул. 50-річчя Перемоги, 7, м. Івано-Франківськ, Івано-Франківська область",
        ),
        # The type typed into the name is not written twice; the code's type wins.
        (
            {
                "area": "ЛЬВІВСЬКА",
                "settlement": "м. Львів",
                "street_type": "SQUARE",
                "street": "вул. Ринок",
                "building": "1",
                "apartment": "офіс 4",
            },
            "пл. Ринок, 1, офіс 4, м. Львів, Львівська область",
        ),
        (
            {"area": "КИЇВСЬКА", "settlement": "Козин", "settlement_type": "TOWNSHIP"},
            "смт Козин, Київська область",
        ),
        (
            {"area": "ОДЕСЬКА", "settlement": "Затока", "settlement_type": "SETTLEMENT"},
            "селище Затока, Одеська область",
        ),
        # A village whose name starts like a type word keeps its name.
        (
            {"area": "КИЇВСЬКА", "settlement": "Містоцьке", "settlement_type": "VILLAGE"},
            "с. Містоцьке, Київська область",
        ),
        ({"area": "Львівська", "settlement": "Винники"}, "Винники, Львівська область"),
        ({}, ""),
    ],
)
def test_an_address_is_written_one_way(address, line):
    assert address_format(address) == line


def test_the_first_address_of_a_type_is_the_one_written():
    registration = {**KHRESHCHATYK, "type": "REGISTRATION", "building": "1"}
    assert address_text([registration, KHRESHCHATYK], address_type="RESIDENCE") == KHRESHCHATYK_LINE
    assert address_text([registration, KHRESHCHATYK]).startswith("вул. Хрещатик, 1,")
    assert address_text([], address_type="RESIDENCE") == ""


@pytest.mark.django_db
def test_a_type_added_to_the_dictionary_later_is_written_with_its_label(reference_data):
    from registry.models import Dictionary, DictionaryValue

    DictionaryValue.objects.create(
        dictionary=Dictionary.objects.get(name="STREET_TYPE"), key="MAIDAN", label="Майдан"
    )
    line = address_format(
        {"settlement": "Київ", "street_type": "MAIDAN", "street": "Незалежності", "building": "1"}
    )
    assert line == "майдан Незалежності, 1, Київ"


# --- The same line on every page ------------------------------------------------------------------------


def public_facility(*, name="Клініка на Хрещатику", edrpou="10000001", user=None):
    legal_entity = LegalEntity.objects.create(
        edrpou=edrpou,
        name=name,
        legal_form="240",
        owner_property_type="PRIVATE",
        email="info@clinic.example",
        phones=[{"type": "MOBILE", "number": "+380501234567"}],
        addresses=[{**KHRESHCHATYK, "type": "REGISTRATION"}],
    )
    Division.objects.create(
        legal_entity=legal_entity,
        name="Амбулаторія на Хрещатику",
        addresses=[KHRESHCHATYK],
        email="ambulatory@clinic.example",
        latitude="50.450100",
        longitude="30.523400",
    )
    party = Party.objects.create(
        last_name="Коваленко",
        first_name="Олена",
        birth_date=datetime.date(1980, 5, 17),
        tax_id="3185409128",
        user=user,
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
def head(reference_data):
    return create_account("head@clinic.example")


@pytest.fixture
def facility(head):
    return public_facility(user=head)


def test_the_cabinet_list_facility_page_and_map_write_the_address_the_same_way(client, head, facility):
    client.force_login(head)
    cabinet = main_html(client.get(reverse("registry:cabinet")))
    listing = main_html(client.get(reverse("registry:facility-list")))
    page = main_html(client.get(reverse("registry:facility-detail", args=[facility.pk])))
    geojson = client.get(reverse("registry:division-geojson")).json()
    assert cabinet.count(KHRESHCHATYK_LINE) == 2  # the registration address and the place of service
    assert KHRESHCHATYK_LINE in listing
    assert page.count(KHRESHCHATYK_LINE) == 2
    assert geojson["features"][0]["properties"]["address"] == KHRESHCHATYK_LINE
    for html in (
        cabinet,
        listing,
        page,
    ):  # no stored capitals in the text (the region select's values are codes)
        assert not [text for text in re.findall(r">([^<]*)<", html) if "КИЇВ" in text or "ХРЕЩАТИК" in text]


def test_the_cabinet_writes_coordinates_with_points_and_names_its_places_column(client, head, facility):
    client.force_login(head)
    cabinet = main_html(client.get(reverse("registry:cabinet")))
    assert "50.450100, 30.523400" in cabinet
    assert "50,450100" not in cabinet
    table = cabinet[cabinet.index('id="divisions-title"') :]
    header = re.search(r"<thead><tr><th[^>]*>([^<]+)</th>", table)[1]
    head_label = re.search(r'id="head-title".*?<dt>([^<]+)</dt>', cabinet, re.S)[1]
    # The place's name is not a person's name ("Ім'я"): the column has its own word, "Назва".
    assert header != head_label
    assert header == "Назва"  # needs the merged catalogue


@pytest.mark.parametrize(
    ("latitude", "longitude", "text"),
    [
        ("50.450100", "30.523400", "50.450100, 30.523400"),
        (50.4501, 30.5234, "50.450100, 30.523400"),
        ("-33.9", "151.2", "-33.900000, 151.200000"),
        (None, "30.5", ""),
    ],
)
def test_coordinates_are_written_with_decimal_points(latitude, longitude, text):
    assert coordinates_text(latitude, longitude) == text


# --- Where settlements are ------------------------------------------------------------------------------


def test_the_gazetteer_knows_ukraines_towns_by_their_ukrainian_names():
    kyiv = settlement_places(area="М.КИЇВ", settlement="Київ", settlement_type="CITY")
    assert len(kyiv) == 1
    assert abs(kyiv[0].latitude - 50.45) < 0.05 and abs(kyiv[0].longitude - 30.52) < 0.05
    assert kyiv[0].radius_km > 15  # a big city reaches far from its centre point
    (boryspil,) = settlement_places(area="КИЇВСЬКА", settlement="бориспіль", settlement_type="CITY")
    assert boryspil.radius_km == 3.2
    assert settlement_places(area="ДНІПРОПЕТРОВСЬКА", settlement="Кам’янське", settlement_type="CITY")
    # A name in another region is not this region's settlement.
    assert settlement_places(area="ЛЬВІВСЬКА", settlement="Бориспіль") == []
    assert len(gazetteer().region_bounds) == 27


def test_several_villages_of_one_name_are_all_kept():
    villages = settlement_places(area="ОДЕСЬКА", settlement="Петрівка", settlement_type="VILLAGE")
    assert len(villages) > 1
    assert all(village.region == "17" for village in villages)


def settlement_json(client, **query):
    response = client.get(reverse("registry:settlement-location"), query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response


def test_the_picker_learns_where_a_settlement_is(client, reference_data):
    response = settlement_json(client, area="КИЇВСЬКА", settlement="Бориспіль", settlement_type="CITY")
    answer = response.json()
    assert answer["settlement"] == "м. Бориспіль"
    assert answer["places"] == [{"latitude": 50.35051, "longitude": 30.95263, "radius_km": 3.2}]
    (south, west), (north, east) = answer["area"]["bounds"]
    assert south < 50.35 < north and west < 30.95 < east
    assert answer["area"]["name"] == "Київська область"
    assert answer["attribution"] == "GeoNames"
    assert answer["messages"]["far"] == (
        "Точка на мапі — за {distance} км від населеного пункту м. Бориспіль. Перевірте адресу або перемістіть "
        "позначку на місце надання послуг."
    )
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_a_settlement_the_map_does_not_know_leaves_the_region(client, reference_data):
    answer = settlement_json(
        client, area="ЛЬВІВСЬКА", settlement="Небувалівка", settlement_type="VILLAGE"
    ).json()
    assert answer["places"] == []
    assert answer["area"]["name"] == "Львівська область"
    assert set(answer["messages"]) == {"not_found", "outside_area"}
    assert "с. Небувалівка" in answer["messages"]["not_found"]
    assert "«Львівська область»" in answer["messages"]["outside_area"]


def test_nothing_known_gives_nothing(client, reference_data):
    answer = settlement_json(client, area="НЕ РЕГІОН", settlement="").json()
    assert answer == {"settlement": "", "places": [], "area": None, "attribution": "", "messages": {}}


def test_the_answer_is_kept_in_the_shared_cache_and_is_conditional(client, reference_data):
    query = {"area": "М.КИЇВ", "settlement": "Київ", "settlement_type": "CITY"}
    first = settlement_json(client, **query)
    assert first["Cache-Control"] == "public, max-age=86400" and first["ETag"]
    _gazetteer.cache_clear()
    again = client.get(
        reverse("registry:settlement-location"),
        query,
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_IF_NONE_MATCH=first["ETag"],
    )
    assert again.status_code == 304
    assert _gazetteer.cache_info().currsize == 0  # answered from the cache: the places were not read again
    assert (
        settlement_json(client, **{**query, "settlement_type": "VILLAGE"}).json()["settlement"] == "с. Київ"
    )
    assert _gazetteer.cache_info().currsize == 1  # another query: read again


def test_made_up_codes_are_left_out(client, reference_data):
    answer = settlement_json(client, area="ATLANTIS", settlement="Бориспіль", settlement_type="CASTLE").json()
    assert answer["settlement"] == "Бориспіль"  # no type, no region: found in the whole country
    assert len(answer["places"]) == 1 and answer["area"] is None
