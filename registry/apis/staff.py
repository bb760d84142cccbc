"""Employee requests (invitations) and employees in eHealth's shape (ehealth-api.md §3.1–3.6).

The facility's side — create, list and read requests, list, read and deactivate employees — works in
the caller's facility only (`api_facility`, with eHealth's scopes); another facility's request or
employee is 404. Approve and reject are the invitee's: they do not work at the facility yet, so the
request is found by its id and answered only by the user whose email it was sent to (403 otherwise).

Refusals: 422 with `invalid[]` at the body's JSON paths (`$.employee_request.party.tax_id`); status
conflicts 409 with eHealth's messages; an expired request 403 "Employee request is expired".
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Conflict, Envelope, PagePagination
from ehealth_portal.apis import Base64Field
from ehealth_portal.serializers import SharedFieldsSerializer

from ..models import Employee, EmployeeRequest
from ..payloads import EmployeeRequestSerializer, PartySerializer, StrictSerializer
from ..payloads.employee_requests import DoctorSerializer
from ..selectors.staff import (
    employee_get,
    employee_pages,
    employee_request_get,
    employee_request_list,
    employee_request_of_invitee,
)
from ..services import employee_dismiss, employee_request_approve, employee_request_reject
from ..services.staff import employee_request_create, employee_request_create_signed, errors_under
from . import LegalEntityNamesSerializer
from .access import api_facility
from .common import LegalEntityChoiceSerializer, error_codes, facility_list_page

REQUESTS_TAG, EMPLOYEES_TAG = "employee requests", "employees"
DOCTOR = "DOCTOR"

# Service refusals that are eHealth's 409 (a state, not a field, is wrong), with eHealth's messages.
CONFLICTS = {
    "legal_entity_not_active": _("Legal entity is not active"),
    "employee_dismissed": _("Employee is DEACTIVATED and cannot be updated."),
    "employee_not_active": _("Employee is DEACTIVATED and cannot be updated."),
    "owner_deactivate": _("Owner can't be deactivated"),
    "email_other_person": _("Email is already used by another person"),
}
STATUS_NOT_NEW = _("Employee request status is %(status)s and cannot be updated")
EXPIRED = _("Employee request is expired")


# --- Input ----------------------------------------------------------------------------------------


@extend_schema_field(EmployeeRequestSerializer)
class _EmployeeRequestJson(serializers.JSONField):
    """Taken as sent: the service validates it (with the facility's own checks) and reports its paths."""


class EmployeeRequestBodySerializer(StrictSerializer):
    employee_request = _EmployeeRequestJson(
        help_text="eHealth's employee_request; `legal_entity_id` may be left out (always the caller's facility)."
    )

    def validate_employee_request(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected a JSON object."), code="type")
        return value


class SignedEmployeeRequestSerializer(StrictSerializer):
    signed_content = Base64Field(
        trim_whitespace=True,
        help_text=(
            'Base64 of a CMS/PKCS#7 signature with the JSON {"employee_request": {...}} attached (UTF-8, any '
            "formatting), signed by the caller (the signer's DRFO = the caller's RNOKPP)."
        ),
    )
    signed_content_encoding = serializers.ChoiceField(choices=["base64"])


_CREATE_BODY = PolymorphicProxySerializer(
    component_name="EmployeeRequestCreate",
    serializers=[EmployeeRequestBodySerializer, SignedEmployeeRequestSerializer],
    resource_type_field_name=None,
)


class EmployeeRequestFilterSerializer(LegalEntityChoiceSerializer):
    status = serializers.ChoiceField(required=False, choices=EmployeeRequest.Status.choices)


class EmployeeFilterSerializer(LegalEntityChoiceSerializer):
    # As the other lists: values compared as given; an empty one is no filter.
    employee_type = serializers.CharField(required=False, trim_whitespace=False, max_length=20)
    status = serializers.ChoiceField(required=False, choices=Employee.Status.choices)
    division_id = serializers.UUIDField(required=False)
    tax_id = serializers.CharField(required=False, trim_whitespace=False, max_length=10)
    # allow_null: without it DRF reads a missing boolean query parameter as False.
    no_tax_id = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- Output ---------------------------------------------------------------------------------------


@extend_schema_field(PartySerializer)
class _PartyJson(serializers.JSONField):
    pass


@extend_schema_field(DoctorSerializer)
class _DoctorJson(serializers.JSONField):
    pass


class EmployeeRequestShortSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=EmployeeRequest.Status.choices)
    inserted_at = serializers.DateTimeField(source="created_at")
    edrpou = serializers.CharField(source="legal_entity.edrpou")
    legal_entity_name = serializers.CharField(source="legal_entity.name")
    first_name = serializers.CharField(source="data.party.first_name")
    last_name = serializers.CharField(source="data.party.last_name")
    second_name = serializers.CharField(source="data.party.second_name", required=False)
    no_tax_id = serializers.BooleanField(source="data.party.no_tax_id", default=False)


class EmployeeRequestOutputSerializer(SharedFieldsSerializer):
    """eHealth's request as shown (its `data` with the request's own members)."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=EmployeeRequest.Status.choices)
    legal_entity_id = serializers.UUIDField()
    legal_entity_name = serializers.CharField(source="legal_entity.name")
    edrpou = serializers.CharField(source="legal_entity.edrpou")
    division_id = serializers.UUIDField(allow_null=True)
    employee_id = serializers.UUIDField(
        allow_null=True, help_text="The employee it changes (update mode) or, once approved, created."
    )
    employee_type = serializers.CharField()
    position = serializers.CharField()
    start_date = serializers.DateField(source="data.start_date")
    end_date = serializers.DateField(source="data.end_date", required=False)
    party = _PartyJson(source="data.party")
    doctor = _DoctorJson(source="data.doctor", required=False)
    inserted_at = serializers.DateTimeField(source="created_at")
    updated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="Until when the invitee may approve it.")


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 0})
class _Zero(serializers.ReadOnlyField):
    """eHealth's deprecated `declaration_limit` / `declaration_count`: always 0."""

    def __init__(self, **kwargs):
        super().__init__(source="*", **kwargs)

    def to_representation(self, value):
        return 0


class EmployeePartyShortSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField()
    no_tax_id = serializers.BooleanField()
    declaration_limit = _Zero()
    declaration_count = _Zero()


class EmployeePartySerializer(EmployeePartyShortSerializer):
    birth_date = serializers.DateField()
    gender = serializers.CharField()
    tax_id = serializers.CharField()
    documents = serializers.JSONField()
    phones = serializers.JSONField()


class EmployeeDivisionSerializer(SharedFieldsSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.CharField()
    type = serializers.CharField()
    legal_entity_id = serializers.UUIDField()


class EmployeeLegalEntitySerializer(LegalEntityNamesSerializer):
    status = serializers.CharField()
    owner_property_type = serializers.CharField()
    legal_form = serializers.CharField()


@extend_schema_field({"type": "object", "properties": {"specialities": {"type": "array", "items": {}}}})
class _SpecialitiesJson(serializers.JSONField):
    pass


class _EmployeeBase(SharedFieldsSerializer):
    id = serializers.UUIDField()
    position = serializers.CharField()
    employee_type = serializers.CharField()
    status = serializers.ChoiceField(choices=Employee.Status.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    division = EmployeeDivisionSerializer(allow_null=True)
    legal_entity = EmployeeLegalEntitySerializer()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.employee_type != DOCTOR:  # eHealth shows the doctor block for doctors only
            data.pop("doctor", None)
        return data


class EmployeeListItemSerializer(_EmployeeBase):
    """A row of `employee_pages`: the doctor block's `specialities` come alone (the rest is not read)."""

    party = EmployeePartyShortSerializer()
    doctor = _SpecialitiesJson(source="specialities", required=False, help_text="Doctors only.")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "doctor" in data:
            data["doctor"] = {"specialities": instance.specialities or []}
        return data


class EmployeeSerializer(_EmployeeBase):
    party = EmployeePartySerializer()
    doctor = _DoctorJson(
        source="additional_info",
        required=False,
        help_text="Doctors only: educations, qualifications, specialities, science_degree.",
    )


# --- Refusals -------------------------------------------------------------------------------------


def _raise_conflict(error: DjangoValidationError) -> None:
    """A service refusal that is a state conflict → 409 with eHealth's message; others stay 422."""
    for code in error_codes(error):
        if code in CONFLICTS:
            raise Conflict(CONFLICTS[code]) from error


def _raise_answer_refusal(error: DjangoValidationError, employee_request: EmployeeRequest) -> None:
    """eHealth's approve/reject refusals: expired → 403; answered already → 409 with its status."""
    codes = error_codes(error)
    if "invitation_expired" in codes:
        raise exceptions.PermissionDenied(EXPIRED) from error
    if "invitation_used" in codes:
        employee_request.refresh_from_db(fields=["status"])
        raise Conflict(STATUS_NOT_NEW % {"status": employee_request.status}) from error
    _raise_conflict(error)


_REFUSALS = {
    401: OpenApiResponse(description="No credentials."),
    403: OpenApiResponse(description="No such right in the facility."),
    404: OpenApiResponse(description="Not found in the caller's facility."),
}


# --- Employee requests ----------------------------------------------------------------------------


class EmployeeRequestListApi(APIView):
    pagination_class = PagePagination  # tells drf-spectacular the list is paged

    @extend_schema(
        operation_id="employee_requests_list",
        summary="List employee requests",
        description="The caller's facility's requests, newest first. Scope `employee_request:read`.",
        parameters=[EmployeeRequestFilterSerializer],
        responses={200: EmployeeRequestShortSerializer(many=True), **_REFUSALS},
        tags=[REQUESTS_TAG],
    )
    def get(self, request):
        legal_entity = api_facility(request, "employee_request:read")
        return facility_list_page(
            self,
            request,
            legal_entity,
            filters=EmployeeRequestFilterSerializer,
            select=employee_request_list,
            serializer=EmployeeRequestShortSerializer,
        )

    @extend_schema(
        operation_id="employee_requests_create",
        summary="Invite a person (create an employee request)",
        description=(
            "Either `{\"employee_request\": {...}}` (eHealth's v1) or, signed (eHealth's v2), "
            '`{"signed_content": <base64>, "signed_content_encoding": "base64"}` whose signed content is the '
            'JSON `{"employee_request": {...}}` as the caller wrote it, signed by the caller (DRFO = their '
            "RNOKPP; a signature problem is reported at `$.signed_content`). `legal_entity_id` is the caller's "
            "facility (a signed document naming another is refused). Roles HR, DOCTOR, ADMIN, ACCOUNTANT, "
            "ASSISTANT; a doctor needs `division_id` and the doctor block (exactly one main speciality: "
            "THERAPIST, PEDIATRICIAN or FAMILY_DOCTOR). `employee_id` changes that working employee's data "
            "(tax_id, birth_date, employee_type and start_date must stay). 201: the request; the invitation "
            "is emailed to `party.email`. 422: `invalid[]` at `$.employee_request.…` paths. 409: the facility "
            "is not active, or the employee to change is dismissed. Nothing is stored on a refusal. "
            "Scope `employee_request:write`."
        ),
        request=_CREATE_BODY,
        responses={
            201: EmployeeRequestOutputSerializer,
            409: OpenApiResponse(description="Conflict."),
            **_REFUSALS,
        },
        tags=[REQUESTS_TAG],
    )
    def post(self, request):
        legal_entity = api_facility(request, "employee_request:write")
        body = request.data if isinstance(request.data, dict) else {}
        try:
            if "signed_content" in body or "signed_content_encoding" in body:
                signed = SignedEmployeeRequestSerializer(data=body)
                signed.is_valid(raise_exception=True)
                employee_request, _token = employee_request_create_signed(
                    legal_entity=legal_entity,
                    actor=request.user,
                    signed_envelope=signed.validated_data["signed_content"],
                )
            else:
                unsigned = EmployeeRequestBodySerializer(data=request.data)
                unsigned.is_valid(raise_exception=True)
                try:
                    employee_request, _token = employee_request_create(
                        legal_entity=legal_entity,
                        actor=request.user,
                        data=unsigned.validated_data["employee_request"],
                    )
                except DjangoValidationError as error:
                    raise errors_under(error, "employee_request") from error
        except DjangoValidationError as error:
            _raise_conflict(error)
            raise
        return Response(
            Envelope(data=EmployeeRequestOutputSerializer(employee_request).data),
            status=status.HTTP_201_CREATED,
        )


class EmployeeRequestDetailApi(APIView):
    @extend_schema(
        operation_id="employee_requests_get",
        summary="Employee request details",
        description=(
            "One request of the caller's facility. Unlike eHealth there is no `urgent.user_id`: the portal's "
            "invitation page itself offers sign-in or sign-up, and a facility has no use for a portal "
            "account's id. Scope `employee_request:read`."
        ),
        responses={200: EmployeeRequestOutputSerializer, **_REFUSALS},
        tags=[REQUESTS_TAG],
    )
    def get(self, request, employee_request_id):
        legal_entity = api_facility(request, "employee_request:read")
        employee_request = employee_request_get(
            legal_entity=legal_entity, employee_request_id=employee_request_id
        )
        return Response(EmployeeRequestOutputSerializer(employee_request).data)


class _EmployeeRequestAnswerApi(APIView):
    """The invitee approves or rejects (`answer`): their email must be the request's (else 403)."""

    answer = None

    def post(self, request, employee_request_id):
        employee_request = employee_request_of_invitee(
            user=request.user, employee_request_id=employee_request_id
        )
        try:
            type(self).answer(employee_request=employee_request, user=request.user)
        except DjangoValidationError as error:
            _raise_answer_refusal(error, employee_request)
            raise
        employee_request.refresh_from_db()
        return Response(EmployeeRequestOutputSerializer(employee_request).data)


_ANSWER_RESPONSES = {
    200: EmployeeRequestOutputSerializer,
    401: OpenApiResponse(description="No credentials."),
    403: OpenApiResponse(description='Not the invitee, or "Employee request is expired".'),
    404: OpenApiResponse(description="No such request."),
    409: OpenApiResponse(description='"Employee request status is APPROVED and cannot be updated", etc.'),
}


class EmployeeRequestApproveApi(_EmployeeRequestAnswerApi):
    answer = staticmethod(employee_request_approve)

    @extend_schema(
        operation_id="employee_requests_approve",
        summary="Approve an employee request (the invitee)",
        description=(
            "The invited person accepts: the caller's email must be the request's `party.email`. The person "
            "(found by RNOKPP and birth date, or created) is linked to the caller; the employee is created "
            "(APPROVED) — or, for an update request, changed — and the request becomes APPROVED with its "
            "`employee_id`. An OWNER request replaces the facility's head."
        ),
        request=None,
        responses=_ANSWER_RESPONSES,
        tags=[REQUESTS_TAG],
    )
    def post(self, request, employee_request_id):
        return super().post(request, employee_request_id)


class EmployeeRequestRejectApi(_EmployeeRequestAnswerApi):
    answer = staticmethod(employee_request_reject)

    @extend_schema(
        operation_id="employee_requests_reject",
        summary="Reject an employee request (the invitee)",
        description="The invited person declines: NEW → REJECTED. The caller's email must be the request's.",
        request=None,
        responses=_ANSWER_RESPONSES,
        tags=[REQUESTS_TAG],
    )
    def post(self, request, employee_request_id):
        return super().post(request, employee_request_id)


# --- Employees ------------------------------------------------------------------------------------


class EmployeeListApi(APIView):
    pagination_class = PagePagination

    @extend_schema(
        operation_id="employees_list",
        summary="List employees",
        description=(
            "The caller's facility's employees (working and dismissed unless `status` says) by status "
            "(APPROVED first), role, then newest first; `tax_id` is exact. Scope `employee:read`."
        ),
        parameters=[EmployeeFilterSerializer],
        responses={200: EmployeeListItemSerializer(many=True), **_REFUSALS},
        tags=[EMPLOYEES_TAG],
    )
    def get(self, request):
        legal_entity = api_facility(request, "employee:read")
        return facility_list_page(
            self,
            request,
            legal_entity,
            filters=EmployeeFilterSerializer,
            select=employee_pages,  # a page's ids first, then its rows with what the list shows
            serializer=EmployeeListItemSerializer,
        )


class EmployeeDetailApi(APIView):
    @extend_schema(
        operation_id="employees_get",
        summary="Employee details",
        description=(
            "The person, the job and, for a doctor, the doctor block (as approved). `declaration_limit` and "
            "`declaration_count` are always 0, as in eHealth (deprecated). Scope `employee:read`."
        ),
        responses={200: EmployeeSerializer, **_REFUSALS},
        tags=[EMPLOYEES_TAG],
    )
    def get(self, request, employee_id):
        legal_entity = api_facility(request, "employee:read")
        return Response(
            EmployeeSerializer(employee_get(legal_entity=legal_entity, employee_id=employee_id)).data
        )


class EmployeeDeactivateApi(APIView):
    @extend_schema(
        operation_id="employees_deactivate",
        summary="Deactivate (dismiss) an employee",
        description=(
            "APPROVED → DISMISSED from today; the person loses the facility's rights at once. 409 \"Owner "
            "can't be deactivated\" for the head (who changes with the facility's data) and \"Employee is "
            'DEACTIVATED and cannot be updated." when already dismissed. Scope `employee:deactivate`.'
        ),
        request=None,
        responses={200: EmployeeSerializer, 409: OpenApiResponse(description="Conflict."), **_REFUSALS},
        tags=[EMPLOYEES_TAG],
    )
    def patch(self, request, employee_id):
        legal_entity = api_facility(request, "employee:deactivate")
        employee = employee_get(legal_entity=legal_entity, employee_id=employee_id)
        try:
            employee_dismiss(employee=employee, actor=request.user)
        except DjangoValidationError as error:
            _raise_conflict(error)
            raise
        return Response(
            EmployeeSerializer(employee_get(legal_entity=legal_entity, employee_id=employee_id)).data
        )


# Included by registry/api_urls.py in the section of this flow (employee requests and employees).
urlpatterns = [
    path("employee_requests", EmployeeRequestListApi.as_view(), name="employee-requests"),
    path(
        "employee_requests/<uuid:employee_request_id>",
        EmployeeRequestDetailApi.as_view(),
        name="employee-request",
    ),
    path(
        "employee_requests/<uuid:employee_request_id>/approve",
        EmployeeRequestApproveApi.as_view(),
        name="employee-request-approve",
    ),
    path(
        "employee_requests/<uuid:employee_request_id>/reject",
        EmployeeRequestRejectApi.as_view(),
        name="employee-request-reject",
    ),
    path("employees", EmployeeListApi.as_view(), name="employees"),
    path("employees/<uuid:employee_id>", EmployeeDetailApi.as_view(), name="employee"),
    path(
        "employees/<uuid:employee_id>/actions/deactivate",
        EmployeeDeactivateApi.as_view(),
        name="employee-actions-deactivate",
    ),
]
