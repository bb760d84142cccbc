"""The eHealth legal-entity payload rules (registry.payloads), shared by the wizard and the API."""

import copy
import datetime
import json
import re

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from registry.payloads import legal_entity_payload_canonical, legal_entity_payload_validate

from .conftest import FOP_RNOKPP, PAYLOAD

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()  # the portal's date (Kyiv), as the validators use
DELETE = object()


def changed(path: str, value) -> dict:
    """PAYLOAD with the member at a JSON path ("owner.phones[0].number") set to value (or DELETEd)."""
    data = copy.deepcopy(PAYLOAD)
    *parents, last = re.findall(r"[^.\[\]]+", path)
    target = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key = int(last) if last.isdigit() else last
    if value is DELETE:
        del target[key]
    else:
        target[key] = value
    return data


def errors(data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as error:
        legal_entity_payload_validate(data)
    return {path: [item.code for item in items] for path, items in error.value.error_dict.items()}


def test_a_valid_payload_is_normalised(registration):
    data = legal_entity_payload_validate(
        {**copy.deepcopy(PAYLOAD), "status": "CLOSED", "mis_verified": "VERIFIED"}
    )
    assert data["email"] == "clinic@clinic.example"
    assert data["owner"]["no_tax_id"] is False
    assert data["owner"]["birth_date"] == "1980-05-17"
    assert "status" not in data and "mis_verified" not in data
    assert "region" not in data["addresses"][0]  # optional members not given stay out
    assert legal_entity_payload_validate(copy.deepcopy(data)) == data  # stable: the signed document too


def test_the_canonical_document_is_sorted_compact_utf8(registration):
    data = registration.payload()
    document = legal_entity_payload_canonical(data)
    assert document.startswith(b'{"addresses":[{"area":"')
    assert b": " not in document and b", " not in document
    assert "Коваленко".encode() in document  # not \u-escaped
    assert json.loads(document) == data
    assert legal_entity_payload_canonical(json.loads(document)) == document


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("owner.tax_id", "3185409129", {"owner.tax_id": ["rnokpp_checksum"]}),
        ("owner.position", "P7", {"owner.position": ["owner_position"]}),
        ("owner.position", "P99", {"owner.position": ["inclusion"]}),
        ("owner.birth_date", str(TODAY + datetime.timedelta(days=1)), {"owner.birth_date": ["future_date"]}),
        (
            "owner.birth_date",
            str(TODAY - datetime.timedelta(days=17 * 365)),
            {"owner.birth_date": ["owner_age"]},
        ),
        ("owner.birth_date", "1850-01-01", {"owner.birth_date": ["owner_age"]}),
        ("owner.last_name", "Kovalenko", {"owner.last_name": ["name_characters"]}),
        ("owner.first_name", "Олёна", {"owner.first_name": ["name_forbidden_characters"]}),
        ("owner.gender", "OTHER", {"owner.gender": ["inclusion"]}),
        ("owner.email", "not an email", {"owner.email": ["invalid"]}),
        ("owner.phones[0].number", "0671234567", {"owner.phones[0].number": ["phone_format"]}),
        ("owner.documents", [], {"owner.documents": ["min_length"]}),
        (
            "owner.documents",
            [{"type": "PASSPORT", "number": "КВ123456"}, {"type": "PASSPORT", "number": "КВ654321"}],
            {"owner.documents": ["unique_by_type"]},
        ),
        ("owner.extra", 1, {"owner.extra": ["unknown_field"]}),
        ("phones", [{"type": "MOBILE", "number": "+380501234567"}] * 2, {"phones": ["unique_by_type"]}),
        ("addresses[0].type", "RESIDENCE", {"addresses": ["address_type_count"]}),
        ("addresses[0].zip", "0100", {"addresses[0].zip": ["format"]}),
        ("addresses[0].building", "0", {"addresses[0].building": ["format"]}),
        ("addresses[0].settlement_type", "TOWN", {"addresses[0].settlement_type": ["inclusion"]}),
        ("addresses[0].country", "PL", {"addresses[0].country": ["invalid_choice"]}),
        ("addresses[0].settlement", DELETE, {"addresses[0].settlement": ["required"]}),
        ("edrpou", "38782324", {"edrpou": ["edrpou_checksum"]}),
        ("edrpou", "3878232", {"edrpou": ["edrpou_format"]}),
        ("type", "PHARMACY", {"type": ["legal_entity_type"]}),
        ("type", "HOSPITAL", {"type": ["inclusion"]}),
        ("legal_form", "999", {"legal_form": ["inclusion"]}),
        ("owner_property_type", "MIXED", {"owner_property_type": ["inclusion"]}),
        ("name", "ТОВ «Клініка» #1", {"name": ["name_forbidden_characters"]}),
        ("kveds", [], {"kveds": ["min_length"]}),
        ("kveds", ["86.21", "86.21"], {"kveds": ["unique"]}),
        ("website", "not a site", {"website": ["format"]}),
        ("public_offer.consent", False, {"public_offer.consent": ["consent_required"]}),
        ("public_offer", DELETE, {"public_offer": ["required"]}),
        (
            "medical_service_provider.licenses",
            [PAYLOAD["medical_service_provider"]["licenses"][0]] * 2,
            {"medical_service_provider.licenses": ["max_length"]},
        ),
        (
            "medical_service_provider.licenses[0].expiry_date",
            "2019-01-01",
            {"medical_service_provider.licenses[0].expiry_date": ["date_order"]},
        ),
        (
            "medical_service_provider.accreditation.order_no",
            DELETE,
            {"medical_service_provider.accreditation.order_no": ["required"]},
        ),
        (
            "medical_service_provider.accreditation.category",
            "SUPREME",
            {"medical_service_provider.accreditation.category": ["inclusion"]},
        ),
        ("security.redirect_uri", "http://clinic.example/auth", {"security.redirect_uri": ["format"]}),
        ("division.type", "DRUGSTORE", {"division.type": ["inclusion"]}),
        ("division.addresses[0].type", "REGISTRATION", {"division.addresses": ["address_type_count"]}),
        ("division.location.latitude", 91, {"division.location.latitude": ["max_value"]}),
        ("extra", True, {"extra": ["unknown_field"]}),
    ],
)
def test_each_rule_names_its_json_path_and_code(registration, path, value, expected):
    assert errors(changed(path, value)) == expected


def test_several_errors_are_reported_at_once(registration):
    data = changed("owner.tax_id", "123")
    data["addresses"][0]["zip"] = "x"
    data["unknown"] = 1
    assert set(errors(data)) == {"owner.tax_id", "addresses[0].zip", "unknown"}


def test_not_an_object(registration):
    assert errors(["a list"]) == {NON_FIELD_ERRORS: ["type"]}


def test_a_head_who_refused_an_rnokpp_gives_a_passport_number(registration):
    owner = {**PAYLOAD["owner"], "tax_id": "кв123456", "no_tax_id": True}
    assert legal_entity_payload_validate(changed("owner", owner))["owner"]["tax_id"] == "КВ123456"
    assert errors(changed("owner", {**owner, "tax_id": "12345"})) == {"owner.tax_id": ["passport_format"]}


def test_the_division_and_optional_blocks_may_be_left_out(registration):
    data = copy.deepcopy(PAYLOAD)
    for name in ("division", "security", "website", "short_name", "public_name"):
        del data[name]
    assert "division" not in legal_entity_payload_validate(data)


def test_a_sole_proprietor_is_coded_by_the_heads_rnokpp(registration):
    data = registration.fop_payload()
    assert (data["legal_form"], data["edrpou"], data["owner"]["tax_id"]) == ("910", FOP_RNOKPP, FOP_RNOKPP)
    fop = {**copy.deepcopy(PAYLOAD), "legal_form": "910"}
    assert errors(fop) == {"edrpou": ["rnokpp_format"]}  # an EDRPOU is not a person's code
    fop["edrpou"] = FOP_RNOKPP  # a valid RNOKPP, but not the head's
    assert errors(fop) == {"edrpou": ["sole_proprietor_code"]}
