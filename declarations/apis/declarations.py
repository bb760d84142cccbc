"""Declarations in eHealth's shape (ehealth-api.md §4.1, §4.7): the caller's facility's list, one
declaration, its termination on the doctor's (the facility's) request, and a patient's current declaration.

Everything works in the caller's facility (`api_facility`, with eHealth's scopes): another facility's
declaration is 404, as a missing one. `GET /api/persons/{id}/declaration` tells, as eHealth does, that a
patient's current declaration is another facility's (403), without showing it.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Conflict, PagePagination
from ehealth_portal.api_refusals import refusals
from registry.apis.access import api_facility
from registry.apis.common import LegalEntityChoiceSerializer, error_codes, facility_list_page
from registry.payloads import StrictSerializer

from ..models import Declaration
from ..selectors import declaration_get, declaration_list
from ..services.declarations import MANUAL_EMPLOYEE, REASON_DESCRIPTION_MAX, declaration_terminate
from .common import ActionArguments, facility_refusals
from .requests import INVALID_TRANSITION
from .serializers import DeclarationListItemSerializer, DeclarationSerializer

TAG = "declarations"
OTHER_FACILITY = _("Active declaration belongs to another msp")  # eHealth's words (§4.1)


class DeclarationFilterSerializer(LegalEntityChoiceSerializer):
    employee_id = serializers.UUIDField(required=False, help_text="The doctor (an employee id).")
    status = serializers.ChoiceField(
        choices=Declaration.Status.choices, default=Declaration.Status.ACTIVE, help_text="Default: active."
    )
    # As the other lists: the value compared as given.
    declaration_number = serializers.CharField(
        required=False, trim_whitespace=False, max_length=14, help_text="0001-XXXX-XXXX, exact."
    )


class DeclarationTerminateSerializer(ActionArguments, StrictSerializer):
    """Why the facility ends the declaration."""

    reason_description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_DESCRIPTION_MAX,
        help_text="Why, in words (e.g. the patient moved away).",
    )


def _declarations(*, legal_entity, declaration_number: str | None = None, **criteria):
    declarations = declaration_list(legal_entity=legal_entity, **criteria).select_related("legal_entity")
    if declaration_number:
        declarations = declarations.filter(declaration_number=declaration_number)
    return declarations


def _current_declaration(person_id) -> Declaration | None:
    """The patient's active or pending declaration, wherever it is (at most one: a constraint holds it)."""
    return (
        Declaration.objects.filter(
            person_id=person_id, person__is_active=True, status__in=Declaration.CURRENT
        )
        .only("pk", "legal_entity_id")
        .first()
    )


def _declaration_response(legal_entity, declaration_id) -> Response:
    """The facility's declaration in eHealth's details (404 for another facility's)."""
    return Response(
        DeclarationSerializer(declaration_get(legal_entity=legal_entity, declaration_id=declaration_id)).data
    )


def _conflict(error) -> None:
    if "invalid_transition" in error_codes(error):
        raise Conflict(INVALID_TRANSITION) from error


_REFUSALS = facility_refusals("No such declaration in the caller's facility.")
_ID = OpenApiParameter("declaration_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class DeclarationListApi(APIView):
    pagination_class = PagePagination  # tells drf-spectacular the list is paged

    @extend_schema(
        operation_id="declarations_list",
        summary="List declarations",
        description=(
            "The caller's facility's declarations, newest first, by doctor, status (default `active`, as in "
            "eHealth) and number. Scope `declaration:read`."
        ),
        parameters=[DeclarationFilterSerializer],
        responses={200: DeclarationListItemSerializer(many=True), **_REFUSALS},
        tags=[TAG],
    )
    def get(self, request):
        legal_entity = api_facility(request, "declaration:read")
        return facility_list_page(
            self,
            request,
            legal_entity,
            filters=DeclarationFilterSerializer,
            select=_declarations,
            serializer=DeclarationListItemSerializer,
        )


class DeclarationDetailApi(APIView):
    @extend_schema(
        operation_id="declarations_get",
        summary="Declaration details",
        description=(
            "One declaration of the caller's facility: the patient (without the secret word), the doctor, "
            "the division and the facility. Scope `declaration:read`."
        ),
        parameters=[_ID],
        responses={200: DeclarationSerializer, **_REFUSALS},
        tags=[TAG],
    )
    def get(self, request, declaration_id):
        legal_entity = api_facility(request, "declaration:read")
        return _declaration_response(legal_entity, declaration_id)


class DeclarationTerminateApi(APIView):
    @extend_schema(
        operation_id="declarations_terminate",
        summary="Terminate a declaration",
        description=(
            "On the doctor's (the facility's) request: active or pending_verification → terminated, reason "
            "`manual_employee` with `reason_description`. The doctor's place is freed. 409 \"Invalid "
            'transition" when it has ended already. Scope `declaration:terminate`.'
        ),
        parameters=[_ID],
        request=DeclarationTerminateSerializer,
        responses={
            200: DeclarationSerializer,
            409: OpenApiResponse(description='"Invalid transition": it has ended already.'),
            **_REFUSALS,
        },
        tags=[TAG],
    )
    def patch(self, request, declaration_id):
        legal_entity = api_facility(request, "declaration:terminate")
        declaration = declaration_get(legal_entity=legal_entity, declaration_id=declaration_id)
        body = DeclarationTerminateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusals(_conflict):
            declaration_terminate(
                declaration=declaration,
                actor=request.user,
                reason=MANUAL_EMPLOYEE,
                reason_description=body.validated_data.get("reason_description", ""),
            )
        return _declaration_response(legal_entity, declaration_id)  # as it is now


class PersonDeclarationApi(APIView):
    @extend_schema(
        operation_id="persons_declaration",
        summary="A patient's current declaration",
        description=(
            "200: the patient's active (or pending_verification) declaration, in the caller's facility. 404: "
            'the patient has none (or no such patient). 403 "Active declaration belongs to another msp": it '
            "is another facility's (not shown). Scope `declaration:read`."
        ),
        parameters=[OpenApiParameter("person_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={
            200: DeclarationSerializer,
            401: OpenApiResponse(description="No credentials."),
            403: OpenApiResponse(description="Another facility's declaration, or no such right."),
            404: OpenApiResponse(description="No current declaration."),
        },
        tags=[TAG],
    )
    def get(self, request, person_id):
        legal_entity = api_facility(request, "declaration:read")
        current = _current_declaration(person_id)
        if current is None:
            raise NotFound
        if current.legal_entity_id != legal_entity.pk:
            raise PermissionDenied(OTHER_FACILITY)
        return _declaration_response(legal_entity, current.pk)


# Included by declarations/api_urls.py.
urlpatterns = [
    path("declarations", DeclarationListApi.as_view(), name="declarations"),
    path("declarations/<uuid:declaration_id>", DeclarationDetailApi.as_view(), name="declaration"),
    path(
        "declarations/<uuid:declaration_id>/actions/terminate",
        DeclarationTerminateApi.as_view(),
        name="declaration-actions-terminate",
    ),
    path("persons/<uuid:person_id>/declaration", PersonDeclarationApi.as_view(), name="person-declaration"),
]
