"""The vendored browser assets: signing with a PKCS#12 key file in chromium, and the two map scripts.

Signatures made by static/vendor/pkijs/ehealth-sign.js must pass the portal's own verifier.
"""

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from playwright.sync_api import expect

from ehealth_portal.signatures import SignatureError, verify_signature
from ehealth_portal.signatures.devpki import DevPki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "static" / "vendor" / "pkijs" / "ehealth-sign.js"
CONTENT = json.dumps(
    {"edrpou": "37367387", "name": "Клініка «Здоров’я»", "owner": {"tax_id": "3067305998"}},
    ensure_ascii=False,
    separators=(",", ":"),
    sort_keys=True,
).encode()
EC_PASSWORD = "Пароль ключа 1"  # not ASCII: PKCS#12 MAC and PBES2 encode passwords differently

SIGN = """async ({p12, password, content, detached}) => {
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  try {
    const signature = await EhealthSign.signWithPkcs12(
      {p12: bytes(p12).buffer, password, content: bytes(content), detached});
    return {signature: EhealthSign.base64(signature)};
  } catch (error) {
    return {code: error.code, message: error.message};
  }
}"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("devpki")
    pki = DevPki(directory / "ca", directory / "bundle.pem", directory / "crls")
    pki.init(intermediate=True)  # the verifier gets the intermediate only from the PKCS#12, via the CMS
    pki.issue(
        "head-rsa", surname="Шевченко", given_names="Тарас Григорович", drfo="3067305998", edrpou="37367387"
    )
    pki.issue(
        "head-ec",
        key_type="ec",
        password=EC_PASSWORD,
        surname="Франко",
        given_names="Іван Якович",
        drfo="2222222222",
    )
    return pki


@pytest.fixture(autouse=True)
def _trust(settings, pki):
    settings.SIGNATURE_CA_BUNDLE = pki.bundle
    settings.SIGNATURE_CRLS = pki.crls


@pytest.fixture
def sign(page):
    page.goto("/")
    page.add_script_tag(url="/static/vendor/pkijs/ehealth-sign.js")  # from our origin: the CSP allows it

    def sign(p12: bytes, password: str, *, content: bytes = CONTENT, detached: bool = False) -> dict:
        arguments = {
            "p12": base64.b64encode(p12).decode(),
            "password": password,
            "content": base64.b64encode(content).decode(),
            "detached": detached,
        }
        return page.evaluate(SIGN, arguments)

    return sign


def _p12(pki: DevPki, name: str) -> bytes:
    return pki.paths(name)["p12"].read_bytes()


@pytest.mark.parametrize(
    ("name", "password", "drfo", "edrpou"),
    [("head-rsa", "devpki", "3067305998", "37367387"), ("head-ec", EC_PASSWORD, "2222222222", None)],
)
def test_a_signature_made_in_the_browser_passes_the_portal_verifier(
    page, sign, pki, name, password, drfo, edrpou
):
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    result = sign(_p12(pki, name), password)

    assert "signature" in result, result
    document = verify_signature(result["signature"])
    assert document.content == CONTENT
    assert not document.detached
    assert (document.signer.drfo, document.signer.edrpou) == (drfo, edrpou)
    assert abs(document.signer.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    assert requests == []  # the key file and the password stay in the page


def test_a_detached_signature_verifies_with_the_document(sign, pki):
    result = sign(_p12(pki, "head-rsa"), "devpki", detached=True)

    document = verify_signature(result["signature"], CONTENT)
    assert document.detached
    assert document.signer.drfo == "3067305998"
    with pytest.raises(SignatureError) as missing:
        verify_signature(result["signature"])
    assert missing.value.code == "content_missing"
    with pytest.raises(SignatureError) as changed:
        verify_signature(result["signature"], CONTENT.replace(b"37367387", b"37367388"))
    assert changed.value.code == "content_mismatch"


def _p12_variant(pki: DevPki, *, key: bool = True, certificate: bool = True, legacy: bool = False) -> bytes:
    credential = pki.credential("head-rsa")
    builder = PrivateFormat.PKCS12.encryption_builder()
    if legacy:  # what old OpenSSL and Windows exported: 3DES with SHA-1
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(
            hashes.SHA1()
        )
    return pkcs12.serialize_key_and_certificates(
        b"variant",
        credential.private_key if key else None,
        credential.certificate if certificate else None,
        None,
        builder.build(b"devpki"),
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong password", "wrong_password"),
        ("a certificate, not a key file", "not_pkcs12"),
        ("a signature, not a key file", "not_pkcs12"),
        ("only a certificate inside", "no_key"),
        ("only a key inside", "no_certificate"),
        ("legacy 3DES encryption", "unsupported_encryption"),
    ],
)
def test_an_unusable_key_file_is_refused_with_its_reason(sign, pki, case, code):
    signature = sign(_p12(pki, "head-rsa"), "devpki")["signature"]
    p12, password = {
        "wrong password": (_p12(pki, "head-rsa"), "devpki2"),
        "a certificate, not a key file": (pki.paths("head-rsa")["cert.pem"].read_bytes(), "devpki"),
        "a signature, not a key file": (base64.b64decode(signature), "devpki"),
        "only a certificate inside": (_p12_variant(pki, key=False), "devpki"),
        "only a key inside": (_p12_variant(pki, certificate=False), "devpki"),
        "legacy 3DES encryption": (_p12_variant(pki, legacy=True), "devpki"),
    }[case]

    result = sign(p12, password)

    assert "signature" not in result
    assert result["code"] == code, result


def test_the_bundle_is_built_from_the_current_source_and_lock_file():
    banner = BUNDLE.read_text(encoding="utf-8").split("*/", 1)[0]
    source = (ROOT / "static" / "js" / "src" / "sign.js").read_text(encoding="utf-8").replace("\r\n", "\n")
    assert f"source sha256 {hashlib.sha256(source.encode()).hexdigest()}" in banner, "run npm run build"
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name in ("pkijs", "asn1js"):
        assert f"{name} {lock[f'node_modules/{name}']['version']} " in banner
    leaflet = (ROOT / "static" / "vendor" / "leaflet" / "leaflet.js").read_text(encoding="utf-8")[:200]
    assert f"Leaflet {lock['node_modules/leaflet']['version']}" in leaflet


# --- Maps -------------------------------------------------------------------------------------------

MAP_PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
<link rel="stylesheet" href="/test-map.css">
</head><body>{body}
<script src="/static/vendor/leaflet/leaflet.js"></script>
<script src="/static/js/portal-map.js"></script>
<script src="/static/js/{script}"></script>
</body></html>"""
TILES = "/map-tiles/{z}/{x}/{y}.png"
MAP_CSS = "[data-facility-map], [data-location-picker] { width: 800px; height: 500px; }"
MARKER_AT_CENTRE = """() => {
  const map = document.querySelector("[data-location-picker]").getBoundingClientRect();
  const icon = document.querySelector("[data-location-picker] .leaflet-marker-icon").getBoundingClientRect();
  // The marker's point is the tip of its icon.
  return Math.abs(icon.x + icon.width / 2 - (map.x + map.width / 2)) < 2
    && Math.abs(icon.bottom - (map.y + map.height / 2)) < 2;
}"""


@pytest.fixture
def offline_tiles(page):
    """Tests run offline: the tile server is unreachable, which the maps must survive."""
    page.route("**/map-tiles/**", lambda route: route.abort())
    # The maps' size, from our origin (the CSP allows no inline style).
    page.route("**/test-map.css", lambda route: route.fulfill(body=MAP_CSS, content_type="text/css"))


def test_a_click_on_the_location_picker_fills_the_coordinates(page, offline_tiles):
    page.goto("/")
    body = f"""<label for="lat">Lat</label><input id="lat"> <label for="lng">Lng</label><input id="lng">
    <div data-location-picker data-lat-input="lat" data-lng-input="lng" data-tile-url="{TILES}"
         data-tile-attribution="© test"></div>"""
    page.set_content(MAP_PAGE.format(body=body, script="location-picker.js"))
    picker = page.locator("[data-location-picker]")
    expect(picker).to_have_class(re.compile("leaflet-container"))
    expect(picker.locator(".leaflet-marker-icon")).to_have_count(0)

    picker.click(position={"x": 400, "y": 250})  # the centre: the initial view is all of Ukraine

    lat, lng = page.locator("#lat").input_value(), page.locator("#lng").input_value()
    assert re.fullmatch(r"\d+\.\d{6}", lat) and re.fullmatch(r"\d+\.\d{6}", lng), (lat, lng)
    assert abs(float(lat) - 48.5) < 0.1 and abs(float(lng) - 31.2) < 0.1
    marker = picker.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)

    # Typing coordinates (a decimal comma too) moves the marker to the map's centre.
    page.locator("#lat").fill("50,450100")
    page.locator("#lng").fill("30.523400")
    page.wait_for_function(MARKER_AT_CENTRE)  # after the pan animation

    page.locator("#lat").fill("")
    expect(marker).to_have_count(0)


def test_the_facility_map_shows_markers_from_the_geojson_endpoint(page, offline_tiles):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [30.5234, 50.4501]},
            "properties": {"name": "Клініка «Здоров’я»", "address": "Київ, вул. Хрещатик, 1", "url": "/f/1/"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [24.0316, 49.8429]},
            "properties": {"name": "<b>Львів</b>", "address": "Львів", "url": "javascript:alert(1)"},
        },
    ]
    page.route(
        "**/test-geojson*",
        lambda route: route.fulfill(json={"type": "FeatureCollection", "features": features}),
    )
    page.goto("/")
    body = f"""<div data-facility-map data-geojson-url="/test-geojson" data-tile-url="{TILES}"
         data-tile-attribution="© test" data-link-label="Сторінка закладу"></div>"""
    with page.expect_request("**/test-geojson*") as first:
        page.set_content(MAP_PAGE.format(body=body, script="facility-map.js"))
    facility_map = page.locator("[data-facility-map]")

    expect(facility_map).to_have_attribute("data-state", "ready")
    expect(facility_map).to_have_attribute("data-feature-count", "2")
    west, south, east, north = _bbox(first.value.url)
    assert west < 24.0 < 30.6 < east and south < 49.8 < 50.5 < north

    popup = facility_map.locator(".leaflet-popup-content")
    # Names are text, never HTML, and only http(s) or portal links are made.
    facility_map.get_by_role("button", name="<b>Львів</b>").click()
    expect(popup).to_have_text("<b>Львів</b>Львів")
    expect(popup.get_by_role("link")).to_have_count(0)

    facility_map.get_by_role("button", name="Клініка «Здоров’я»").click()
    expect(popup).to_have_count(1)  # the other one closed
    expect(popup).to_contain_text("Київ, вул. Хрещатик, 1")
    expect(popup.get_by_role("link", name="Сторінка закладу")).to_have_attribute("href", "/f/1/")

    # Zooming in refetches the markers of the smaller view. (Opening a popup may pan the map and
    # refetch too, so look for the request with the smaller box rather than the next request.)
    requested = []
    page.on("request", lambda request: "/test-geojson" in request.url and requested.append(request.url))
    facility_map.get_by_role("button", name="Наблизити").click()
    zoomed = None
    for _ in range(50):
        boxes = [_bbox(url) for url in requested]
        zoomed = next((box for box in boxes if box[2] - box[0] < (east - west) * 0.75), None)
        if zoomed:
            break
        page.wait_for_timeout(100)
    assert zoomed, f"no smaller view was fetched after zooming in: {requested}"
    assert west < zoomed[0] < zoomed[2] < east and south < zoomed[1] < zoomed[3] < north
    expect(facility_map).to_have_attribute("data-state", "ready")
    expect(popup).to_contain_text("Київ, вул. Хрещатик, 1")  # the refetch kept the open popup


def _bbox(url: str) -> list[float]:
    (value,) = parse_qs(urlsplit(url).query)["bbox"]
    return [float(number) for number in value.split(",")]
