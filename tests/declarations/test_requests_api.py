"""The declaration request API in eHealth's shape: create (eHealth's example made valid, and refused at
the right path), list and read, the patient's confirmation, scans, and the doctor's signature — the full
MIS flow, and refusals that change nothing."""

import base64
import datetime
import json
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from declarations.apis.requests import INCORRECT_STATUS, INVALID_TRANSITION
from declarations.models import (
    Declaration,
    DeclarationRequest,
    DeclarationRequestDocument,
    SmsMessage,
    Verification,
)
from declarations.services import declaration_request_signable_bytes
from ehealth_portal.models import ApiKey
from tests.declaration_data import PATIENT_PHONE, adult, offline, person
from tests.factories import EmployeeFactory, UserFactory

from .conftest import (
    declaration_signed,
    doctor_credential,
    party_make,
    phone_verified,
    request_approve,
    request_create,
    sms_code,
)

EXAMPLES = Path(__file__).parent / "data"
REQUESTS = "/api/declaration_requests"
EXAMPLE_PHONE = "+380508887700"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def example(name: str = "declaration_request.json") -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def uk(message) -> str:
    with translation.override("uk"):
        return translation.gettext(str(message))


def api(user) -> Client:
    """A MIS calling as `user` with their API key."""
    _key, key = ApiKey.objects.create_key(name="mis", user=user)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def invalid(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    return {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }


def error(response, code: int) -> dict:
    assert response.status_code == code, response.content
    return response.json()["error"]


def state() -> dict:
    return {
        "requests": list(DeclarationRequest.objects.values_list("pk", "status").order_by("pk")),
        "declarations": list(Declaration.objects.values_list("pk", "status").order_by("pk")),
        "verifications": Verification.objects.count(),
        "sms": SmsMessage.objects.count(),
        "scans": DeclarationRequestDocument.objects.count(),
        "history": DeclarationRequest.history.count() + Declaration.history.count(),
    }


def made_valid(clinic) -> dict:
    body = example()
    body["declaration_request"].update(
        employee_id=str(clinic.family_doctor.pk), division_id=str(clinic.division.pk)
    )
    phone_verified(EXAMPLE_PHONE)
    return body


def create(client, body):
    return client.post(REQUESTS, body, content_type="application/json")


def patch(client, url, body=None):
    return client.patch(url, body if body is not None else {}, content_type="application/json")


def url(declaration_request, action: str = "") -> str:
    pk = getattr(declaration_request, "pk", declaration_request)
    return f"{REQUESTS}/{pk}" + (f"/actions/{action}" if action else "")


def canonical(data: dict) -> bytes:
    """What a MIS signs: `$.data` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign_body(envelope: bytes) -> dict:
    return {
        "signed_declaration_request": base64.b64encode(envelope).decode(),
        "signed_content_encoding": "base64",
    }


@pytest.fixture
def front_desk(clinic) -> Client:
    return api(clinic.receptionist)


@pytest.fixture
def doctor(clinic) -> Client:
    return api(clinic.family_doctor.party.user)


# --- Create: eHealth's example ---------------------------------------------------------------------------


def test_the_example_made_valid_is_accepted(clinic, front_desk):
    response = create(front_desk, made_valid(clinic))

    assert response.status_code == 201, response.content
    body = response.json()
    data, urgent = body["data"], body["urgent"]
    request = DeclarationRequest.objects.get()
    assert data["id"] == str(request.pk) and request.channel == "MIS"
    assert request.created_by == clinic.receptionist and request.legal_entity == clinic.legal_entity
    assert data["status"] == "NEW" and data["channel"] == "MIS" and data["scope"] == "family_doctor"
    assert re.fullmatch(r"\d{4}-[0-9AEHKMPTX]{4}-[0-9AEHKMPTX]{4}", data["declaration_number"])
    assert data["declaration_id"] == str(request.declaration_id)
    assert data["start_date"] == timezone.localdate().isoformat() and data["end_date"] > data["start_date"]
    assert data["seed"] and "Іванов" in data["content"]
    assert data["person"]["tax_id"] == "3126509817" and data["person"]["patient_signed"] is True
    assert data["employee"]["id"] == str(clinic.family_doctor.pk)
    assert data["division"]["id"] == str(clinic.division.pk)
    assert data["legal_entity"]["id"] == str(clinic.legal_entity.pk)
    # A patient the register does not know yet confirms nothing before the doctor signs (eHealth's NA).
    assert urgent == {"authentication_method_current": {"type": "NA"}, "documents": []}
    # $.data is served as the very bytes the doctor signs.
    assert declaration_request_signable_bytes(request) in response.content


def test_the_example_as_published_is_refused_at_each_of_its_mistakes(clinic, front_desk):
    body = example("declaration_request_as_published.json")
    person_data = body["declaration_request"]["person"]
    before = state()

    # The document's shape first (eHealth's JSON schema), then the person's own rules, then the facility's.
    assert invalid(create(front_desk, body)) == {
        "$.declaration_request.person.addresses[0].settlement_id": ["invalid"],
        "$.declaration_request.person.confidant_person[0].documents_relationship[0].type": ["inclusion"],
    }
    del person_data["addresses"][0]["settlement_id"]
    person_data["confidant_person"][0]["documents_relationship"][0]["type"] = "COURT_DECISION"
    assert invalid(create(front_desk, body)) == {
        "$.declaration_request.person.confidant_person[0].tax_id": ["rnokpp_checksum"]
    }
    person_data["confidant_person"][0]["tax_id"] = "3126509817"
    assert invalid(create(front_desk, body)) == {"$.declaration_request.person.tax_id": ["rnokpp_checksum"]}
    person_data["tax_id"] = "3126509817"
    assert invalid(create(front_desk, body)) == {"$.declaration_request.employee_id": ["not_found"]}
    assert state() == before


def _tax_id_checksum(body, clinic, other_clinic):
    body["declaration_request"]["person"]["tax_id"] = "3126509816"


def _no_residence(body, clinic, other_clinic):
    body["declaration_request"]["person"]["addresses"][0]["type"] = "REGISTRATION"


def _unknown_member(body, clinic, other_clinic):
    body["declaration_request"]["person"]["nickname"] = "Петрик"


def _scope(body, clinic, other_clinic):
    body["declaration_request"]["scope"] = "pediatrician"


def _employee_of_another_facility(body, clinic, other_clinic):
    body["declaration_request"]["employee_id"] = str(other_clinic.family_doctor.pk)


def _division_of_another_facility(body, clinic, other_clinic):
    body["declaration_request"]["division_id"] = str(other_clinic.division.pk)


def _unknown_employee(body, clinic, other_clinic):
    body["declaration_request"]["employee_id"] = "d290f1ee-6c54-4b01-90e6-d701748f0851"


def _phone_not_verified(body, clinic, other_clinic):
    body["declaration_request"]["person"]["authentication_methods"][0]["phone_number"] = "+380509998877"


def _therapist_for_a_child(body, clinic, other_clinic):
    body["declaration_request"]["employee_id"] = str(clinic.therapist.pk)
    body["declaration_request"]["person"]["birth_date"] = timezone.localdate().replace(year=2015).isoformat()


def _unknown_top_level_member(body, clinic, other_clinic):
    body["legal_entity_id"] = str(clinic.legal_entity.pk)


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        (_tax_id_checksum, "$.declaration_request.person.tax_id", "rnokpp_checksum"),
        (_no_residence, "$.declaration_request.person.addresses", None),
        (_unknown_member, "$.declaration_request.person.nickname", "unknown_field"),
        (_scope, "$.declaration_request.scope", "invalid_choice"),
        (_employee_of_another_facility, "$.declaration_request.employee_id", "employee_legal_entity"),
        (_division_of_another_facility, "$.declaration_request.division_id", "division_legal_entity"),
        (_unknown_employee, "$.declaration_request.employee_id", "not_found"),
        (
            _phone_not_verified,
            "$.declaration_request.person.authentication_methods[0].phone_number",
            "phone_not_verified",
        ),
        (_therapist_for_a_child, "$.declaration_request.person.birth_date", "invalid_age"),
        (_unknown_top_level_member, "$.legal_entity_id", "unknown_field"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_one_broken_field_is_refused_at_its_path_storing_nothing(
    clinic, other_clinic, front_desk, change, path, rule
):
    body = made_valid(clinic)
    change(body, clinic, other_clinic)
    before = state()

    errors = invalid(create(front_desk, body))

    assert path in errors, errors
    if rule:
        assert rule in errors[path]
    assert state() == before


def test_a_body_without_the_declaration_request_object_is_refused(front_desk, clinic):
    assert "$.declaration_request" in invalid(create(front_desk, {"declaration_request": ["person"]}))
    assert invalid(create(front_desk, {}))["$.declaration_request"] == ["required"]


def test_creating_needs_the_right_in_the_facility(clinic, other_clinic):
    body = made_valid(clinic)
    elsewhere = api(other_clinic.receptionist)  # another facility's front desk, naming our doctor

    errors = invalid(create(elsewhere, body))

    assert errors["$.declaration_request.employee_id"] == ["employee_legal_entity"]
    assert error(create(Client(), body), 401)
    assert not DeclarationRequest.objects.exists()


def test_an_assistant_reads_requests_but_does_not_make_or_confirm_them(clinic, new_request):
    user = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        party=party_make(last_name="Савченко", first_name="Ірина", gender="FEMALE", user=user),
        employee_type="ASSISTANT",
        position="P14",
        start_date=datetime.date(2020, 1, 1),
    )
    assistant = api(user)
    before = state()

    assert assistant.get(url(new_request)).status_code == 200
    assert error(create(assistant, made_valid(clinic)), 403)
    assert error(patch(assistant, url(new_request, "approve"), {"verification_code": "1234"}), 403)
    assert error(patch(assistant, url(new_request, "reject")), 403)
    assert state() == before


# --- The MIS flow: create → SMS code → approve → GET → sign ---------------------------------------------


def test_the_mis_flow_creates_the_declaration_the_doctor_signed(
    clinic, other_clinic, patient, pki, front_desk
):
    earlier = declaration_signed(other_clinic, pki)  # the patient's declaration with another facility
    body = {
        "declaration_request": {
            "person": person(),
            "employee_id": str(clinic.family_doctor.pk),
            "division_id": str(clinic.division.pk),
            "scope": "family_doctor",
        }
    }

    created = create(front_desk, body)

    assert created.status_code == 201, created.content
    request_id = created.json()["data"]["id"]
    assert created.json()["urgent"]["authentication_method_current"] == {
        "type": "OTP",
        "number": "+38067*****33",
    }

    approved = patch(front_desk, url(request_id, "approve"), {"verification_code": sms_code(PATIENT_PHONE)})

    assert approved.status_code == 200, approved.content
    assert approved.json()["data"]["status"] == "APPROVED"

    served = api(clinic.family_doctor.party.user).get(url(request_id))
    data = served.json()["data"]
    assert data["status"] == "APPROVED" and data["person"]["patient_signed"] is True
    content = canonical(data)
    assert content in served.content  # the bytes served are the bytes the MIS signs
    envelope = pki.sign(doctor_credential(pki, clinic.family_doctor), content)

    signed = patch(api(clinic.family_doctor.party.user), url(request_id, "sign"), sign_body(envelope))

    assert signed.status_code == 200, signed.content
    declaration = Declaration.objects.get(declaration_request_id=request_id)
    assert signed.json()["data"] == {
        **signed.json()["data"],
        "id": str(declaration.pk),
        "declaration_number": data["declaration_number"],
        "status": "active",
        "is_active": True,
        "person_id": str(patient.pk),
        "employee_id": str(clinic.family_doctor.pk),
        "legal_entity_id": str(clinic.legal_entity.pk),
        "declaration_request_id": request_id,
    }
    assert DeclarationRequest.objects.get(pk=request_id).status == "SIGNED"
    earlier.refresh_from_db()
    assert earlier.status == "terminated"


@pytest.fixture
def approved(clinic, patient):
    return request_approve(request_create(clinic))


def test_a_second_signature_is_refused_and_changes_nothing(clinic, approved, pki, doctor):
    envelope = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(approved)
    )
    assert patch(doctor, url(approved, "sign"), sign_body(envelope)).status_code == 200
    approved.refresh_from_db()
    again = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(approved)
    )
    before = state()

    response = patch(doctor, url(approved, "sign"), sign_body(again))

    assert error(response, 409)["message"] == uk(INCORRECT_STATUS)
    assert state() == before


def test_a_signature_of_another_request_is_refused(clinic, approved, pki, doctor):
    other = request_approve(request_create(clinic, adult(7)))
    replayed = pki.sign(
        doctor_credential(pki, clinic.family_doctor), declaration_request_signable_bytes(other)
    )
    before = state()

    errors = invalid(patch(doctor, url(approved, "sign"), sign_body(replayed)))

    assert errors == {"$.signed_declaration_request": ["signed_content_differs"]}
    assert state() == before


def test_a_signature_with_another_persons_key_is_refused(clinic, approved, pki, doctor):
    stranger = pki.person()  # a valid qualified key, but not the doctor's
    envelope = pki.sign(stranger, declaration_request_signable_bytes(approved))
    before = state()

    errors = invalid(patch(doctor, url(approved, "sign"), sign_body(envelope)))

    assert errors == {"$.signed_declaration_request": ["signer_not_expected"]}
    assert state() == before


def test_only_the_requests_doctor_signs(clinic, approved, pki):
    therapist = clinic.therapist
    envelope = pki.sign(doctor_credential(pki, therapist), declaration_request_signable_bytes(approved))
    before = state()

    assert error(patch(api(therapist.party.user), url(approved, "sign"), sign_body(envelope)), 403)
    # The front desk may take a request through the patient's confirmation, never sign it.
    assert error(patch(api(clinic.receptionist), url(approved, "sign"), sign_body(envelope)), 403)
    assert state() == before


def test_a_malformed_signature_is_refused_at_its_field(approved, doctor):
    before = state()

    not_base64 = invalid(patch(doctor, url(approved, "sign"), {"signed_declaration_request": "not base64!"}))
    not_cms = invalid(patch(doctor, url(approved, "sign"), sign_body(b"not a signature")))

    assert not_base64 == {
        "$.signed_declaration_request": ["base64"],
        "$.signed_content_encoding": ["required"],
    }
    assert list(not_cms) == ["$.signed_declaration_request"]
    assert state() == before


# --- Approve, reject, send the code again ----------------------------------------------------------------


@pytest.fixture
def new_request(clinic, patient):
    return request_create(clinic)


def test_a_wrong_code_is_refused_at_its_field_and_the_request_waits(new_request, front_desk):
    code = sms_code(PATIENT_PHONE)
    wrong = "0000" if code != "0000" else "1111"

    errors = invalid(patch(front_desk, url(new_request, "approve"), {"verification_code": wrong}))

    assert errors == {"$.verification_code": ["code_invalid"]}
    new_request.refresh_from_db()
    assert new_request.status == "NEW"
    assert patch(front_desk, url(new_request, "approve"), {"verification_code": code}).status_code == 200


def test_the_wrong_code_that_uses_the_last_attempt_is_forbidden(new_request, front_desk, settings):
    code = sms_code(PATIENT_PHONE)
    wrong = "0000" if code != "0000" else "1111"

    tries = [
        patch(front_desk, url(new_request, "approve"), {"verification_code": wrong}).status_code
        for _attempt in range(settings.OTP_MAX_ATTEMPTS)
    ]
    right_too_late = patch(front_desk, url(new_request, "approve"), {"verification_code": code})

    assert tries == [422] * (settings.OTP_MAX_ATTEMPTS - 1) + [403]
    assert error(right_too_late, 403)
    new_request.refresh_from_db()
    assert new_request.status == "NEW"


def test_approving_an_otp_request_needs_the_code(new_request, front_desk):
    assert invalid(patch(front_desk, url(new_request, "approve")))["$.verification_code"] == ["required"]


def test_approving_or_rejecting_twice_is_an_invalid_transition(new_request, front_desk):
    assert patch(front_desk, url(new_request, "reject")).json()["data"]["status"] == "REJECTED"
    before = state()

    for action, body in (("reject", None), ("approve", {"verification_code": sms_code(PATIENT_PHONE)})):
        assert error(patch(front_desk, url(new_request, action), body), 409)["message"] == uk(
            INVALID_TRANSITION
        )
    assert state() == before


def test_the_code_is_sent_again_to_the_masked_phone(new_request, front_desk):
    sent = SmsMessage.objects.count()

    response = front_desk.post(url(new_request, "resend_otp"))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["phone_number"] == "+38067*****33"
    assert response.json()["data"]["status"] == "NEW"
    assert SmsMessage.objects.count() == sent + 1
    assert (
        patch(
            front_desk, url(new_request, "approve"), {"verification_code": sms_code(PATIENT_PHONE)}
        ).status_code
        == 200
    )


def test_codes_past_the_hourly_limit_are_refused_with_retry_after(new_request, front_desk, settings):
    settings.OTP_SENDS_PER_HOUR = 2  # the request's own code was the first
    assert front_desk.post(url(new_request, "resend_otp")).status_code == 200
    before = state()

    response = front_desk.post(url(new_request, "resend_otp"))

    assert error(response, 429) and int(response["Retry-After"]) > 0
    assert state() == before


def test_no_code_is_sent_for_a_patient_who_confirms_otherwise(clinic, front_desk):
    request = request_create(clinic, offline(adult(8)))
    before = state()

    assert error(front_desk.post(url(request, "resend_otp")), 409)
    assert state() == before


# --- Scans (OFFLINE) ------------------------------------------------------------------------------------


def test_an_offline_request_is_approved_once_its_scans_are_uploaded(clinic, front_desk):
    body = {
        "declaration_request": {
            "person": offline(adult(9)),
            "employee_id": str(clinic.family_doctor.pk),
            "division_id": str(clinic.division.pk),
            "scope": "family_doctor",
        }
    }
    created = create(front_desk, body).json()
    request_id = created["data"]["id"]
    assert created["urgent"]["authentication_method_current"] == {"type": "OFFLINE"}
    links = created["urgent"]["documents"]
    assert [link["type"] for link in links] == ["person.DECLARATION_FORM", "person.SSN", "person.PASSPORT"]
    assert links[0]["url"] == f"http://testserver{REQUESTS}/{request_id}/documents/person.DECLARATION_FORM"

    assert error(patch(front_desk, url(request_id, "approve")), 409)  # nothing uploaded yet
    for link in links:
        uploaded = front_desk.put(link["url"], JPEG, content_type="image/jpeg")
        assert uploaded.status_code == 200, uploaded.content
        assert uploaded.json()["data"] | {"uploaded_at": None} == {
            "type": link["type"],
            "content_type": "image/jpeg",
            "size": len(JPEG),
            "uploaded_at": None,
        }

    assert patch(front_desk, url(request_id, "approve")).json()["data"]["status"] == "APPROVED"


def test_a_scan_is_refused_for_its_kind_or_an_unlisted_type(clinic, front_desk):
    request = request_create(clinic, offline(adult(10)))
    before = state()

    not_a_scan = front_desk.put(
        f"{url(request)}/documents/person.PASSPORT", b"GIF89a....", content_type="image/jpeg"
    )
    unlisted = front_desk.put(f"{url(request)}/documents/person.NATIONAL_ID", JPEG, content_type="image/jpeg")

    empty = front_desk.generic("PUT", f"{url(request)}/documents/person.PASSPORT", b"", content_type="")

    assert invalid(not_a_scan) == {"$.file": ["file_type"]}
    assert invalid(empty) == {"$.file": ["file_type"]}
    assert invalid(unlisted) == {"$.type": ["document_type"]}
    assert state() == before


# --- Reading, and another facility ------------------------------------------------------------------------


def test_the_list_shows_the_facilitys_requests_by_doctor_and_status(
    clinic, other_clinic, patient, front_desk
):
    mine = request_create(clinic)
    request_create(clinic, adult(11), doctor=clinic.therapist)
    request_create(other_clinic, adult(12))

    everything = front_desk.get(REQUESTS).json()
    by_doctor = front_desk.get(REQUESTS, {"employee_id": clinic.family_doctor.pk, "status": "NEW"}).json()

    assert everything["paging"]["total_entries"] == 2
    assert [row["id"] for row in by_doctor["data"]] == [str(mine.pk)]
    row = by_doctor["data"][0]
    assert row["person"] == {"first_name": "Петро", "last_name": "Іваненко", "second_name": "Миколайович"}
    assert row["employee"]["party"]["last_name"] == "Шевченко" and row["legal_entity"]["id"] == str(
        clinic.legal_entity.pk
    )
    assert invalid(front_desk.get(REQUESTS, {"status": "LOST"})) == {"$.status": ["invalid_choice"]}


def test_a_page_of_requests_costs_the_same_queries_however_many_rows(clinic, patient, front_desk):
    request_create(clinic)
    front_desk.get(REQUESTS)  # warm: the caller's key and the reference data read
    with CaptureQueriesContext(connection) as one_row:
        assert len(front_desk.get(REQUESTS).json()["data"]) == 1
    for serial in (14, 15, 16):
        request_create(clinic, adult(serial), doctor=clinic.therapist)
    front_desk.get(REQUESTS)

    with CaptureQueriesContext(connection) as four_rows:
        assert len(front_desk.get(REQUESTS).json()["data"]) == 4

    assert len(four_rows) == len(one_row)


def test_another_facilitys_request_is_not_found(other_clinic, clinic, pki, front_desk):
    theirs = request_approve(request_create(other_clinic, adult(13)))
    envelope = pki.sign(
        doctor_credential(pki, other_clinic.family_doctor), declaration_request_signable_bytes(theirs)
    )
    before = state()

    assert error(front_desk.get(url(theirs)), 404)
    assert error(patch(front_desk, url(theirs, "reject")), 404)
    assert error(patch(front_desk, url(theirs, "approve")), 404)
    assert error(front_desk.post(url(theirs, "resend_otp")), 404)
    assert error(
        front_desk.put(f"{url(theirs)}/documents/person.PASSPORT", JPEG, content_type="image/jpeg"), 404
    )
    # Their doctor, signed in at our facility's API as someone else, cannot sign it through us either.
    assert error(patch(api(clinic.family_doctor.party.user), url(theirs, "sign"), sign_body(envelope)), 404)
    assert state() == before


def test_an_expired_requests_data_is_gone(new_request, front_desk):
    DeclarationRequest.objects.filter(pk=new_request.pk).update(expires_at=timezone.now())
    from declarations.services import declaration_requests_expire

    declaration_requests_expire()

    data = front_desk.get(url(new_request)).json()["data"]

    assert data == {
        "id": str(new_request.pk),
        "status": "EXPIRED",
        "channel": "CABINET",
        "declaration_number": new_request.declaration_number,
    }


def test_a_request_past_its_term_or_of_a_closed_place_is_a_conflict(clinic, new_request, front_desk):
    from registry.services.divisions import division_deactivate

    code = sms_code(PATIENT_PHONE)
    DeclarationRequest.objects.filter(pk=new_request.pk).update(expires_at=timezone.now())
    before = state()

    assert error(patch(front_desk, url(new_request, "approve"), {"verification_code": code}), 409)
    assert error(front_desk.post(url(new_request, "resend_otp")), 409)
    assert state() == before

    DeclarationRequest.objects.filter(pk=new_request.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    division_deactivate(division=clinic.division, actor=clinic.head)
    refusal = error(patch(front_desk, url(new_request, "approve"), {"verification_code": code}), 409)
    assert refusal["message"] == uk(
        "The place of service of the request no longer works: reject the request."
    )
    assert Verification.objects.filter(status=Verification.Status.NEW).count() == 1  # the code not spent
    assert patch(front_desk, url(new_request, "reject")).status_code == 200


def test_reading_needs_a_right_in_a_facility(new_request):
    outsider = api(UserFactory())  # works at no facility

    assert error(outsider.get(url(new_request)), 403)
    assert error(outsider.get(REQUESTS), 403)
