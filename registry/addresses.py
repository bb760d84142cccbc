"""One line for an eHealth address: the same on every page, in the map's popups and wherever else it is shown.

Addresses are kept as eHealth sends them: codes for the settlement and street types, the region (`area`) as
the address register writes it ("М.КИЇВ", "ЛЬВІВСЬКА"), names as typed or in capitals. The line follows the
order Ukrposhta asks for — street and building, premises, settlement, district, region, postcode:
"вул. Хрещатик, 10, м. Київ, 01001". It is Ukrainian in every interface language: it is the place's
address, not interface text, so it is not translated.
"""

import re

# Regions (the `area` of an eHealth address) as the address register names them, with their names.
AREAS = [
    ("АВТОНОМНА РЕСПУБЛІКА КРИМ", "Автономна Республіка Крим"),
    ("ВІННИЦЬКА", "Вінницька область"),
    ("ВОЛИНСЬКА", "Волинська область"),
    ("ДНІПРОПЕТРОВСЬКА", "Дніпропетровська область"),
    ("ДОНЕЦЬКА", "Донецька область"),
    ("ЖИТОМИРСЬКА", "Житомирська область"),
    ("ЗАКАРПАТСЬКА", "Закарпатська область"),
    ("ЗАПОРІЗЬКА", "Запорізька область"),
    ("ІВАНО-ФРАНКІВСЬКА", "Івано-Франківська область"),
    ("КИЇВСЬКА", "Київська область"),
    ("КІРОВОГРАДСЬКА", "Кіровоградська область"),
    ("ЛУГАНСЬКА", "Луганська область"),
    ("ЛЬВІВСЬКА", "Львівська область"),
    ("МИКОЛАЇВСЬКА", "Миколаївська область"),
    ("ОДЕСЬКА", "Одеська область"),
    ("ПОЛТАВСЬКА", "Полтавська область"),
    ("РІВНЕНСЬКА", "Рівненська область"),
    ("СУМСЬКА", "Сумська область"),
    ("ТЕРНОПІЛЬСЬКА", "Тернопільська область"),
    ("ХАРКІВСЬКА", "Харківська область"),
    ("ХЕРСОНСЬКА", "Херсонська область"),
    ("ХМЕЛЬНИЦЬКА", "Хмельницька область"),
    ("ЧЕРКАСЬКА", "Черкаська область"),
    ("ЧЕРНІВЕЦЬКА", "Чернівецька область"),
    ("ЧЕРНІГІВСЬКА", "Чернігівська область"),
    ("М.КИЇВ", "м. Київ"),
    ("М.СЕВАСТОПОЛЬ", "м. Севастополь"),
]
AREA_NAMES = dict(AREAS)
# Cities with special status are regions of their own: their settlement is the region.
SPECIAL_STATUS_CITIES = {"М.КИЇВ": "Київ", "М.СЕВАСТОПОЛЬ": "Севастополь"}

# SETTLEMENT_TYPE and STREET_TYPE codes: (abbreviation, word), as addresses abbreviate them (Ukrposhta's
# usage). A code an operator adds to the dictionary later is written out with its dictionary label.
SETTLEMENT_TYPES = {
    "CITY": ("м.", "місто"),
    "TOWNSHIP": ("смт", "селище міського типу"),
    "SETTLEMENT": ("селище", "селище"),
    "VILLAGE": ("с.", "село"),
}
STREET_TYPES = {
    "STREET": ("вул.", "вулиця"),
    "AVENUE": ("просп.", "проспект"),
    "BOULEVARD": ("бульв.", "бульвар"),
    "LANE": ("пров.", "провулок"),
    "SQUARE": ("пл.", "площа"),
    "PASSAGE": ("проїзд", "проїзд"),
    "DESCENT": ("узвіз", "узвіз"),
    "HIGHWAY": ("шосе", "шосе"),
    "ALLEY": ("алея", "алея"),
    "EMBANKMENT": ("наб.", "набережна"),
    "BLIND_STREET": ("тупик", "тупик"),
    "ROAD": ("дорога", "дорога"),
    "LINE": ("лінія", "лінія"),
    "ENTRY": ("в'їзд", "в'їзд"),
    "MICRODISTRICT": ("мікрорайон", "мікрорайон"),
    "MASSIF": ("масив", "масив"),
    "QUARTER": ("квартал", "квартал"),
    "PARK": ("парк", "парк"),
    "ISLAND": ("острів", "острів"),
    "TRACT": ("урочище", "урочище"),
    "HAMLET": ("хутір", "хутір"),
    "STATION": ("станція", "станція"),
}

# A settlement typed with its type ("м. Київ", "село Гора"): the type is taken off the name.
_TYPED_SETTLEMENT_RE = re.compile(
    r"^(?:(?P<short>м\.|с\.|смт\.?|сел\.)\s*|(?P<word>місто|село|селище|смт)\s+)(?=\w)", re.IGNORECASE
)
_TYPED_ABBREVIATIONS = {"м.": "м.", "місто": "м.", "с.": "с.", "село": "с.", "смт": "смт", "смт.": "смт"}
_TYPED_ABBREVIATIONS |= {"сел.": "селище", "селище": "селище"}
# Street types people type in with the name (the code's own words are recognised too).
_TYPED_STREET_TYPES = {"вул.", "вулиця", "просп.", "пр.", "проспект", "пров.", "провулок", "пл.", "площа"}
_TYPED_STREET_TYPES |= {"бульв.", "б-р", "бульвар", "наб.", "набережна"}
_APOSTROPHES_RE = re.compile(r"[’ʼ`]")
_WORD_START_RE = re.compile(r"(^|[\s.(«\"“]|(?<![0-9])-)(\w)")
_DISTRICT_RE = re.compile(r"\b(район|р-н)\b", re.IGNORECASE)
_REGION_WORDS_RE = re.compile(r"\b(область|обл\.|республіка)\b", re.IGNORECASE)
_PREMISES_RE = re.compile(r"^[0-9]+[\w/-]*$")


def address_text(addresses: list[dict], *, address_type: str | None = None) -> str:
    """The line of the first address (or the first of `address_type`); "" when there is none."""
    address = next((item for item in addresses or [] if address_type in (None, item.get("type"))), None)
    return address_format(address) if address else ""


def address_format(address: dict) -> str:
    """The line: "вул. Хрещатик, 10, прим. 5, м. Київ, 01001", "с. Гора, Бориспільський район, Київська область"."""
    settlement = settlement_text(address)
    area = area_name(address.get("area"))
    region = _clean(address.get("region"))
    district = ""
    if region and _key(region) != _key(settlement_name(address)):
        district = region if _DISTRICT_RE.search(region) else f"{region} район"
    parts = [
        _street(address),
        _premises(address.get("apartment")),
        settlement,
        district,
        area if _key(area) not in (_key(settlement), _key(settlement_name(address))) else "",
        _clean(address.get("zip")),
    ]
    return ", ".join(dict.fromkeys(part for part in parts if part))


def settlement_name(address: dict) -> str:
    """The settlement's name alone, as it is written ("Київ"), its type taken off if it was typed in."""
    name = _clean(address.get("settlement"))
    if not name and address.get("area") in SPECIAL_STATUS_CITIES:
        return SPECIAL_STATUS_CITIES[address["area"]]
    return _TYPED_SETTLEMENT_RE.sub("", name)


def settlement_text(address: dict) -> str:
    """The settlement with its type: "м. Київ", "смт Козин", "с. Гора"."""
    name = settlement_name(address)
    if not name:
        return ""
    prefix = _type_abbreviation(SETTLEMENT_TYPES, "SETTLEMENT_TYPE", address.get("settlement_type"))
    if not prefix:
        typed = _TYPED_SETTLEMENT_RE.match(_clean(address.get("settlement")))
        if typed:
            prefix = _TYPED_ABBREVIATIONS[(typed.group("short") or typed.group("word")).lower()]
        elif address.get("area") in SPECIAL_STATUS_CITIES:
            prefix = "м."
    return f"{prefix} {name}" if prefix else name


def area_name(area: str | None) -> str:
    """A region's name: "Київська область" for "КИЇВСЬКА", "м. Київ" for "М.КИЇВ"."""
    if not area:
        return ""
    if area in AREA_NAMES:
        return AREA_NAMES[area]
    name = _clean(area)
    # "Київська" alone is the region's adjective: the word "область" is what it describes.
    if re.search(r"(ська|цька|зька)$", name) and not _REGION_WORDS_RE.search(name):
        name = f"{name} область"
    return name


def _street(address: dict) -> str:
    street = _clean(address.get("street"))
    building = _clean(address.get("building"))
    kind = address.get("street_type")
    prefix = _type_abbreviation(STREET_TYPES, "STREET_TYPE", kind)
    if street and prefix:
        first, _space, rest = street.partition(" ")
        if rest and first.casefold() in {
            *_TYPED_STREET_TYPES,
            *(word.casefold() for word in STREET_TYPES.get(kind, ())),
        }:
            street = rest  # typed in with its type: the code's type is written, once
        street = f"{prefix} {street}"
    return ", ".join(part for part in (street, building) if part)


def _type_abbreviation(table: dict[str, tuple[str, str]], dictionary: str, key: str | None) -> str:
    """A type code's abbreviation; a code added to the dictionary later: its label as a lower-case word."""
    if not key:
        return ""
    if key in table:
        return table[key][0]
    from .selectors import dictionary_value_label  # the selectors use this module: import it when needed

    return (dictionary_value_label(name=dictionary, key=key) or "").lower()


def _premises(apartment: str | None) -> str:
    apartment = _clean(apartment)
    return f"прим. {apartment}" if apartment and _PREMISES_RE.match(apartment) else apartment


def _clean(value) -> str:
    """A stored name with its spacing tidied and, when it was stored in capitals, its letters as written."""
    text = _APOSTROPHES_RE.sub("'", " ".join(str(value or "").split()))
    letters = [char for char in text if char.isalpha()]
    if len(letters) < 2 or not all(char.isupper() for char in letters):
        return text  # as the person typed it
    return _WORD_START_RE.sub(lambda match: match.group(1) + match.group(2).upper(), text.lower())


def _key(text: str) -> str:
    return _TYPED_SETTLEMENT_RE.sub("", text).casefold()
