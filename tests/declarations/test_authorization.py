"""Who may do what with patients, declaration requests and declarations (issue 13): every declarations page
and API endpoint × every kind of person — anonymous; a user who works nowhere; A's HR officer, accountant,
assistant, receptionist (ADMIN), the request's doctor, another doctor of A, A's head; a doctor of B.

The rights are eHealth's scopes (registry/permissions.py): the head, a doctor and a receptionist keep
patients and take requests through the patient's confirmation (DECLARATION_KEEPING); only the request's own
doctor signs it; an assistant reads; HR and an accountant have nothing here.

A refused action answers the sign-in page (pages) or 401 (API) to anonymous people, 403 or 404 to everyone
else (another doctor of A who tries to sign is sent back to the request's page), and changes nothing: the
requests, declarations, patients, codes, SMS, scans, doctors' availability and every history table are as
they were. An allowed action succeeds, and a write writes.

Pages about A as a whole say so with `?facility=<A>` (the API with `?legal_entity_id=<A>`); pages about one
object of A do not, so that B's doctor is refused by the lookup within their own facility (404). The
patient register and phone verifications are shared by every facility, as eHealth's MPI and OTP service:
B's doctor may find and read a patient and verify a phone — but not change a patient who has chosen or is
choosing A (their SMS phone decides who confirms the patient's declarations).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import resolve, reverse

from declarations import services
from declarations.apis import declarations as declaration_apis
from declarations.apis import persons as person_apis
from declarations.apis import requests as request_apis
from declarations.apis import verifications as verification_apis
from declarations.forms.requests import document_prefix
from declarations.models import (
    Declaration,
    DeclarationRequest,
    DeclarationRequestDocument,
    Person,
    SmsMessage,
    Verification,
    VerifiedPhone,
)
from declarations.views import declarations as declaration_views
from declarations.views import dev as dev_views
from declarations.views import patients as patient_views
from declarations.views import requests as request_views
from ehealth_portal.models import ApiKey
from registry.models import Employee
from registry.services import reference_data_load
from tests.declaration_data import declaration_request
from tests.registry.conftest import ROOT

from .authz_cases import PHONES, PNG, World, patient_data, patient_form, world_build
from .conftest import phone_verified
from .lifecycle_data import declaration_make, patient_make

pytestmark = pytest.mark.django_db

OWNER, ADMIN, DOCTOR, ASSISTANT = "OWNER", "ADMIN", "DOCTOR", "ASSISTANT"
LOGIN_URL = reverse("account_login")
DICTIONARIES = ROOT / "registry/data/dictionaries.json"

KEEPERS = frozenset({OWNER, ADMIN, DOCTOR})  # DECLARATION_KEEPING
READERS = KEEPERS | {ASSISTANT}  # …and what an assistant reads
SIGNER = frozenset({DOCTOR})  # declaration_request:sign, and then only the request's own doctor


# --- The world ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, _registration_pki) -> World:
    """Built once for the module inside a transaction rolled back at its end: each case runs in a
    savepoint of it (pytest-django's `db`), so every case starts from this same data."""
    trusted = override_settings(
        SIGNATURE_CA_BUNDLE=_registration_pki.bundle, SIGNATURE_CRLS=_registration_pki.crls
    )
    with django_db_blocker.unblock(), transaction.atomic(), trusted:
        reference_data_load(data=json.loads(DICTIONARIES.read_text(encoding="utf-8")))
        built = world_build(_registration_pki)
        for name, user in built.users.items():  # signed in once: each case only sends the cookie or key
            browser = Client()
            browser.force_login(user)
            built.sessions[name] = browser.cookies[settings.SESSION_COOKIE_NAME].value
            built.api_keys[name] = ApiKey.objects.create_key(name="mis", user=user)[1]
        yield built
        transaction.set_rollback(True)


# Rows a refusal must not change (with their status and last change), and the tables whose number of
# rows it must not change: codes, SMS, scans, verified phones and every history table.
WATCHED_ROWS = {
    DeclarationRequest: ("id", "status", "updated_at"),
    Declaration: ("id", "status", "reason", "updated_at"),
    Person: ("id", "is_active", "authentication_phone", "updated_at"),
    Verification: ("id", "status", "attempts"),
    Employee: ("id", "accepts_new_patients", "updated_at"),
}
COUNTED = (SmsMessage, DeclarationRequestDocument, VerifiedPhone)
HISTORIES = (DeclarationRequest, Declaration, Person, Employee)


def state() -> dict:
    """What a refused action must leave as it was. Plain SQL: it runs twice in each of the many cases."""
    quote = connection.ops.quote_name
    tables = [model._meta.db_table for model in COUNTED] + [
        model.history.model._meta.db_table for model in HISTORIES
    ]
    found = {}
    with connection.cursor() as cursor:
        for model, columns in WATCHED_ROWS.items():
            cursor.execute(
                f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} ORDER BY {quote('id')}"
            )
            found[model.__name__] = cursor.fetchall()
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables))
        found["counts"] = dict(zip(tables, cursor.fetchone(), strict=True))
    return found


# --- The actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    phrase: str  # "sign a request of A": the test ids read "<actor> can/cannot <phrase>"
    method: str
    url: Callable[[World], str]
    who: frozenset  # the roles in A that may
    scope: str  # what is asked (registry.permissions), for the reader
    api: bool = False
    body: Callable[[World], object] | None = None
    content_type: str = "application/json"  # of an API body
    ok: int = 200  # the answer to those who may
    writes: bool = False  # an allowed call changes the data
    # The answer to B's doctor: a URL naming A as a whole is not theirs (403), an object of A is not found in
    # B (404); the shared register and phone verifications answer them as anyone (`shared`).
    foreign: int = 403
    shared: bool = False
    # Signing is the request's own doctor's: the answer to another doctor of A (None: they may, as anyone),
    # and where a page sends them back (302).
    other_doctor: int | None = None
    refused_to: Callable[[World], str] | None = None


def page(phrase, method, name, who, scope, *, obj=None, query=None, **options) -> Action:
    """A cabinet page about one object of A (`obj`: World's attribute, or "patient:<key>") or about A
    (`query(world)`: more of its query string)."""

    def build(world: World) -> str:
        if obj is None:
            return reverse(name) + world.a_query() + (query(world) if query else "")
        target = world.patients[obj.split(":")[1]] if obj.startswith("patient:") else getattr(world, obj)
        return reverse(name, args=[target.pk])

    foreign = options.pop("foreign", 404 if obj else 403)
    return Action(phrase, method, build, who, scope, foreign=foreign, **options)


def endpoint(phrase, method, name, who, scope, *, args=None, query=None, **options) -> Action:
    """An API endpoint: about objects of A (`args(world)`), or about A as a whole (?legal_entity_id=A)."""

    def build(world: World) -> str:
        path = reverse(name, args=args(world) if args else [])
        if query is not None:
            return path + query(world)
        return path if args else path + world.a_query("legal_entity_id")

    foreign = options.pop("foreign", 404 if args else 403)
    return Action(phrase, method, build, who, scope, api=True, foreign=foreign, **options)


def search_form(world: World) -> dict:
    """The exact search for the NEW request's patient: names, birth date and RNOKPP."""
    patient = world.patients["new"]
    return {
        "last_name": patient.last_name,
        "first_name": patient.first_name,
        "birth_date": patient.birth_date.isoformat(),
        "tax_id": patient.tax_id,
    }


def search_query(world: World) -> str:
    """The same search as eHealth's GET /api/persons asks it."""
    return urlencode(search_form(world))


def for_the_patient(world: World) -> str:
    return f"&person={world.patients['new'].pk}"


def scan_upload(world: World) -> dict:
    name = f"{document_prefix(world.scan_type)}-file"
    return {"document_type": world.scan_type, name: SimpleUploadedFile("scan.png", PNG, "image/png")}


def api_request(world: World) -> dict:
    return {
        "declaration_request": declaration_request(
            person=patient_data("api"), employee_id=world.clinic.family_doctor, division_id=world.division
        )
    }


WRITE = {"ok": 302, "writes": True}  # a form's success: back to the object's page
SHARED = {"foreign": 200, "shared": True}
NEW_REQUEST = "new"
APPROVED_REQUEST = "approved"

# fmt: off
PAGES = [
    page("open the patient search of A", "get", "declarations:patient-search", READERS, "person:read"),
    page("search the patient register from A", "post", "declarations:patient-search", READERS, "person:read",
         body=search_form),
    page("open the patient registration of A", "get", "declarations:patient-new", KEEPERS, "person:write"),
    page("register a patient at A", "post", "declarations:patient-new", KEEPERS, "person:write",
         body=lambda world: patient_form(), **WRITE),
    page("read a patient of A", "get", "declarations:patient-detail", READERS, "person:read",
         obj="patient:new", **SHARED),
    # eHealth changes a patient's confirmation only at the facility they have chosen (§4.1
    # reset_authentication_method); the form changes their SMS phone.
    page("open the change of a patient of A", "get", "declarations:patient-edit", KEEPERS, "person:write",
         obj="patient:new", foreign=403),
    page("change a patient of A", "post", "declarations:patient-edit", KEEPERS, "person:write",
         obj="patient:new", foreign=403,
         body=lambda world: patient_form(world.patients["new"], email="new.address@example.com"), **WRITE),
    page("list the declaration requests of A", "get", "declarations:request-list", READERS,
         "declaration_request:read"),
    page("open a new declaration request at A", "get", "declarations:request-new", KEEPERS,
         "declaration_request:write", query=for_the_patient),
    page("create a declaration request at A", "post", "declarations:request-new", KEEPERS,
         "declaration_request:write", query=for_the_patient,
         body=lambda world: {"employee": world.clinic.family_doctor.pk, "division": world.division.pk}, **WRITE),
    page("read a declaration request of A", "get", "declarations:request-detail", READERS,
         "declaration_request:read", obj=NEW_REQUEST),
    page("approve a request of A with the patient's code", "post", "declarations:request-approve", KEEPERS,
         "declaration_request:approve", obj=NEW_REQUEST, body=lambda world: {"code": world.code}, **WRITE),
    page("send the patient's code again for a request of A", "post", "declarations:request-resend-code",
         KEEPERS, "declaration_request:write", obj=NEW_REQUEST, **WRITE),
    page("upload a scan for a request of A", "post", "declarations:request-upload", KEEPERS,
         "declaration_request:write", obj="offline", body=scan_upload, **WRITE),
    page("open the rejection of a request of A", "get", "declarations:request-reject", KEEPERS,
         "declaration_request:reject", obj=NEW_REQUEST),
    page("reject a request of A", "post", "declarations:request-reject", KEEPERS, "declaration_request:reject",
         obj=NEW_REQUEST, **WRITE),
    page("download the document to sign of a request of A", "get", "declarations:request-document", SIGNER,
         "declaration_request:sign, the request's doctor", obj=APPROVED_REQUEST, other_doctor=404),
    page("sign a request of A", "post", "declarations:request-sign", SIGNER,
         "declaration_request:sign, the request's doctor", obj=APPROVED_REQUEST, other_doctor=302,
         refused_to=lambda world: reverse("declarations:request-detail", args=[world.approved.pk]),
         body=lambda world: {"signature_base64": world.signature_base64(),
                             "document_sha256": world.signed_sha256()}, **WRITE),
    page("print the declaration form of a request of A", "get", "declarations:request-form", READERS,
         "declaration_request:read", obj=NEW_REQUEST),
    page("download the declaration form of a request of A as PDF", "get", "declarations:request-form-pdf",
         READERS, "declaration_request:read", obj=NEW_REQUEST),
    page("list the declarations of A", "get", "declarations:declaration-list", READERS, "declaration:read"),
    page("read a declaration of A", "get", "declarations:declaration-detail", READERS, "declaration:read",
         obj="declaration"),
    page("terminate a declaration of A", "post", "declarations:declaration-terminate", KEEPERS,
         "declaration:terminate", obj="declaration",
         body=lambda world: {"reason": "manual_person", "reason_description": "Переїхав до іншого міста"},
         **WRITE),
]

PHONE_NEW = PHONES["new"]
API = [
    endpoint("ask whether a phone is verified", "get", "verification", KEEPERS, "otp:read",
             args=lambda world: [PHONE_NEW], **SHARED),
    endpoint("send a code to a phone", "post", "verifications", KEEPERS, "otp:write", query=lambda world: "",
             body=lambda world: {"phone_number": "+380671119999"}, ok=201, writes=True, **SHARED),
    endpoint("confirm a phone with its code", "patch", "verification-actions-complete", KEEPERS, "otp:write",
             args=lambda world: [PHONE_NEW], body=lambda world: {"code": world.code}, writes=True, **SHARED),
    endpoint("list the declaration requests of A through the API", "get", "declaration-requests", READERS,
             "declaration_request:read"),
    endpoint("create a declaration request at A through the API", "post", "declaration-requests", KEEPERS,
             "declaration_request:write", body=api_request, ok=201, writes=True),
    endpoint("read a declaration request of A through the API", "get", "declaration-request", READERS,
             "declaration_request:read", args=lambda world: [world.new.pk]),
    endpoint("approve a request of A through the API", "patch", "declaration-request-actions-approve", KEEPERS,
             "declaration_request:approve", args=lambda world: [world.new.pk],
             body=lambda world: {"verification_code": world.code}, writes=True),
    endpoint("reject a request of A through the API", "patch", "declaration-request-actions-reject", KEEPERS,
             "declaration_request:reject", args=lambda world: [world.new.pk], writes=True),
    endpoint("send the code again for a request of A through the API", "post",
             "declaration-request-actions-resend-otp", KEEPERS, "declaration_request:write",
             args=lambda world: [world.new.pk], writes=True),
    endpoint("sign a request of A through the API", "patch", "declaration-request-actions-sign", SIGNER,
             "declaration_request:sign, the request's doctor", args=lambda world: [world.approved.pk],
             body=lambda world: {"signed_declaration_request": world.signature_base64(),
                                 "signed_content_encoding": "base64"}, writes=True,
             other_doctor=403),
    endpoint("upload a scan for a request of A through the API", "put", "declaration-request-document",
             KEEPERS, "declaration_request:write", args=lambda world: [world.offline.pk, world.scan_type],
             body=lambda world: PNG, content_type="image/png", writes=True),
    endpoint("list the declarations of A through the API", "get", "declarations", READERS, "declaration:read"),
    endpoint("read a declaration of A through the API", "get", "declaration", READERS, "declaration:read",
             args=lambda world: [world.declaration.pk]),
    endpoint("terminate a declaration of A through the API", "patch", "declaration-actions-terminate",
             KEEPERS, "declaration:terminate", args=lambda world: [world.declaration.pk],
             body=lambda world: {"reason_description": "Пацієнт переїхав"}, writes=True),
    # eHealth: another facility asking for the patient's declaration hears 403 "belongs to another msp".
    endpoint("read the current declaration of a patient of A", "get", "person-declaration", READERS,
             "declaration:read", args=lambda world: [world.patients["declared"].pk], foreign=403),
    endpoint("search the patient register through the API", "get", "persons", READERS, "person:read",
             query=lambda world: "?" + search_query(world), **SHARED),
]
# fmt: on

ACTIONS = PAGES + API


# --- The people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    facility: str | None = None  # "A" or "B" while they work there
    role: str | None = None
    signs: bool = False  # the doctor of A's requests


ANONYMOUS = Actor("anonymous")
ACTORS = [
    ANONYMOUS,
    Actor("no-facility"),
    Actor("hr-of-A", "A", "HR"),
    Actor("accountant-of-A", "A", "ACCOUNTANT"),
    Actor("assistant-of-A", "A", ASSISTANT),
    Actor("receptionist-of-A", "A", ADMIN),
    Actor("doctor-of-A", "A", DOCTOR, signs=True),
    Actor("other-doctor-of-A", "A", DOCTOR),
    Actor("head-of-A", "A", OWNER),
    Actor("doctor-of-B", "B", DOCTOR),
]


def outcome(action: Action, actor: Actor) -> tuple[int, bool]:
    """The answer the action must give the actor, and whether it is allowed (302 is a redirect to sign in
    for anonymous people, the request's page for another doctor who tries to sign)."""
    if actor is ANONYMOUS:
        return (401 if action.api else 302), False
    if actor.role not in action.who:  # no job, or none with this right
        return 403, False
    if actor.facility == "B":
        return action.foreign, action.shared
    if action.other_doctor is not None and not actor.signs:
        return action.other_doctor, False
    return action.ok, True


def case_id(action: Action, actor: Actor) -> str:
    return f"{actor.name} {'can' if outcome(action, actor)[1] else 'cannot'} {action.phrase}"


CASES = [(action, actor) for action in ACTIONS for actor in ACTORS]
REFUSED = [(action, actor) for action, actor in CASES if not outcome(action, actor)[1]]
ALLOWED = [(action, actor) for action, actor in CASES if outcome(action, actor)[1]]


# --- Calling --------------------------------------------------------------------------------------


def client_of(world: World, actor: Actor, action: Action) -> Client:
    if actor is ANONYMOUS:
        return Client()
    if action.api:
        return Client(HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[actor.name]}")
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor.name]
    return client


def call(world: World, actor: Actor, action: Action):
    client = client_of(world, actor, action)
    before = state()
    body = action.body(world) if action.body else {}
    target = action.url(world)
    if action.api:
        response = getattr(client, action.method)(target, body, content_type=action.content_type)
    else:
        response = getattr(client, action.method)(target, body)
    return before, response


def assert_refused(world: World, action: Action, actor: Actor, response, code: int) -> None:
    assert response.status_code == code, (response.status_code, response.content[:500])
    if action.api:
        error_type = {401: "access_denied", 403: "forbidden", 404: "not_found"}[code]
        assert response.json()["error"]["type"] == error_type
    elif code == 302 and actor is ANONYMOUS:
        assert response.url.startswith(LOGIN_URL)
    elif code == 302:  # another doctor of A: back to the request's page, where the refusal is told
        assert response.url == action.refused_to(world)


# --- The matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "actor"), REFUSED, ids=[case_id(action, actor) for action, actor in REFUSED]
)
def test_a_refused_action_answers_its_refusal_and_changes_nothing(world, action, actor):
    before, response = call(world, actor, action)
    assert_refused(world, action, actor, response, outcome(action, actor)[0])
    assert state() == before


@pytest.mark.parametrize(
    ("action", "actor"), ALLOWED, ids=[case_id(action, actor) for action, actor in ALLOWED]
)
def test_an_allowed_action_succeeds(world, action, actor):
    before, response = call(world, actor, action)
    assert response.status_code == action.ok, (response.status_code, response.content[:1000])
    if action.ok == 302:
        assert not response.url.startswith(LOGIN_URL)
    if action.writes:
        assert state() != before
    elif action.method == "get":
        assert state() == before  # reading changes nothing


# Named routes the matrix leaves out: the development SMS outbox (mounted only with DEV_OUTBOX_ENABLED,
# never in production; tests/declarations/test_sms.py).
LEFT_OUT = {"dev-sms-outbox"}
PAGE_MODULES = (patient_views, request_views, declaration_views, dev_views)
API_MODULES = (verification_apis, request_apis, declaration_apis, person_apis)


def test_the_matrix_covers_every_declarations_page_and_endpoint(world):
    """A page or endpoint added to the declarations app must be added to the matrix (or to LEFT_OUT), and
    every method an endpoint answers must be asked."""
    covered = {resolve(action.url(world).split("?")[0]).url_name for action in ACTIONS}
    routes = {pattern.name for module in PAGE_MODULES + API_MODULES for pattern in module.urlpatterns}
    assert routes - LEFT_OUT - covered == set()

    asked = {(resolve(action.url(world).split("?")[0]).url_name, action.method) for action in API}
    answered = {
        (pattern.name, method)
        for module in API_MODULES
        for pattern in module.urlpatterns
        for method in ("get", "post", "put", "patch", "delete")
        if hasattr(pattern.callback.view_class, method)
    }
    assert answered - asked == set()


# --- What the shared register must not allow ------------------------------------------------------------


def test_another_facility_cannot_move_the_sms_phone_of_a_patient_who_chose_a(client, clinic, other_clinic):
    """The phone for SMS codes decides who confirms the patient's declarations: were B's receptionist to
    put a phone B holds there, B could take the patient's code, sign a declaration with B's doctor and so
    end the patient's declaration with A without the patient. eHealth changes a patient's confirmation only
    at the facility with their active declaration (§4.1 reset_authentication_method)."""
    patient = patient_make()
    declaration_make(clinic, patient=patient)
    phone_before = patient.authentication_phone
    client.force_login(other_clinic.receptionist)

    response = client.post(
        reverse("declarations:patient-edit", args=[patient.pk]),
        patient_form(patient, authentication_phone="+380671119999", phone_mobile="+380671119999"),
    )

    patient.refresh_from_db()
    assert patient.authentication_phone == phone_before  # today: moved to B's phone
    assert response.status_code == 403


def test_a_facility_the_patient_is_choosing_cannot_move_the_sms_phone_of_a_patient_of_a(
    client, clinic, other_clinic
):
    """Choosing B (a request waiting at B) does not give B the patient's confirmation: B may correct the
    patient's data, not the phone that confirms a declaration with A ending (eHealth: only the facility of
    the active declaration changes the confirmation method)."""
    patient = patient_make()
    declaration_make(clinic, patient=patient)
    phone_before = patient.authentication_phone
    phone_verified(phone_before)
    services.declaration_request_create_for_person(
        legal_entity=other_clinic.legal_entity,
        actor=other_clinic.receptionist,
        person=patient,
        employee=other_clinic.family_doctor,
        division=other_clinic.division,
    )
    client.force_login(other_clinic.receptionist)

    response = client.post(
        reverse("declarations:patient-edit", args=[patient.pk]),
        patient_form(patient, authentication_phone="+380671119999", phone_mobile="+380671119999"),
    )

    patient.refresh_from_db()
    assert patient.authentication_phone == phone_before  # today: moved to B's phone
    assert response.status_code == 200
    assert "authentication_phone" in response.context["form"].errors
