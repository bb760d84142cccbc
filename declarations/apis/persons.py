"""The person search (`GET /api/persons`, ehealth-api.md §4.1): eHealth's exact-match search of the
patient register, through `selectors.patients.person_search` — the rules of the cabinet's search.

Parameters: `first_name`, `last_name`, `birth_date` (required: 422 at `$.first_name` etc.), `second_name`,
and the identifiers `tax_id`, `phone_number` (any phone of the patient or the phone for SMS codes) and
`birth_certificate` (the number of a birth certificate). The portal needs at least one identifier (422 at
`$` otherwise): the register is never browsed. Names are compared whole, in any letter case.

More than `PERSON_SEARCH_LIMIT` matches: 403 with eHealth's message (the search is not exact enough).
Searches are throttled per caller (`person_search`): the register is not to be walked by trying
identifiers. The identifiers stand in the query string, as in eHealth: the log filter
(`ehealth_portal.redaction`) keeps their values out of every logged URL.

Each result is eHealth's search view (ehealth.api `PersonView` "search_view.json"): the identity
— id, names, birth country and settlement — plus the members the caller searched by, as eHealth echoes
them: `birth_date`, `tax_id` when searched by it, the MOBILE `phones` when searched by a phone, the birth
certificates (`documents`) when searched by one. So a result never tells more of a patient's identifiers
than the caller gave: no masking is needed, and nothing else (addresses, documents, the secret word) is
returned. Scope `person:read` in the caller's facility (`api_facility`).
"""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api_refusals import refusals
from ehealth_portal.serializers import SharedFieldsSerializer
from ehealth_portal.validators import validate_phone
from registry.apis.access import api_facility
from registry.apis.common import LegalEntityChoiceSerializer, error_codes
from registry.payloads import PhoneSerializer

from ..models import Person
from ..selectors.patients import PERSON_SEARCH_LIMIT, person_search
from .common import DefaultRateThrottle
from .serializers import DocumentShortSerializer

TAG = "persons"
BIRTH_CERTIFICATE = "BIRTH_CERTIFICATE"
# eHealth's words for a search that matches too many persons (its fallback controllers).
TOO_MANY_RESULTS = (
    "This API method returns only exact match results, please retry with more specific search parameters"
)


class PersonSearchQuerySerializer(LegalEntityChoiceSerializer):
    first_name = serializers.CharField(max_length=100, help_text="Exact, any letter case.")
    last_name = serializers.CharField(max_length=100, help_text="Exact, any letter case.")
    second_name = serializers.CharField(max_length=100, required=False, help_text="Exact, any letter case.")
    birth_date = serializers.DateField(help_text="YYYY-MM-DD.")
    tax_id = serializers.RegexField(
        r"^[0-9]{10}$", max_length=10, required=False, help_text="RNOKPP, 10 digits."
    )
    phone_number = serializers.CharField(
        max_length=13,
        required=False,
        validators=[validate_phone],
        help_text="+380XXXXXXXXX: any phone of the patient or their phone for SMS codes.",
    )
    birth_certificate = serializers.CharField(
        max_length=255, required=False, help_text="The number of the patient's birth certificate."
    )


class PersonSearchThrottle(DefaultRateThrottle):
    # Searches by one caller (an API key's user): a front desk finds a patient or two a minute;
    # DEFAULT_THROTTLE_RATES["person_search"] when the settings name it.
    default_rate = "120/hour"


class PersonSearchResultSerializer(SharedFieldsSerializer):
    """eHealth's search view of a person: identity, and what the caller searched by."""

    id = serializers.UUIDField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    second_name = serializers.CharField(allow_null=True)
    birth_country = serializers.CharField()
    birth_settlement = serializers.CharField()
    birth_date = serializers.DateField()
    tax_id = serializers.CharField(required=False, help_text="Only when searched by it.")
    phones = PhoneSerializer(many=True, required=False, help_text="MOBILE; only when searched by a phone.")
    documents = DocumentShortSerializer(
        many=True, required=False, help_text="Birth certificates; only when searched by one."
    )


def person_search_view(person: Person, asked: dict) -> dict:
    """One result: the identity, and the members the caller searched by (`asked`: the valid query)."""
    result = {
        "id": str(person.pk),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "second_name": person.second_name or None,
        "birth_country": person.birth_country,
        "birth_settlement": person.birth_settlement,
        "birth_date": person.birth_date.isoformat(),
    }
    if asked.get("tax_id"):
        result["tax_id"] = person.tax_id
    if asked.get("phone_number"):
        result["phones"] = [
            {"type": phone["type"], "number": phone["number"]}
            for phone in person.phones
            if phone.get("type") == "MOBILE"
        ]
    if asked.get("birth_certificate"):
        result["documents"] = [
            {"type": document["type"], "number": document["number"]}
            for document in person.documents
            if document.get("type") == BIRTH_CERTIFICATE
        ]
    return result


def _too_many_results(error) -> None:
    if "too_many_results" in error_codes(error):
        raise PermissionDenied(TOO_MANY_RESULTS) from error


class PersonSearchApi(APIView):
    throttle_classes = [PersonSearchThrottle]
    throttle_scope = "person_search"

    @extend_schema(
        operation_id="persons_search",
        summary="Search persons",
        description=(
            "eHealth's exact-match search of the patient register: `first_name`, `last_name`, `birth_date` "
            "and at least one of `tax_id`, `phone_number`, `birth_certificate` (all given must match). "
            f"At most {PERSON_SEARCH_LIMIT} persons; more: 403. Each result is eHealth's search view: "
            "identity plus the members searched by. Throttled per caller (429 with Retry-After). "
            "Scope `person:read`."
        ),
        parameters=[PersonSearchQuerySerializer],
        responses={
            200: PersonSearchResultSerializer(many=True),
            403: OpenApiResponse(description="No such right, or too many persons match."),
            422: OpenApiResponse(description="A required parameter missing or malformed, or no identifier."),
            429: OpenApiResponse(description="Too many searches by the caller."),
        },
        tags=[TAG],
    )
    def get(self, request):
        api_facility(request, "person:read")
        query = PersonSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data
        certificate = asked.get("birth_certificate")
        with refusals(_too_many_results):
            people = person_search(
                first_name=asked["first_name"],
                last_name=asked["last_name"],
                second_name=asked.get("second_name"),
                birth_date=asked["birth_date"],
                tax_id=asked.get("tax_id"),
                phone_number=asked.get("phone_number"),
                document_number=certificate,
                document_type=BIRTH_CERTIFICATE if certificate else None,
            )
        return Response([person_search_view(person, asked) for person in people])


# Included by declarations/api_urls.py.
urlpatterns = [path("persons", PersonSearchApi.as_view(), name="persons")]
