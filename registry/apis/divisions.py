"""Divisions (places of service) in eHealth's shape (ehealth-api.md §5): list, create, read, change,
activate and deactivate the caller's facility's places.

`legal_entity_id` is always the caller's facility (`api_facility`). A division of another facility is
404 when read and 403 when changed (eHealth: "Updating another legal entity's division: 403").
Refusals of the payload: 422 with `invalid[]`; a status that is already the asked one: 409.
"""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Conflict, Envelope, PagingSerializer
from ehealth_portal.serializers import SharedFieldsSerializer

from .. import services
from ..models import Division
from ..payloads import AddressSerializer, DivisionPayloadSerializer, LocationSerializer, PhoneSerializer
from ..selectors.divisions import division_for_change, division_get, division_list
from .access import api_facility
from .common import LegalEntityChoiceSerializer, error_codes, facility_list_page

TAG = "divisions"
STATUS_CONFLICTS = ("division_not_active", "division_not_inactive")


_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@extend_schema_field({"type": "string", "pattern": f"^{_UUID}(,{_UUID})*$", "maxLength": 3700})
class IdsField(serializers.CharField):
    """eHealth's `ids`: identifiers separated by commas."""

    def __init__(self, **kwargs):
        super().__init__(max_length=3700, **kwargs)  # 100 identifiers

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return [uuid.UUID(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            raise serializers.ValidationError(
                _("Identifiers are UUIDs separated by commas."), code="format"
            ) from None


class DivisionFilterSerializer(LegalEntityChoiceSerializer):
    # As the other lists: values compared as given; an empty one is no filter.
    ids = IdsField(required=False, help_text="Division ids separated by commas.")
    name = serializers.CharField(
        required=False, trim_whitespace=False, max_length=255, help_text="A part of the name, any case."
    )
    type = serializers.CharField(required=False, trim_whitespace=False, max_length=20)
    status = serializers.ChoiceField(required=False, choices=Division.Status.choices)


class DivisionOutputSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    type = serializers.CharField()
    addresses = AddressSerializer(many=True)
    phones = PhoneSerializer(many=True)
    email = serializers.EmailField()
    external_id = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField()
    working_hours = serializers.JSONField(
        help_text='Per weekday: {"mon": [["08.00", "12.00"], ["13.00", "17.00"]], ...}; closed days left out.'
    )
    legal_entity_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Division.Status.choices)
    is_active = serializers.SerializerMethodField()
    mountain_group = serializers.SerializerMethodField()
    inserted_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_external_id(self, obj) -> str | None:
        return obj.external_id or None

    @extend_schema_field(LocationSerializer(allow_null=True))
    def get_location(self, obj) -> dict | None:
        if obj.latitude is None or obj.longitude is None:
            return None
        return {"latitude": float(obj.latitude), "longitude": float(obj.longitude)}

    def get_is_active(self, obj) -> bool:
        return obj.status == Division.Status.ACTIVE

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_mountain_group(self, obj) -> str | None:
        return None  # eHealth copies it from the settlement registry, which the portal does not have


def _raise_conflict(error: DjangoValidationError) -> None:
    if error_codes(error) & set(STATUS_CONFLICTS):
        raise Conflict(" ".join(error.messages)) from error


_ERRORS = {
    403: OpenApiResponse(description="No such right in the facility, or another facility's division."),
    404: OpenApiResponse(description="No such division."),
}


class DivisionListApi(APIView):
    @extend_schema(
        operation_id="divisions_list",
        summary="List divisions",
        description=(
            "The caller's facility's places of service (never another facility's), by name, with eHealth's "
            "filters. Scope `division:read`."
        ),
        parameters=[DivisionFilterSerializer, PagingSerializer],
        responses=DivisionOutputSerializer(many=True),
        tags=[TAG],
    )
    def get(self, request):
        legal_entity = api_facility(request, "division:read")
        return facility_list_page(
            self,
            request,
            legal_entity,
            filters=DivisionFilterSerializer,
            select=division_list,
            serializer=DivisionOutputSerializer,
        )

    @extend_schema(
        operation_id="divisions_create",
        summary="Create a division",
        description=(
            "eHealth's `division_create_request`: name, type (CLINIC, AMBULANT_CLINIC, FAP), addresses "
            "(exactly one RESIDENCE), phones, email, optional external_id, location and working_hours "
            '({"mon": [["08.00", "12.00"]], ...}: HH.MM, each interval starting before it ends, none '
            "overlapping). `legal_entity_id` is always the caller's facility. The division is ACTIVE. "
            "Scope `division:write`. 422: `invalid[]` with JSON paths; nothing is stored."
        ),
        request=DivisionPayloadSerializer,
        responses={201: DivisionOutputSerializer, **_ERRORS},
        tags=[TAG],
    )
    def post(self, request):
        legal_entity = api_facility(request, "division:write")
        division = services.division_create(legal_entity=legal_entity, actor=request.user, data=request.data)
        return Response(
            Envelope(data=DivisionOutputSerializer(division).data), status=status.HTTP_201_CREATED
        )


class DivisionDetailApi(APIView):
    @extend_schema(
        operation_id="divisions_get",
        summary="Division details",
        description="One place of service of the caller's facility. Scope `division:read`.",
        responses={200: DivisionOutputSerializer, **_ERRORS},
        tags=[TAG],
    )
    def get(self, request, division_id):
        legal_entity = api_facility(request, "division:read")
        return Response(
            DivisionOutputSerializer(division_get(legal_entity=legal_entity, division_id=division_id)).data
        )

    @extend_schema(
        operation_id="divisions_update",
        summary="Change a division",
        description=(
            "The members given replace the stored ones; `external_id`, `location` or `working_hours` given as "
            "null are removed. The result is checked as a whole, as on creation (422). `legal_entity_id` stays "
            "the division's facility. Another facility's division: 403. Scope `division:write`."
        ),
        request=DivisionPayloadSerializer,  # not partial=True: its fields are shared (SharedFieldsSerializer)
        responses={200: DivisionOutputSerializer, **_ERRORS},
        tags=[TAG],
    )
    def patch(self, request, division_id):
        legal_entity = api_facility(request, "division:write")
        division = division_for_change(legal_entity=legal_entity, division_id=division_id)
        division = services.division_update(division=division, actor=request.user, data=request.data)
        return Response(DivisionOutputSerializer(division).data)


class DivisionActionApi(APIView):
    """`PATCH …/actions/activate|deactivate`: ACTIVE ↔ INACTIVE (409 when it is so already)."""

    scope: str = ""
    change = None

    def patch(self, request, division_id):
        legal_entity = api_facility(request, self.scope)
        division = division_for_change(legal_entity=legal_entity, division_id=division_id)
        try:
            division = type(self).change(division=division, actor=request.user)
        except DjangoValidationError as error:
            _raise_conflict(error)
            raise
        return Response(DivisionOutputSerializer(division).data)


class DivisionActivateApi(DivisionActionApi):
    scope = "division:activate"
    change = staticmethod(services.division_activate)

    @extend_schema(
        operation_id="divisions_activate",
        summary="Activate a division",
        description="INACTIVE → ACTIVE. 409 when it is active already. Scope `division:activate`.",
        request=None,
        responses={
            200: DivisionOutputSerializer,
            409: OpenApiResponse(description="Active already."),
            **_ERRORS,
        },
        tags=[TAG],
    )
    def patch(self, request, division_id):
        return super().patch(request, division_id)


class DivisionDeactivateApi(DivisionActionApi):
    scope = "division:deactivate"
    change = staticmethod(services.division_deactivate)

    @extend_schema(
        operation_id="divisions_deactivate",
        summary="Deactivate a division",
        description=(
            "ACTIVE → INACTIVE: the division leaves the public map; employees assigned to it stay, as in "
            "eHealth. 409 when it is inactive already. Scope `division:deactivate`."
        ),
        request=None,
        responses={
            200: DivisionOutputSerializer,
            409: OpenApiResponse(description="Inactive already."),
            **_ERRORS,
        },
        tags=[TAG],
    )
    def patch(self, request, division_id):
        return super().patch(request, division_id)


# Included by registry/api_urls.py in the section of this flow (divisions).
urlpatterns = [
    path("divisions", DivisionListApi.as_view(), name="divisions"),
    path("divisions/<uuid:division_id>", DivisionDetailApi.as_view(), name="division"),
    path(
        "divisions/<uuid:division_id>/actions/activate",
        DivisionActivateApi.as_view(),
        name="division-actions-activate",
    ),
    path(
        "divisions/<uuid:division_id>/actions/deactivate",
        DivisionDeactivateApi.as_view(),
        name="division-actions-deactivate",
    ),
]
