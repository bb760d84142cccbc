"""/api/verifications: start a code (201), complete it (200; 422 at $.code, 403 after the last attempt, 404 with no
code), ask whether a phone is verified (200/404); scopes otp:write / otp:read; refusals change nothing."""

import datetime
from datetime import timedelta

import pytest

from declarations.models import SmsMessage, Verification, VerifiedPhone
from declarations.services import otp
from ehealth_portal.models import ApiKey
from tests.declarations.conftest import party_make
from tests.declarations.test_otp import Clock, code_sent, wrong
from tests.factories import EmployeeFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+380501234567"
URL = "/api/verifications"


@pytest.fixture
def clock(monkeypatch) -> Clock:  # the service tests' settable clock
    from django.utils import timezone

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def desk(client, clinic):
    """The clinic's receptionist (ADMIN: otp:read and otp:write), signed in."""
    client.force_login(clinic.receptionist)
    return client


def staff_user(clinic, employee_type: str):
    user = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        division=clinic.division,
        party=party_make(last_name="Гнатюк", first_name="Ірина", gender="FEMALE", user=user),
        employee_type=employee_type,
        position="P15",
        start_date=datetime.date(2020, 1, 1),
    )
    return user


def start(client, phone_number=PHONE, **headers):
    return client.post(URL, {"phone_number": phone_number}, content_type="application/json", **headers)


def complete(client, code, phone_number=PHONE):
    return client.patch(
        f"{URL}/{phone_number}/actions/complete", {"code": code}, content_type="application/json"
    )


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    assert response.json()["error"]["type"] == "validation_failed"
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


def snapshot() -> list[tuple]:
    """Everything a verification writes."""
    return [
        *Verification.objects.order_by("created_at").values_list("id", "status", "attempts", "verified_at"),
        *SmsMessage.objects.order_by("pk").values_list("pk", "body", "status"),
        *VerifiedPhone.objects.values_list("phone_number", "verified_at"),
    ]


# --- Start ---------------------------------------------------------------------------------------------


def test_start_sends_a_code_and_answers_201_without_it(desk):
    response = start(desk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["meta"]["code"] == 201 and body["meta"]["type"] == "object"
    data = body["data"]
    verification = Verification.objects.get()
    assert data == {
        "id": str(verification.pk),
        "phone_number": PHONE,
        "status": "NEW",
        "code_expired_at": data["code_expired_at"],
        "active": True,
    }
    assert datetime.datetime.fromisoformat(data["code_expired_at"]) == verification.code_expired_at
    assert code_sent() not in response.content.decode()
    assert SmsMessage.objects.get().phone_number == PHONE


def test_start_with_an_api_key(client, clinic):
    _key, key = ApiKey.objects.create_key(name="mis", user=clinic.family_doctor.party.user)
    response = start(client, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201, response.content


def test_a_second_start_cancels_the_first_code(desk):
    first = start(desk).json()["data"]["id"]
    start(desk)
    assert Verification.objects.get(pk=first).status == Verification.Status.CANCELED


@pytest.mark.parametrize(
    ("body", "path", "rule"),
    [
        ({"phone_number": "0501234567"}, "$.phone_number", "phone_format"),
        ({"phone_number": "+38050123456"}, "$.phone_number", "phone_format"),
        ({}, "$.phone_number", "required"),
        ({"phone_number": PHONE, "provider": "x"}, "$.provider", "unknown_field"),
    ],
)
def test_a_malformed_start_is_refused_at_its_path_and_sends_nothing(desk, body, path, rule):
    response = desk.post(URL, body, content_type="application/json")
    assert rule in invalid(response)[path]
    assert snapshot() == []


def test_the_sixth_code_within_an_hour_is_429_with_retry_after(desk, clock):
    for _ in range(5):
        assert start(desk).status_code == 201
        clock.advance(minutes=1)
    before = snapshot()

    response = start(desk)

    assert response.status_code == 429, response.content
    assert response.json()["error"]["type"] == "too_many_requests"
    assert response["Retry-After"] == str(55 * 60)
    assert snapshot() == before


def test_starts_are_throttled_per_caller(desk, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "verification_start": "2/hour",
        },
    }
    assert start(desk, "+380501111111").status_code == 201
    assert start(desk, "+380502222222").status_code == 201
    before = snapshot()
    response = start(desk, "+380503333333")
    assert response.status_code == 429
    assert snapshot() == before


# --- Complete ------------------------------------------------------------------------------------------


def test_the_right_code_verifies_the_phone(desk):
    start(desk)
    assert desk.get(f"{URL}/{PHONE}").status_code == 404

    response = complete(desk, code_sent())

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert (data["status"], data["active"], data["phone_number"]) == ("VERIFIED", False, PHONE)
    verified = desk.get(f"{URL}/{PHONE}")
    assert verified.status_code == 200
    assert verified.json()["data"] == {"phone_number": PHONE}


def test_a_wrong_code_is_422_at_code_and_counted(desk):
    start(desk)
    assert invalid(complete(desk, wrong(code_sent()))) == {"$.code": ["code_invalid"]}
    assert Verification.objects.get().attempts == 1
    assert desk.get(f"{URL}/{PHONE}").status_code == 404


def test_after_three_wrong_codes_even_the_right_one_is_403(desk):
    start(desk)
    code = code_sent()
    for _ in range(2):
        assert invalid(complete(desk, wrong(code))) == {"$.code": ["code_invalid"]}

    last = complete(desk, wrong(code))
    assert last.status_code == 403, last.content
    assert last.json()["error"]["type"] == "forbidden"

    right = complete(desk, code)
    assert right.status_code == 403
    assert Verification.objects.get().status == Verification.Status.UNVERIFIED
    assert desk.get(f"{URL}/{PHONE}").status_code == 404


def test_an_expired_code_is_422_at_code(desk, clock):
    start(desk)
    clock.advance(minutes=15, seconds=1)
    assert invalid(complete(desk, code_sent())) == {"$.code": ["code_expired"]}
    assert Verification.objects.get().status == Verification.Status.EXPIRED


def test_no_code_for_the_phone_is_404(desk):
    response = complete(desk, "1234")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize("code", ["123", "12345", "12a4", ""])
def test_a_malformed_code_is_422_and_uses_no_attempt(desk, code):
    start(desk)
    before = snapshot()
    assert "$.code" in invalid(complete(desk, code))
    assert snapshot() == before


def test_an_integer_code_as_ehealth_sends_it_is_accepted(desk, monkeypatch):
    monkeypatch.setattr(otp, "_code_new", lambda: "4821")  # eHealth's codes have no leading zero
    start(desk)
    response = desk.patch(f"{URL}/{PHONE}/actions/complete", {"code": 4821}, content_type="application/json")
    assert response.status_code == 200, response.content


def test_the_phone_in_the_path_may_be_percent_encoded(desk):
    start(desk)
    assert complete(desk, code_sent(), phone_number="%2B380501234567").status_code == 200
    assert desk.get(f"{URL}/%2B380501234567").status_code == 200


def test_a_path_that_is_not_a_phone_is_404(desk):
    start(desk)
    before = snapshot()
    assert complete(desk, code_sent(), phone_number="380501234567").status_code == 404
    assert desk.get(f"{URL}/0501234567").status_code == 404
    assert snapshot() == before


# --- Who may ---------------------------------------------------------------------------------------------


@pytest.fixture(params=["anonymous", "no facility", "HR", "ASSISTANT", "ACCOUNTANT"])
def outsider(request, client, clinic):
    """A caller without the otp scopes: 401 when anonymous, 403 otherwise."""
    if request.param == "no facility":
        client.force_login(UserFactory())
    elif request.param != "anonymous":
        client.force_login(staff_user(clinic, request.param))
    client.expected_status = 401 if request.param == "anonymous" else 403
    return client


def test_starting_needs_otp_write(outsider):
    assert start(outsider).status_code == outsider.expected_status
    assert snapshot() == []


def test_completing_needs_otp_write_even_with_the_right_code(outsider, client, clinic):
    from django.test import Client

    receptionist = Client()
    receptionist.force_login(clinic.receptionist)
    start(receptionist)
    before = snapshot()

    assert complete(outsider, code_sent()).status_code == outsider.expected_status
    assert snapshot() == before
    verification = Verification.objects.get()
    assert (verification.status, verification.attempts) == (Verification.Status.NEW, 0)


def test_reading_needs_otp_read(outsider):
    VerifiedPhone.objects.create(phone_number=PHONE, verified_at=datetime.datetime.now(tz=datetime.UTC))
    assert outsider.get(f"{URL}/{PHONE}").status_code == outsider.expected_status


@pytest.mark.parametrize("role", ["head", "family_doctor"])
def test_the_head_and_a_doctor_may_verify_too(client, clinic, role):
    user = clinic.head if role == "head" else clinic.family_doctor.party.user
    client.force_login(user)
    assert start(client).status_code == 201
    assert complete(client, code_sent()).status_code == 200
    assert client.get(f"{URL}/{PHONE}").status_code == 200


def test_a_dismissed_receptionist_may_not(desk, clinic):
    from registry.models import Employee

    Employee.objects.filter(party__user=clinic.receptionist).update(status="DISMISSED", is_active=False)
    assert start(desk).status_code == 403
    assert snapshot() == []


def test_the_code_expiry_is_15_minutes_from_the_start(desk, clock):
    data = start(desk).json()["data"]
    assert datetime.datetime.fromisoformat(data["code_expired_at"]) == clock.now + timedelta(minutes=15)
