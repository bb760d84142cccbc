"""Pages of facility registration (status, cabinet) and the public list and map.

The wizard itself is `registry.wizard`; the invitation page and HR access are `invitations` and
`hr_access`. Views parse input, call one selector or service and render.
"""

import math

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from ehealth_portal.api_cache import cached_response

from .. import permissions, places, selectors
from ..cabinet import sections_for as cabinet_sections
from ..forms import FacilitySearchForm
from ..models import PUBLIC_REGISTRY, RegistrationApplication
from .access import cabinet_facility

FACILITIES_PER_PAGE = 20
CABINET_DIVISIONS = 20  # the cabinet's first places of service; all of them are on the places' page
STATUS_REFRESH_SECONDS = 5


@never_cache
def application_status(request, token):
    application = selectors.registration_application_by_token(token=token)
    if application is None:
        raise Http404
    return render(
        request,
        "registry/application_status.html",
        {
            "application": application,
            "checks": application.checks.all(),
            "token": token,
            "refresh_seconds": STATUS_REFRESH_SECONDS
            if application.status == RegistrationApplication.Status.SUBMITTED
            else None,
        },
    )


@login_required
def cabinet(request):
    legal_entity = cabinet_facility(request, "legal_entity:read")
    divisions, divisions_total = selectors.legal_entity_cabinet_divisions(
        legal_entity=legal_entity, limit=CABINET_DIVISIONS
    )
    owner = selectors.legal_entity_owner(legal_entity=legal_entity)
    scopes = permissions.scopes_of(request.user, legal_entity)
    return render(
        request,
        "registry/cabinet.html",
        {
            "legal_entity": legal_entity,
            "divisions": divisions,
            "divisions_total": divisions_total,
            "owner": owner,
            "facilities": permissions.facilities_of(request.user).order_by("name"),
            "scopes": scopes,
            "roles": permissions.roles_of(request.user, legal_entity),
            # Other apps' sections (patients and declarations): registry.cabinet, filled at their ready().
            "sections": cabinet_sections(request, legal_entity, scopes),
        },
    )


def facility_list(request):
    query = request.GET.copy()
    page_number = query.pop("page", [""])[-1]

    def search() -> str:
        form = FacilitySearchForm(request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        facilities = selectors.legal_entity_public_list(
            search=filters.get("q", ""),
            region=filters.get("area", ""),
            settlement=filters.get("settlement", ""),
        )
        page = Paginator(facilities, FACILITIES_PER_PAGE).get_page(page_number)
        context = {"form": form, "page": page, "query": query.urlencode(), "is_filtered": bool(query)}
        return render_to_string("registry/facility_search.html", context)

    # The search form and its results hold nothing user-specific (no CSRF token: the form is a GET):
    # rendered once per version of the public registry, language and query.
    key = f"facility-search:{get_language()}:{sorted(request.GET.lists())}"
    search_html = mark_safe(PUBLIC_REGISTRY.shared(key, search, timeout=600))  # noqa: S308 - our template
    return render(request, "registry/facility_list.html", {"search": search_html})


def facility_detail(request, legal_entity_id):
    legal_entity = selectors.legal_entity_public_get(legal_entity_id=legal_entity_id)
    if legal_entity is None:
        raise Http404
    divisions = list(legal_entity.divisions.all())
    located = [division for division in divisions if division.latitude is not None]
    return render(
        request,
        "registry/facility_detail.html",
        {"legal_entity": legal_entity, "divisions": divisions, "located": located, **_map_settings()},
    )


def facility_map(request):
    return render(request, "registry/facility_map.html", _map_settings())


def division_geojson(request):
    """GeoJSON of the public places of service, optionally within ?bbox=west,south,east,north."""
    bbox = None
    if "bbox" in request.GET:
        try:
            bbox = _bbox_parse(request.GET["bbox"])
        except ValueError:
            return JsonResponse(
                {
                    "error": _(
                        "bbox must be four numbers west,south,east,north: longitudes from -180 to 180, "
                        "latitudes from -90 to 90, south not above north."
                    )
                },
                status=400,
            )
    return cached_response(
        request,
        selectors.division_geojson_cached(bbox=bbox),
        lambda body: HttpResponse(body, content_type="application/geo+json"),
        max_age=60,
    )


def settlement_location(request):
    """Where a settlement is, for the address picker: ?area=КИЇВСЬКА&settlement=Бориспіль&settlement_type=CITY.

    Always 200: a settlement the map does not know has no places (and the region's box, when known).
    """
    query = {name: request.GET.get(name, "")[:100] for name in ("area", "settlement", "settlement_type")}
    response = cached_response(
        request,
        places.settlement_location_json(**query),
        lambda body: HttpResponse(body, content_type="application/json"),
        max_age=places.CACHE_SECONDS,
    )
    patch_vary_headers(response, ["Accept-Language", "Cookie"])  # its texts are in the visitor's language
    return response


def _bbox_parse(value: str) -> tuple[float, float, float, float]:
    parts = value.split(",")
    if len(parts) != 4:
        raise ValueError(value)
    west, south, east, north = (float(part) for part in parts)
    if not all(math.isfinite(number) for number in (west, south, east, north)):
        raise ValueError(value)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(value)
    return west, south, east, north


def _map_settings() -> dict:
    return {"tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}
