"""Schemathesis against the published contract (docs/openapi.yaml) with every check: the server answers
what the schema says it accepts, refuses what it says it refuses, and never answers 5xx.

Bounded for CI: derandomized (the same cases every run) and a few examples per operation.
"""

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from ehealth_portal.models import ApiKey
from registry.models import LegalEntity
from tests.factories import (
    DictionaryFactory,
    DictionaryValueFactory,
    DivisionFactory,
    EmployeeFactory,
    GlobalParameterFactory,
    PartyFactory,
    SuperuserFactory,
)
from tests.registry.conftest import PAYLOAD

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

# Signed requests: a schema cannot say "a valid signature", so a well-formed one that does not verify is
# refused with 422 by design; `schema_valid_shape_is_not_refused` still fails a 422 about the shape.
# Staff requests and places of service likewise: a schema cannot say "a valid RNOKPP check digit", "a
# working-age person" or "a key of the dictionary".
SIGNED_OPERATIONS = [
    "digital_signatures_create",
    "legal_entities_upsert",
    "employee_requests_create",
    "divisions_create",
    "divisions_update",
    "verifications_complete",  # a well-formed code that is not the one sent
    "declaration_requests_create",
    "persons_search",  # "one of tax_id, phone_number, birth_certificate" is not a schema of parameters
]
ACCEPTED_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 100, "deterministic": True, "database": "none"},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_STATUSES}},
        "operations": [
            {
                "include-operation-id": operation_id,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED_STATUSES, "422"]}},
            }
            for operation_id in SIGNED_OPERATIONS
        ],
    }
)

schema = schemathesis.openapi.from_path(SCHEMA_PATH, config=CONFIG)
schema.app = get_wsgi_application()

# DRF's refusals of a field's shape (as opposed to a signature's or the register's verdict).
SHAPE_RULES = {
    "required", "null", "blank", "invalid", "base64", "too_large", "invalid_choice", "max_length",
    "min_length", "max_value", "min_value", "max_string_length", "not_a_list", "empty", "parse_error",
    "unknown_field",
}  # fmt: skip
# Not here: "null_characters_not_allowed". JSON strings may hold U+0000 and a schema could exclude it only
# with a pattern on every string; the API refuses it, always with 422 at the field.


def schema_valid_shape_is_not_refused(ctx, response, case):
    """A request the schema calls valid is never refused for the shape of one of its fields."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    rules = {rule["rule"] for entry in response.json()["error"]["invalid"] for rule in entry["rules"]}
    assert not rules & SHAPE_RULES, f"A schema-valid request was refused for its shape: {response.text}"
    return None


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The test's transaction outlives each request, as under Django's test client (which does the same)."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_key(db):
    """An operator's key (the legal-entity endpoints are operators only) who is also the head of a facility
    with a place of service and a doctor (the staff endpoints are the facility's), and reference data,
    so that the responses checked against the schema carry data."""
    for name in ("GENDER", "PHONE_TYPE"):
        DictionaryValueFactory(dictionary=DictionaryFactory(name=name))
    GlobalParameterFactory()
    fields = ("name", "short_name", "type", "edrpou", "legal_form", "owner_property_type", "kveds", "email")
    facility = LegalEntity.objects.create(
        **{field: PAYLOAD[field] for field in (*fields, "addresses", "phones")},
        license=PAYLOAD["medical_service_provider"]["licenses"][0],
        accreditation=PAYLOAD["medical_service_provider"]["accreditation"],
    )
    operator = SuperuserFactory()
    EmployeeFactory(legal_entity=facility, party=PartyFactory(user=operator))
    division = DivisionFactory(legal_entity=facility, addresses=PAYLOAD["division"]["addresses"])
    EmployeeFactory(
        legal_entity=facility,
        division=division,
        employee_type="DOCTOR",
        position="P1",
        speciality={"speciality": "FAMILY_DOCTOR", "speciality_officio": True},
    )
    _api_key, key = ApiKey.objects.create_key(name="fuzz", user=operator)
    return key


@schema.parametrize()
# The key and the reference data are made once per operation and read, never changed, by its cases.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_schema(case, api_key):
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {api_key}"}, additional_checks=[schema_valid_shape_is_not_refused]
    )
