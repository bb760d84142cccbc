"""The head changes the facility's data: the wizard prefilled in the cabinet, eHealth's upsert through
`PUT /api/legal_entities`, a handover to a new head, and every refusal leaving the facility as it was."""

import base64
import copy
import hashlib
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from ehealth_portal.models import ApiKey
from registry.forms import LICENCE_FIELDS
from registry.models import (
    Division,
    EdrRecord,
    Employee,
    EmployeeRequest,
    LegalEntity,
    Party,
    RegistrationApplication,
)
from registry.selectors import dictionary_choices, global_parameters_as_dict
from registry.services import (
    REASON_MESSAGES,
    employee_request_accept,
    legal_entity_deactivate,
    registration_application_submit,
)
from tests import staff_data
from tests.accounts.helpers import create_account, main_html
from tests.factories import EmployeeFactory, PartyFactory, SuperuserFactory

from .conftest import CLINIC_EDRPOU, HEAD, HEAD_EMAIL, PAYLOAD

pytestmark = pytest.mark.django_db

PASSWORD = "Zminy-Danykh-Zakladu-2026"
MANAGEMENT = "facility_edit_wizard-current_step"
API = "/api/legal_entities"
# The wizard's address: its region is one of the form's choices.
ADDRESS = {
    "type": "REGISTRATION",
    "country": "UA",
    "area": "М.КИЇВ",
    "settlement": "Київ",
    "settlement_type": "CITY",
    "street_type": "STREET",
    "street": "Хрещатик",
    "building": "1",
    "zip": "01001",
}
RENEWED_LICENCE = {
    "license_number": "АЕ654321",
    "issued_by": "МОЗ України",
    "issued_date": "2025-01-15",
    "active_from_date": "2025-01-15",
    "expiry_date": "2030-01-15",
    "order_no": "99-Л",
}
NEW_HEAD = {
    "last_name": "Мельник",
    "first_name": "Ірина",
    "second_name": "Василівна",
    "tax_id": staff_data.rnokpp(),
    "email": "new.head@clinic.example",
}


def link_token(body: str, kind: str) -> str:
    return re.search(rf"/{kind}/([\w-]+)/", body)[1]


def uk(text: str) -> str:
    """A message in Ukrainian, as the portal shows and mails it."""
    with translation.override("uk"):
        return gettext(text)


@pytest.fixture
def facility(registration, pki, run_on_commit, outbox):
    """The demo clinic registered and its head confirmed (signed in as `facility.head_user`)."""
    registration.register_clinic()
    data = registration.payload(addresses=[ADDRESS])
    application, _token = run_on_commit(
        registration_application_submit,
        signed_envelope=pki.sign(pki.person(), registration.canonical(data)),
        data=data,
    )
    assert RegistrationApplication.objects.get(pk=application.pk).status == "APPROVED"
    legal_entity = LegalEntity.objects.get()
    legal_entity.head_user = employee_request_accept(
        token=link_token(outbox[-1].body, "invite"), password=PASSWORD
    )
    outbox.clear()
    return legal_entity


def snapshot(legal_entity: LegalEntity) -> dict:
    """What a refusal must leave as it was: the facility's row and versions, its people and places."""
    legal_entity = LegalEntity.objects.get(pk=legal_entity.pk)
    return {
        "row": {
            field.attname: getattr(legal_entity, field.attname) for field in LegalEntity._meta.concrete_fields
        },
        "versions": legal_entity.history.count(),
        "divisions": Division.objects.count(),
        "requests": EmployeeRequest.objects.count(),
        "employees": Employee.objects.count(),
        "people": list(Party.objects.order_by("pk").values()),
    }


# --- The wizard in the cabinet ------------------------------------------------------------------------


def step_url(step: str) -> str:
    return reverse("registry:facility-edit-step", args=[step])


def step_data(client, step: str) -> dict:
    """What the step holds (the facility's data, or what was saved), as the form would post it."""
    response = client.get(step_url(step))
    assert response.status_code == 200, response
    form = response.context["wizard"]["form"]
    if form.is_bound:
        return dict(form.data.lists())
    return {form.add_prefix(name): value for name, value in form.initial.items() if value not in (None, "")}


def post_step(client, step: str, **changes):
    data = step_data(client, step)
    data.update({f"{step}-{name}": value for name, value in changes.items()})
    return client.post(step_url(step), {**data, MANAGEMENT: step})


def walk_to_review(client, **changes_by_step) -> bytes:
    """From the cabinet's link through every step (each as prefilled, with `changes`) to the review."""
    assert client.get(reverse("registry:facility-edit")).url == step_url("facility")
    for step in ("facility", "addresses", "licence", "head"):
        response = post_step(client, step, **changes_by_step.get(step, {}))
        assert response.status_code == 302, main_html(response)
    review = client.get(step_url("review"))
    assert review.status_code == 200
    return base64.b64decode(review.context["document_base64"])


def submit(client, capture, document: bytes, signature: bytes):
    with capture(execute=True):
        return client.post(
            step_url("review"),
            {
                MANAGEMENT: "review",
                "review-public_offer_consent": "on",
                "review-document_sha256": hashlib.sha256(document).hexdigest(),
                "review-signature": SimpleUploadedFile("change.p7s", signature),
            },
        )


@pytest.fixture
def as_head(client, facility):
    client.force_login(facility.head_user)
    return client


def test_the_head_renews_the_licence_and_adds_a_kved_in_the_prefilled_wizard(
    as_head, facility, pki, outbox, django_capture_on_commit_callbacks
):
    before = snapshot(facility)
    response = as_head.get(reverse("registry:facility-edit"))
    assert response.status_code == 302 and response.url == step_url("facility")

    # Every step holds the facility's current data; the code is shown and cannot be changed.
    page = as_head.get(step_url("facility"))
    form = page.context["wizard"]["form"]
    assert form["name"].value() == facility.name and form["kveds"].value() == ["86.21", "86.90"]
    assert form.fields["edrpou"].disabled and form["edrpou"].value() == CLINIC_EDRPOU
    assert 'name="facility_edit_wizard-current_step"' in main_html(page)
    assert as_head.get(step_url("licence")).context["wizard"]["form"]["license_number"].value() == "АЕ123456"
    head_form = as_head.get(step_url("head")).context["wizard"]["form"]
    assert (head_form["tax_id"].value(), head_form["email"].value()) == (HEAD["drfo"], HEAD_EMAIL)
    addresses = as_head.get(step_url("addresses")).context["wizard"]["form"]
    assert "division_name" not in addresses.fields  # places of service have their own pages

    document = walk_to_review(
        as_head,
        facility={
            "kveds": ["86.10", "86.21", "86.90"],
            "public_name": "Клініка на Хрещатику",
            "edrpou": "99999999",
        },
        licence={LICENCE_FIELDS[key]: value for key, value in RENEWED_LICENCE.items()},
    )
    signed = json.loads(document)
    assert signed["edrpou"] == CLINIC_EDRPOU  # a posted code is ignored: the field is the facility's
    assert "division" not in signed
    review = main_html(as_head.get(step_url("review")))
    assert reverse("registry:facility-edit-step", args=["document"]) in review
    assert as_head.get(step_url("document")).content == document

    response = submit(as_head, django_capture_on_commit_callbacks, document, pki.sign(pki.person(), document))
    assert response.status_code == 302 and response.url.startswith("/register/status/"), main_html(response)
    application = RegistrationApplication.objects.latest("submitted_at")
    assert (application.status, application.legal_entity_id) == ("APPROVED", facility.pk)
    assert [check.step for check in application.checks.all()] == ["SIGNATURE", "KVEDS", "STATE_REGISTER"]

    facility.refresh_from_db()
    assert facility.kveds == ["86.10", "86.21", "86.90"]
    assert facility.public_name == "Клініка на Хрещатику"
    assert facility.license == RENEWED_LICENCE
    assert (facility.edrpou, facility.status, facility.updated_by) == (
        CLINIC_EDRPOU,
        "ACTIVE",
        facility.head_user,
    )
    # No second place of service, no new invitation: the head is already confirmed.
    after = snapshot(facility)
    assert {key: after[key] for key in ("divisions", "requests", "employees")} == {
        key: before[key] for key in ("divisions", "requests", "employees")
    }
    # The previous version is kept, with who changed it and when.
    current, previous = facility.history.order_by("-history_date")[:2]
    assert previous.license["license_number"] == "АЕ123456" and previous.kveds == ["86.21", "86.90"]
    assert (current.history_type, current.history_user) == ("~", facility.head_user)
    assert current.history_date >= application.submitted_at

    # The head: received, then changed (no invitation).
    assert [message.to for message in outbox] == [[HEAD_EMAIL], [HEAD_EMAIL]]
    assert "/register/status/" in outbox[0].body and "/cabinet/" in outbox[1].body

    status = main_html(as_head.get(response.url))
    assert uk("Application to change the data of a medical facility") in status
    assert uk("The facility's data is changed") in status
    cabinet = main_html(as_head.get(reverse("registry:cabinet")))
    assert "АЕ654321" in cabinet and "86.10" in cabinet
    # The wizard's data is gone; the public list shows the new name.
    assert as_head.get(reverse("registry:facility-edit")).url == step_url("facility")
    assert "Клініка на Хрещатику" in main_html(
        Client().get(reverse("registry:facility-list"), {"q": "Хрещатику"})
    )


def test_a_new_head_on_the_step_head_is_invited_and_the_current_head_signs(
    as_head, facility, pki, outbox, django_capture_on_commit_callbacks
):
    EdrRecord.objects.update(heads=["МЕЛЬНИК ІРИНА ВАСИЛІВНА"])  # the register names the new head
    new_head = {**NEW_HEAD, "birth_date": "1985-03-14", "document_number": "009876543"}
    document = walk_to_review(as_head, head=new_head)
    review = as_head.get(step_url("review"))
    # The browser is told to expect the current head's key, not the new head's.
    assert review.context["expected_signer"]["drfo"] == HEAD["drfo"]
    assert json.loads(document)["owner"]["tax_id"] == NEW_HEAD["tax_id"]

    response = submit(as_head, django_capture_on_commit_callbacks, document, pki.sign(pki.person(), document))
    assert response.status_code == 302, main_html(response)
    request = EmployeeRequest.objects.get(status="NEW")
    assert (request.employee_type, request.email) == ("OWNER", NEW_HEAD["email"])
    assert [message.to for message in outbox] == [[HEAD_EMAIL], [HEAD_EMAIL], [NEW_HEAD["email"]]]
    status = main_html(as_head.get(response.url))
    assert NEW_HEAD["email"] in status
    # Until the new head accepts, the current one stays.
    assert Employee.objects.get(employee_type="OWNER", is_active=True).party.user == facility.head_user


def test_another_persons_key_is_refused_at_the_signature_and_nothing_changes(
    as_head, facility, pki, outbox, django_capture_on_commit_callbacks
):
    before = snapshot(facility)
    document = walk_to_review(as_head, facility={"public_name": "Інша назва"})
    other = pki.person(drfo=NEW_HEAD["tax_id"], surname="Мельник", given_names="Ірина Василівна")
    response = submit(as_head, django_capture_on_commit_callbacks, document, pki.sign(other, document))
    assert response.status_code == 200
    assert "signature" in response.context["form"].errors
    with translation.override("uk"):
        assert escape(str(REASON_MESSAGES["legal_entity_exists"])) in main_html(response)
    assert snapshot(facility) == before
    assert RegistrationApplication.objects.count() == 1 and outbox == []


def test_a_change_rejected_by_the_register_can_be_corrected_from_the_status_page(
    as_head, facility, pki, outbox, django_capture_on_commit_callbacks
):
    EdrRecord.objects.update(heads=["ІВАНЕНКО ІВАН ІВАНОВИЧ"])  # the register names another signatory
    before = snapshot(facility)
    document = walk_to_review(as_head, facility={"public_name": "Нова назва"})
    response = submit(as_head, django_capture_on_commit_callbacks, document, pki.sign(pki.person(), document))
    application = RegistrationApplication.objects.latest("submitted_at")
    assert application.status == "REJECTED"
    assert [reason["code"] for reason in application.reasons] == ["edr_head_mismatch"]
    assert snapshot(facility) == before
    subject = uk("Your application to change the data of %(name)s has been rejected")
    assert outbox[-1].subject == subject % {"name": facility.name}

    status = main_html(as_head.get(response.url))
    token = response.url.rstrip("/").rsplit("/", 1)[1]
    correct = f"{reverse('registry:facility-edit')}?correct={token}"
    assert escape(correct) in status
    reopened = as_head.get(correct)
    assert reopened.status_code == 302
    assert as_head.get(step_url("facility")).context["wizard"]["form"]["public_name"].value() == "Нова назва"
    # Another facility's head, or the registration wizard, cannot reopen it.
    assert as_head.get(reverse("registry:register") + f"?correct={token}").status_code == 404


@pytest.mark.parametrize("role", ["HR", "DOCTOR", "ADMIN"])
def test_only_the_head_opens_the_change(client, facility, role):
    party = PartyFactory(user=create_account(f"{role.lower()}@clinic.example"), tax_id=staff_data.rnokpp())
    EmployeeFactory(legal_entity=facility, party=party, employee_type=role, position="P14")
    client.force_login(party.user)
    assert client.get(reverse("registry:cabinet")).status_code == 200  # they work here
    for url in (reverse("registry:facility-edit"), step_url("facility"), step_url("review")):
        assert client.get(url).status_code == 403, url
    response = client.post(step_url("facility"), {MANAGEMENT: "facility"})
    assert response.status_code == 403
    anonymous = Client().get(reverse("registry:facility-edit"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url


def test_the_cabinet_link_is_the_heads_only(facility):
    context = {"legal_entity": facility, "scopes": frozenset()}
    link = reverse("registry:facility-edit")
    assert link in render_to_string(
        "registry/cabinet/links_facility_edit.html", {**context, "roles": {"OWNER"}}
    )
    assert link not in render_to_string(
        "registry/cabinet/links_facility_edit.html", {**context, "roles": {"HR"}}
    )


# --- PUT /api/legal_entities: eHealth's upsert ------------------------------------------------------------


def mis_document(**changes) -> bytes:
    data = copy.deepcopy(PAYLOAD)
    data.update(addresses=[ADDRESS], **changes)
    return json.dumps(data, ensure_ascii=False).encode()


def put(client, signature: bytes):
    body = {
        "signed_legal_entity_request": base64.b64encode(signature).decode(),
        "signed_content_encoding": "base64",
    }
    return client.put(API, body, content_type="application/json")


@pytest.fixture
def operator(client):
    user = SuperuserFactory()
    client.force_login(user)
    return user


def test_a_put_signed_by_the_head_updates_the_facility_and_answers_200(
    client, operator, facility, pki, outbox, run_on_commit
):
    client.get(f"{API}/{facility.pk}")  # cached: the answer after the change must not be this one
    document = mis_document(
        kveds=["86.10", "86.21"],
        phones=[{"type": "MOBILE", "number": "+380509998877"}],
        medical_service_provider={**PAYLOAD["medical_service_provider"], "licenses": [RENEWED_LICENCE]},
        division={**PAYLOAD["division"], "name": "Друга амбулаторія"},
        owner={**PAYLOAD["owner"], "phones": [{"type": "MOBILE", "number": "+380671110000"}]},
    )
    response = run_on_commit(put, client, pki.openssl_sign(pki.person(), document))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["meta"]["code"] == 200
    assert body["urgent"] == {"employee_request_id": None}
    data = body["data"]
    assert (data["id"], data["edrpou"], data["kveds"]) == (
        str(facility.pk),
        CLINIC_EDRPOU,
        ["86.10", "86.21"],
    )
    assert data["medical_service_provider"]["licenses"] == [RENEWED_LICENCE]
    assert (data["inserted_by"], data["updated_by"]) == (None, operator.pk)
    assert client.get(f"{API}/{facility.pk}").json()["data"]["phones"][0]["number"] == "+380509998877"
    # The division block is not a second place of service; the previous version is kept.
    assert Division.objects.count() == 1 and Division.objects.get().name == PAYLOAD["division"]["name"]
    assert EmployeeRequest.objects.count() == 1
    facility.refresh_from_db()
    assert facility.history.count() == 2 and facility.history.latest().history_user == operator
    head = Party.objects.get(user=facility.head_user)  # the head's own data, as the document gives it
    assert head.phones == [{"type": "MOBILE", "number": "+380671110000"}]
    assert head.history.latest().history_user == operator
    application = RegistrationApplication.objects.latest("submitted_at")
    assert (application.channel, application.status, application.email) == ("API", "APPROVED", HEAD_EMAIL)
    assert [message.to for message in outbox] == [[HEAD_EMAIL]]  # the head is told of the change


def test_a_put_naming_a_new_head_hands_the_facility_over(
    client, operator, facility, pki, outbox, run_on_commit
):
    EdrRecord.objects.update(heads=["МЕЛЬНИК ІРИНА ВАСИЛІВНА"])  # the register names the new head
    owner = {**PAYLOAD["owner"], **NEW_HEAD, "birth_date": "1985-03-14"}
    response = run_on_commit(put, client, pki.openssl_sign(pki.person(), mis_document(owner=owner)))
    assert response.status_code == 200, response.content
    request = EmployeeRequest.objects.get(status="NEW")
    assert response.json()["urgent"] == {"employee_request_id": str(request.pk)}
    assert (request.employee_type, request.email, request.data["party"]["tax_id"]) == (
        "OWNER",
        NEW_HEAD["email"],
        NEW_HEAD["tax_id"],
    )
    # The current head is told and stays until the new one accepts; the new head is invited.
    assert [message.to for message in outbox] == [[HEAD_EMAIL], [NEW_HEAD["email"]]]
    assert "Коваленко" in outbox[1].body and "/invite/" in outbox[1].body
    head = Employee.objects.get(employee_type="OWNER", is_active=True)
    assert head.party.user == facility.head_user

    new_head = employee_request_accept(token=link_token(outbox[1].body, "invite"), password=PASSWORD)
    assert Employee.objects.get(employee_type="OWNER", is_active=True).party.user == new_head


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"kveds": ["86.90"]}, {"$.kveds": ["kved_primary_care_missing"]}),
        ("not a signatory", {"$.owner": ["edr_head_mismatch"]}),
    ],
    ids=["no primary-care KVED", "the head is not a signatory in the register"],
)
def test_a_refused_change_answers_422_and_changes_nothing(
    client, operator, facility, pki, outbox, run_on_commit, change, expected
):
    if change == "not a signatory":
        EdrRecord.objects.update(heads=["ІВАНЕНКО ІВАН ІВАНОВИЧ"])
        change = {}
    before = snapshot(facility)
    response = run_on_commit(
        put, client, pki.openssl_sign(pki.person(), mis_document(public_name="Нова", **change))
    )
    assert response.status_code == 422, response.content
    invalid = {
        entry["entry"]: [rule["rule"] for rule in entry["rules"]]
        for entry in response.json()["error"]["invalid"]
    }
    assert invalid == expected
    assert snapshot(facility) == before
    application = RegistrationApplication.objects.latest("submitted_at")
    assert (application.status, application.legal_entity_id) == ("REJECTED", facility.pk)  # kept as evidence
    assert [message.to for message in outbox] == [[HEAD_EMAIL]]


def test_someone_else_signing_for_a_registered_facility_answers_409(client, operator, facility, pki, outbox):
    before = snapshot(facility)
    owner = {**PAYLOAD["owner"], **NEW_HEAD, "birth_date": "1985-03-14"}
    other = pki.person(drfo=NEW_HEAD["tax_id"], surname="Мельник", given_names="Ірина Василівна")
    response = put(client, pki.openssl_sign(other, mis_document(owner=owner)))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "request_conflict"
    assert error["message"] == str(REASON_MESSAGES["legal_entity_exists"])
    assert snapshot(facility) == before
    assert RegistrationApplication.objects.count() == 1 and outbox == []


def test_a_closed_facility_cannot_be_changed(client, operator, facility, pki, outbox):
    legal_entity_deactivate(legal_entity=facility, actor=operator)
    before = snapshot(facility)
    response = put(client, pki.openssl_sign(pki.person(), mis_document(public_name="Нова")))
    assert response.status_code == 409
    assert response.json()["error"]["message"] == str(REASON_MESSAGES["legal_entity_closed"])
    assert snapshot(facility) == before
    assert RegistrationApplication.objects.count() == 1 and outbox == []


# --- The statement budget of PUT /api/legal_entities (bench/bench_api.py: 20) ----------------------------


def test_a_registration_and_a_change_stay_within_20_statements(
    registration, pki, outbox, django_capture_on_commit_callbacks
):
    """As bench/bench_api.py measures a PUT: an API key (its row memoised), warm reference data, the tasks
    queued after commit not counted; the service's transaction is a BEGIN there and a savepoint here (the
    test's transaction), so that one savepoint is not counted."""
    user = SuperuserFactory()
    _key, key = ApiKey.objects.create_key(name="bench", user=user)
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    registration.register_clinic()
    client.get(API)  # the key's memo
    dictionary_choices(name="KVEDS")  # the reference data's lookup tables
    global_parameters_as_dict()

    def statements(document: bytes, status: int) -> list[str]:
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
            response = put(client, pki.openssl_sign(pki.person(), document))
        assert response.status_code == status, response.content
        sql = [query["sql"] for query in queries.captured_queries]
        outer = next(index for index, text in enumerate(sql) if text.startswith("SAVEPOINT"))
        name = sql[outer].split()[-1]
        return [text for text in sql if name not in text]

    registered = statements(mis_document(), 201)
    assert len(registered) <= 20, "\n".join(registered)  # 17 on PostgreSQL, 16 on SQLite (no advisory lock)
    employee_request_accept(token=link_token(outbox[-1].body, "invite"), password=PASSWORD)
    client.get(API)  # a new user replaced the keys' memo
    changed = statements(mis_document(kveds=["86.10", "86.21"]), 200)
    assert len(changed) <= 20, "\n".join(changed)  # 12 on PostgreSQL, 11 on SQLite
    legal_entity = LegalEntity.objects.get()
    assert legal_entity.kveds == ["86.10", "86.21"] and legal_entity.history.count() == 2
