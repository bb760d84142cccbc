"""Reads: dictionaries for APIs and forms, typed global parameters, facilities and their access checks."""

import calendar
import datetime
import hashlib
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    FilteredRelation,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import quote_etag

from ehealth_portal.api_cache import CachedJson, rows_json
from ehealth_portal.caching import cached

from ..addresses import address_text
from ..models import (
    PUBLIC_REGISTRY,
    REFERENCE_DATA,
    Dictionary,
    DictionaryValue,
    Division,
    Employee,
    EmployeeRequest,
    GlobalParameter,
    LegalEntity,
    RegistrationApplication,
    SupersededInvitationLink,
    TermUnit,
)
from ..permissions import employees_working

OWNER = "OWNER"  # EMPLOYEE_TYPE of a facility's head

# --- Dictionaries ---------------------------------------------------------------------------------


def _dictionary_tables() -> dict[str, dict]:
    """Every dictionary by name with its values in display order: the lookup tables of one version."""
    tables = {
        name: {"name": name, "labels": labels, "is_active": is_active, "values": {}, "active": {}}
        for name, labels, is_active in Dictionary.objects.values_list("name", "labels", "is_active")
    }
    rows = DictionaryValue.objects.order_by("dictionary__name", "position", "key").values_list(
        "dictionary__name", "key", "label", "is_active"
    )
    for name, key, label, is_active in rows:
        tables[name]["values"][key] = label
        if is_active:
            tables[name]["active"][key] = label
    return tables


def _dictionary(name: str) -> dict | None:
    return REFERENCE_DATA.memo("dictionaries", _dictionary_tables).get(name)


def dictionary_list(*, name: str | None = None, is_active: bool | None = None) -> list[dict]:
    """Dictionaries as eHealth lists them (`name`, `values` = active key → label, `labels`, `is_active`)."""
    tables = REFERENCE_DATA.memo("dictionaries", _dictionary_tables)
    return [
        {
            "name": table["name"],
            "values": table["active"],
            "labels": table["labels"],
            "is_active": table["is_active"],
        }
        for table in tables.values()
        if (name is None or table["name"] == name) and (is_active is None or table["is_active"] == is_active)
    ]


def dictionary_list_json(*, name: str | None = None, is_active: bool | None = None) -> CachedJson:
    """`dictionary_list` rendered once per version of the reference data, kept in the process."""
    if name is not None and _dictionary(name) is None:  # nothing to list: not worth a cache entry
        return CachedJson.of([])
    return REFERENCE_DATA.memo(
        f"dictionaries:{name}:{is_active}",
        lambda: CachedJson.of(dictionary_list(name=name, is_active=is_active)),
    )


def dictionary_choices(*, name: str) -> list[tuple[str, str]]:
    """(key, label) pairs of the active values, for form fields. Unknown dictionary: no choices.

    The dictionary's own `is_active` is only a listing filter, as in eHealth: keys stay usable.
    """
    table = _dictionary(name)
    return list(table["active"].items()) if table else []


def dictionary_value_label(*, name: str, key: str) -> str | None:
    """The label of a key (active or not, so old records still display), or None."""
    table = _dictionary(name)
    return table["values"].get(key) if table else None


def dictionary_has_key(*, name: str, key: str) -> bool:
    """Whether `key` is an active value of dictionary `name`: the check for incoming codes."""
    table = _dictionary(name)
    return bool(table) and key in table["active"]


# --- Global parameters ----------------------------------------------------------------------------


class GlobalParameterMissing(LookupError):
    """A parameter the code needs is not in the database (run `manage.py load_dictionaries`)."""


@dataclass(frozen=True)
class Term:
    """A period such as declaration_term + declaration_term_unit (365 DAYS)."""

    amount: int
    unit: TermUnit

    def after(self, start: datetime.datetime) -> datetime.datetime:
        """The moment `amount` units after `start`; months and years keep the day, clamped to the month end."""
        if self.unit in (TermUnit.MONTHS, TermUnit.YEARS):
            months = self.amount * (12 if self.unit == TermUnit.YEARS else 1)
            year, month = divmod(start.month - 1 + months, 12)
            year += start.year
            day = min(start.day, calendar.monthrange(year, month + 1)[1])
            return start.replace(year=year, month=month + 1, day=day)
        unit_argument = {TermUnit.SECONDS: "seconds", TermUnit.HOURS: "hours", TermUnit.DAYS: "days"}[
            self.unit
        ]
        return start + datetime.timedelta(**{unit_argument: self.amount})


def global_parameters_as_dict() -> dict[str, str]:
    """All parameters as eHealth's `GET /api/global_parameters` returns them: name → text value."""
    return dict(
        REFERENCE_DATA.memo(
            "global_parameters",
            lambda: dict(GlobalParameter.objects.order_by("name").values_list("name", "value")),
        )
    )


def global_parameters_json() -> CachedJson:
    return REFERENCE_DATA.memo("global_parameters.json", lambda: CachedJson.of(global_parameters_as_dict()))


def global_parameter_get(*, name: str, default: str | None = None) -> str:
    value = global_parameters_as_dict().get(name)
    if value is None:
        if default is None:
            raise GlobalParameterMissing(f"Global parameter {name!r} is not set; run load_dictionaries.")
        return default
    return value


def global_parameter_int(*, name: str, default: int | None = None) -> int:
    value = global_parameter_get(name=name, default=None if default is None else str(default))
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Global parameter {name!r} is not a whole number: {value!r}.") from None


def global_parameter_term(*, name: str, unit_name: str) -> Term:
    """E.g. `global_parameter_term(name="declaration_term", unit_name="declaration_term_unit")`."""
    unit = global_parameter_get(name=unit_name)
    if unit not in TermUnit.values:
        raise ValueError(f"Global parameter {unit_name!r} is not a TERM_UNIT: {unit!r}.")
    return Term(amount=global_parameter_int(name=name), unit=TermUnit(unit))


def global_parameter_declaration_limit(*, speciality_type: str) -> int | None:
    """The most active declarations a doctor of this SPECIALITY_TYPE may hold; None when unlimited.

    Stored as `declaration_limit_<speciality in lower case>`: therapist, pediatrician, family_doctor.
    """
    name = f"declaration_limit_{speciality_type.lower()}"
    value = global_parameters_as_dict().get(name)
    return None if value is None else global_parameter_int(name=name)


# --- Facility registration ------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """What is stored of a link token (status pages, invitations): its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def registration_application_by_token(*, token: str) -> RegistrationApplication | None:
    if not token:
        return None
    return (
        RegistrationApplication.objects.filter(status_token_hash=token_hash(token))
        .prefetch_related("checks")
        .first()
    )


def employee_request_by_token(*, token: str) -> tuple[EmployeeRequest | None, str | None]:
    """The invitation behind a link and what stops it from being accepted.

    problem: None (it can be accepted), "invalid" (no such link), "superseded" (the invitation was sent
    again with a new link), "used" (accepted, declined or withdrawn) or "expired" (past its term,
    whether or not the expiry job has marked it yet).
    """
    request = (
        EmployeeRequest.objects.filter(token_hash=token_hash(token)).select_related("legal_entity").first()
        if token
        else None
    )
    if request is None:
        superseded = (
            SupersededInvitationLink.objects.filter(token_hash=token_hash(token))
            .select_related("employee_request__legal_entity")
            .first()
            if token
            else None
        )
        return (superseded.employee_request, "superseded") if superseded else (None, "invalid")
    if request.status == EmployeeRequest.Status.EXPIRED or (
        request.status == EmployeeRequest.Status.NEW and request.expires_at <= timezone.now()
    ):
        return request, "expired"
    if request.status != EmployeeRequest.Status.NEW:
        return request, "used"
    return request, None


def legal_entity_for_user(*, user, legal_entity_id=None) -> LegalEntity | None:
    """The facility whose cabinet the user may open: they work there (active employee) and it is ACTIVE.

    `legal_entity_id` chooses among the user's facilities (None when it is not one of them); without
    it, a user working at several facilities gets the one where they are the head, then the newest.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    working = employees_working(user)
    if legal_entity_id is not None:
        working = working.filter(legal_entity_id=legal_entity_id)
    employee = (
        working.select_related("legal_entity")
        .order_by(
            Case(When(employee_type=OWNER, then=0), default=1),
            "-start_date",
            "-created_at",
        )
        .first()
    )
    return employee.legal_entity if employee else None


def legal_entity_owner(*, legal_entity: LegalEntity) -> Employee | None:
    """The facility's confirmed head (its active OWNER employee), with their person and login."""
    return (
        legal_entity.employees.filter(employee_type=OWNER, is_active=True)
        .select_related("party__user")
        .first()
    )


def legal_entity_cabinet_divisions(*, legal_entity: LegalEntity, limit: int) -> tuple[list[Division], int]:
    """The facility's first `limit` places of service by name, whatever their status, for its own
    cabinet, and how many it has (the whole list is the places' page): two queries."""
    return list(legal_entity.divisions.order_by("name", "pk")[:limit]), legal_entity.divisions.count()


def legal_entity_owner_request(*, legal_entity: LegalEntity) -> EmployeeRequest:
    """The head's newest invitation (its id is the API's `urgent.employee_request_id`)."""
    return legal_entity.employee_requests.filter(employee_type=OWNER).latest("created_at")


def _legal_entity_public_queryset() -> QuerySet[LegalEntity]:
    """ACTIVE facilities whose head has confirmed (an active OWNER employee), as eHealth's map shows them."""
    owners = Employee.objects.filter(
        legal_entity=OuterRef("pk"), employee_type=OWNER, is_active=True, status=Employee.Status.APPROVED
    )
    return LegalEntity.objects.filter(status=LegalEntity.Status.ACTIVE, is_active=True).filter(Exists(owners))


def _public_divisions() -> Prefetch:
    """A public facility shows only its active places of service, each with the doctors working there
    (`working_doctors`: names, main speciality, whether they accept new patients; one query for all)."""
    doctors = (
        Employee.objects.filter(**_WORKING_DOCTOR)
        .select_related("party")
        .only(
            "division_id",
            "speciality",
            "accepts_new_patients",
            "party__last_name",
            "party__first_name",
            "party__second_name",
        )
        .order_by("party__last_name", "party__first_name", "pk")
    )
    return Prefetch(
        "divisions",
        queryset=Division.objects.filter(status=Division.Status.ACTIVE).prefetch_related(
            Prefetch("employees", queryset=doctors, to_attr="working_doctors")
        ),
    )


def _address_filter(field: str, value: str) -> Q:
    # A facility has at most two addresses (one of each type); JSON index lookups work on SQLite and PostgreSQL.
    return Q(**{f"addresses__0__{field}__icontains": value}) | Q(
        **{f"addresses__1__{field}__icontains": value}
    )


def legal_entity_public_list(
    *, search: str = "", region: str = "", settlement: str = ""
) -> QuerySet[LegalEntity]:
    """The public list: search by name (full, short, public) or exact EDRPOU; region matches the area
    (область) or the district of an address, settlement its settlement."""
    queryset = _legal_entity_public_queryset()
    search, region, settlement = search.strip(), region.strip(), settlement.strip()
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(short_name__icontains=search)
            | Q(public_name__icontains=search)
            | Q(edrpou=search)
        )
    if region:
        queryset = queryset.filter(_address_filter("area", region) | _address_filter("region", region))
    if settlement:
        queryset = queryset.filter(_address_filter("settlement", settlement))
    return queryset.order_by("name", "pk")


def legal_entity_public_get(*, legal_entity_id) -> LegalEntity | None:
    """One facility of the public list (None when it is not public: closed, or its head has not confirmed)."""
    try:
        return _legal_entity_public_queryset().prefetch_related(_public_divisions()).get(pk=legal_entity_id)
    except (LegalEntity.DoesNotExist, ValidationError, ValueError):
        return None


def legal_entity_active_exists(*, edrpou: str, type: str = "MSP") -> bool:  # noqa: A002
    """Whether an ACTIVE facility of this type has this code: a code is registered once."""
    return LegalEntity.objects.filter(edrpou=edrpou, type=type, status=LegalEntity.Status.ACTIVE).exists()


_WORKING_DOCTOR = {"employee_type": "DOCTOR", "is_active": True, "status": Employee.Status.APPROVED}


def _map_divisions(bbox: tuple[float, float, float, float] | None) -> QuerySet[Division]:
    """The places the map shows, by id: ACTIVE, with coordinates (within the box), of a public facility."""
    divisions = Division.objects.filter(
        status=Division.Status.ACTIVE,
        latitude__isnull=False,
        longitude__isnull=False,
        legal_entity__in=_legal_entity_public_queryset(),
    )
    if bbox is not None:
        west, south, east, north = bbox
        divisions = divisions.filter(latitude__gte=south, latitude__lte=north)
        if west <= east:
            divisions = divisions.filter(longitude__gte=west, longitude__lte=east)
        else:  # the box crosses the antimeridian
            divisions = divisions.filter(Q(longitude__gte=west) | Q(longitude__lte=east))
    return divisions.order_by("pk")


def _map_features(divisions: QuerySet[Division]) -> list[dict]:
    """The places' GeoJSON features, each with the doctors working there now (active, APPROVED).

    Two queries however many places and doctors: the places with the columns shown (and their
    facility's names), then the doctors' names and main speciality only — not whole employees and
    people, whose documents and education would be decoded for nothing.
    """
    places = list(
        divisions.select_related("legal_entity").only(
            "name",
            "type",
            "addresses",
            "latitude",
            "longitude",
            "legal_entity__name",
            "legal_entity__short_name",
            "legal_entity__public_name",
        )
    )
    doctors = Employee.objects.filter(division__in=[place.pk for place in places], **_WORKING_DOCTOR)
    working: dict = {}
    labels: dict[str, str] = {}
    for division_id, *name, speciality, accepts_new_patients in doctors.order_by(
        "party__last_name", "party__first_name", "pk"
    ).values_list(
        "division_id",
        "party__last_name",
        "party__first_name",
        "party__second_name",
        "speciality__speciality",
        "accepts_new_patients",
    ):
        speciality = speciality or ""
        if speciality not in labels:
            # The dictionary's label, as every page shows it (the same in either interface language).
            labels[speciality] = (
                (dictionary_value_label(name="SPECIALITY_TYPE", key=speciality) or speciality)
                if speciality
                else ""
            )
        working.setdefault(division_id, []).append(
            {
                "name": " ".join(filter(None, name)),  # as Party.__str__: surname, first name, patronymic
                "speciality": speciality,
                "speciality_label": labels[speciality],
                # Whether the doctor's list has room (kept by the declarations app as it fills up).
                "accepts_new_patients": accepts_new_patients,
            }
        )
    return [
        {
            "type": "Feature",
            "id": str(place.pk),
            "geometry": {"type": "Point", "coordinates": [float(place.longitude), float(place.latitude)]},
            "properties": {
                "name": place.name,
                "type": place.type,
                "address": address_text(place.addresses),
                "legal_entity_id": str(place.legal_entity_id),
                "legal_entity_name": str(place.legal_entity),
                "url": reverse("registry:facility-detail", args=[place.legal_entity_id]),
                "doctors": working.get(place.pk, []),
            },
        }
        for place in places
    ]


def division_geojson(*, bbox: tuple[float, float, float, float] | None = None, limit: int = 5000) -> dict:
    """Public divisions with coordinates as a GeoJSON FeatureCollection, each with its working doctors.

    Public: ACTIVE divisions of ACTIVE facilities whose head has confirmed (eHealth's map: an active
    OWNER). bbox = (west, south, east, north) in degrees — Leaflet's `getBounds().toBBoxString()` order.
    At most `limit` features (the map asks for its visible area). Two queries however many places and
    doctors: the places, then their doctors.
    """
    return {"type": "FeatureCollection", "features": _map_features(_map_divisions(bbox)[:limit])}


GEOJSON_GRID = 0.25  # degrees: a requested box is widened to this grid, so nearby views share a cache entry
_GEOJSON_HEAD = b'{"type":"FeatureCollection","features":['


def division_geojson_cached(*, bbox: tuple[float, float, float, float] | None = None) -> CachedJson:
    """`division_geojson` of the box widened to the grid, byte for byte, kept as long as what it shows.

    Any write of a facility, place or employee anywhere replaces the public registry's version, so the
    map is checked again then, in one query: which places, each with a fingerprint of what its
    feature shows (`_map_versions`). The collection is kept by those fingerprints: a write that
    changes nothing on the map (most: staff, invitations, other columns) finds it as it was; otherwise
    it is assembled from each place's feature, kept by its fingerprint, and only the changed places
    are rendered again (`_map_features`, two queries). The answer may hold places a little outside
    the requested box: the map only draws what it shows.
    """
    if bbox is not None:
        west, south, east, north = bbox
        step = GEOJSON_GRID
        bbox = (
            max(-180.0, math.floor(west / step) * step),
            max(-90.0, math.floor(south / step) * step),
            min(180.0, math.ceil(east / step) * step),
            min(90.0, math.ceil(north / step) * step),
        )
    versions = PUBLIC_REGISTRY.shared(f"geojson:{bbox}", lambda: _map_versions(bbox), timeout=600)
    digest = hashlib.sha256(repr(versions).encode()).hexdigest()[:32]
    return cached(f"geojson:{digest}", 600, lambda: _map_collection(versions))


def _map_versions(bbox, limit: int = 5000) -> list[tuple]:
    """(id, fingerprint) of each place `division_geojson` shows, in its order: one query.

    The fingerprint changes with anything the feature shows: the place's or its facility's last
    change, its working doctors' number, how many of them accept new patients, the last change of any
    of them (as employees or as people; every write sets `updated_at`, bulk ones too:
    `update_recorded`), and the dictionaries' version (the specialities' labels).
    """
    doctor = FilteredRelation(
        "employees", condition=Q(**{f"employees__{name}": value for name, value in _WORKING_DOCTOR.items()})
    )
    rows = (
        _map_divisions(bbox)
        .annotate(doctor=doctor)
        .annotate(
            doctors=Count("doctor"),
            # A flag set by a bulk update may leave `updated_at` as it was: counted as well.
            accepting=Count("doctor", filter=Q(doctor__accepts_new_patients=True)),
            changed=Cast(
                Greatest(
                    "updated_at",
                    "legal_entity__updated_at",
                    Coalesce(Max("doctor__updated_at"), "updated_at"),
                    Coalesce(Max("doctor__party__updated_at"), "updated_at"),
                ),
                CharField(),
            ),
        )
        .values_list("pk", "doctors", "accepting", "changed")[:limit]
    )
    reference = REFERENCE_DATA.current()
    return [
        (str(pk), hashlib.sha256(f"{doctors}:{accepting}:{changed}:{reference}".encode()).hexdigest()[:24])
        for pk, doctors, accepting, changed in rows  # plain strings: cached and read back as they are
    ]


def _map_collection(versions: list[tuple]) -> CachedJson:
    """The FeatureCollection of these places from their features, each kept by its fingerprint."""

    def render(ids) -> dict:
        return {
            feature["id"]: feature
            for feature in _map_features(Division.objects.filter(pk__in=ids).order_by("pk"))
        }

    features = rows_json(versions, prefix="geojson:feature", load=render)
    body = _GEOJSON_HEAD + b",".join(features) + b"]}"
    return CachedJson(body, quote_etag(hashlib.sha256(body).hexdigest()[:32]), timezone.now().timestamp())


def legal_entity_list(
    *,
    edrpou: str | None = None,
    legal_entity_id=None,
    type: str | None = None,  # noqa: A002 - the eHealth filter's name
    owner_property_type: str | None = None,
    status: str | None = None,
    nhs_verified: bool | None = None,
    settlement: str | None = None,
) -> QuerySet[LegalEntity]:
    """Facilities for operators and the API (eHealth's list filters), newest first."""
    queryset = LegalEntity.objects.all()
    filters = {
        "edrpou": edrpou,
        "pk": legal_entity_id,
        "type": type,
        "owner_property_type": owner_property_type,
        "status": status,
        "nhs_verified": nhs_verified,
    }
    queryset = queryset.filter(**{name: value for name, value in filters.items() if value is not None})
    if settlement:
        queryset = queryset.filter(_address_filter("settlement", settlement))
    return queryset.order_by("-created_at", "pk")


def registration_applications_waiting_count() -> int:
    """Applications waiting for an operator's decision (the admin's dashboard)."""
    return RegistrationApplication.objects.filter(
        status=RegistrationApplication.Status.WAITING_OPERATOR
    ).count()
