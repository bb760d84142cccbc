"""Who may do what with a facility's staff and places of service (issue 12): every staff page and API
endpoint × every kind of person — anonymous; the head, HR and a doctor of another facility (B); the
facility's (A's) own doctor, HR and head; a dismissed employee; an operator; the person invited.

A refused action answers the sign-in page (pages) or 401 (API) to anonymous people, 403 or 404 to
everyone else, and changes nothing: the rows of employees, invitations, places and facilities, the people,
the outbox and every history table are as they were. An allowed action succeeds (a write writes).
A dismissed employee and the staff of a closed facility are refused everywhere: their rights end at once.

Pages that address the facility as a whole say which one with `?facility=<A>` (the API with
`?legal_entity_id=<A>`), as a person working at several would; pages about one object of A do not, so
that a person of B is refused by the object's lookup within their own facility (404).
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from ehealth_portal.models import ApiKey, Email
from registry.apis import divisions as division_apis
from registry.apis import staff as staff_apis
from registry.models import Division, Employee, EmployeeRequest, LegalEntity, Party
from registry.services import employee_dismiss, reference_data_load
from registry.views import divisions, employees, facility_edit, invitations, staff_new
from tests import staff_data
from tests.factories import (
    EmployeeFactory,
    EmployeeRequestFactory,
    LegalEntityFactory,
    PartyFactory,
    SuperuserFactory,
    UserFactory,
)
from tests.registry.test_divisions_web import FORM as DIVISION_FORM
from tests.registry.test_doctor_wizard import MANAGEMENT as DOCTOR_MANAGEMENT
from tests.registry.test_doctor_wizard import person_fields
from tests.registry.test_hr_access import MANAGEMENT as HR_MANAGEMENT
from tests.registry.test_hr_access import hr_fields
from tests.registry.test_staff_new import fields as staff_member_fields

from .conftest import ROOT
from .divisions_data import division_at, division_payload

pytestmark = pytest.mark.django_db

OWNER, HR, DOCTOR = "OWNER", "HR", "DOCTOR"
INVITEE = "INVITEE"  # not a role: the person an invitation was sent to
INVITEE_EMAIL = "invitee@example.com"
LOGIN_URL = reverse("account_login")
DICTIONARIES = ROOT / "registry/data/dictionaries.json"

READERS = frozenset({OWNER, HR, DOCTOR})
KEEPERS = frozenset({OWNER, HR})  # who keeps the staff and the places (STAFF_KEEPING)
HEAD = frozenset({OWNER})


# --- The world ------------------------------------------------------------------------------------


@dataclass
class World:
    a: LegalEntity
    b: LegalEntity
    division: Division  # A's active place of service
    division_inactive: Division  # A's inactive one
    accountant: Employee  # A's accountant: the employee read, changed and dismissed
    doctor: Employee  # A's doctor (a doctor's data changes in the doctor wizard)
    invitation: EmployeeRequest  # A's invitation waiting for INVITEE_EMAIL
    users: dict  # actor → user
    sessions: dict = field(default_factory=dict)  # actor → the session key of their signed-in browser
    api_keys: dict = field(default_factory=dict)  # actor → their API key

    def a_query(self, name: str = "facility") -> str:
        return f"?{name}={self.a.pk}"


def worker(legal_entity, role: str, email: str, **fields) -> Employee:
    return EmployeeFactory(
        legal_entity=legal_entity,
        party=PartyFactory(user=UserFactory(email=email), tax_id=staff_data.rnokpp()),
        employee_type=role,
        position={OWNER: "P2", DOCTOR: "P7"}.get(role, "P14"),
        **fields,
    )


def world_build() -> World:
    a, b = LegalEntityFactory(), LegalEntityFactory()
    division = division_at(a, name="Амбулаторія А")
    division_inactive = division_at(a, name="ФАП А", status=Division.Status.INACTIVE)
    division_at(b, name="Амбулаторія Б")
    head_a = worker(a, OWNER, "head@a.example")
    doctor = worker(a, DOCTOR, "doctor@a.example", division=division)
    users = {
        "head-of-A": head_a.party.user,
        "hr-of-A": worker(a, HR, "hr@a.example").party.user,
        "doctor-of-A": doctor.party.user,
        "head-of-B": worker(b, OWNER, "head@b.example").party.user,
        "hr-of-B": worker(b, HR, "hr@b.example").party.user,
        "doctor-of-B": worker(b, DOCTOR, "doctor@b.example").party.user,
        "operator": SuperuserFactory(email="operator@example.com"),
        "invitee": UserFactory(email=INVITEE_EMAIL),
    }
    # An HR officer of A, dismissed once signed in (the `world` fixture): every staff right until then.
    users["dismissed-hr-of-A"] = worker(a, HR, "dismissed@a.example").party.user
    # The same head once A is closed (test_the_staff_of_a_closed_facility_are_refused_everywhere).
    users["head-of-closed-A"] = users["head-of-A"]
    invitation = EmployeeRequestFactory(
        legal_entity=a,
        employee_type="ACCOUNTANT",
        position="P14",
        email=INVITEE_EMAIL,
        data={
            **staff_data.employee_request("ACCOUNTANT", party={"email": INVITEE_EMAIL}),
            "legal_entity_id": str(a.pk),
        },
        expires_at=timezone.now() + datetime.timedelta(days=7),
        created_by=head_a.party.user,
    )
    return World(
        a=a,
        b=b,
        division=division,
        division_inactive=division_inactive,
        accountant=worker(a, "ACCOUNTANT", "accountant@a.example"),
        doctor=doctor,
        invitation=invitation,
        users=users,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    """The world and the dictionaries, built once for the module inside a transaction rolled back at its
    end (Django's setUpTestData): each case runs in a savepoint of it (pytest-django's `db`), so every
    case starts from this same data, whatever the one before wrote."""
    with django_db_blocker.unblock(), transaction.atomic():
        reference_data_load(data=json.loads(DICTIONARIES.read_text(encoding="utf-8")))
        built = world_build()
        for name, user in built.users.items():  # signed in once: each case only sends the cookie or key
            browser = Client()
            browser.force_login(user)
            built.sessions[name] = browser.cookies[settings.SESSION_COOKIE_NAME].value
            built.api_keys[name] = ApiKey.objects.create_key(name="mis", user=user)[1]
        # Dismissed while signed in and holding a key: the rights end at once, not at the next sign-in.
        employee_dismiss(
            employee=Employee.objects.get(party__user=built.users["dismissed-hr-of-A"]),
            actor=built.users["head-of-A"],
        )
        yield built
        transaction.set_rollback(True)


# Rows whose every change a refusal must not make (with their status and last change), and the tables
# whose number of rows it must not change: the people, the outbox and every history table.
WATCHED_ROWS = {
    Employee: ("id", "status", "is_active", "updated_at"),
    EmployeeRequest: ("id", "status", "token_hash", "expires_at", "updated_at"),
    Division: ("id", "status", "name", "updated_at"),
    LegalEntity: ("id", "status", "is_active", "updated_at"),
}
COUNTED = (Party, Email)
HISTORIES = (Employee, EmployeeRequest, Division, LegalEntity, Party)


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
    phrase: str  # "dismiss an employee of A": the test ids read "<actor> can/cannot <phrase>"
    method: str
    url: Callable[[World], str]
    who: frozenset  # the roles in A that may (INVITEE: only the person invited)
    scope: str  # what is asked (registry.permissions), for the reader
    api: bool = False
    body: Callable[[World], dict] | None = None
    ok: int = 200  # the answer to those who may
    writes: bool = False  # an allowed call changes the data
    # The answer to a person of B who has the right in B: a URL naming A as a whole (?facility=A) is not
    # theirs (403); an object of A is not found in B (404) or, for eHealth's division changes, forbidden.
    foreign: int = 403
    invitation: bool = False  # about A's waiting invitation: the invitee is asked too


def page(phrase, method, name, who, scope, *, obj=None, args=(), **options) -> Action:
    """A cabinet page about one object of A (`obj`, an attribute of World) or about A (?facility=A)."""

    def build(world: World) -> str:
        path = reverse(name, args=[getattr(world, obj).pk, *args] if obj else args)
        return path if obj else path + world.a_query()

    return Action(phrase, method, build, who, scope, foreign=404 if obj else 403, **options)


def endpoint(phrase, method, path, who, scope, *, obj=None, suffix="", foreign=404, **options) -> Action:
    """An API endpoint about one object of A or about A (?legal_entity_id=A)."""

    def build(world: World) -> str:
        if obj:
            return f"/api/{path}/{getattr(world, obj).pk}{suffix}"
        return f"/api/{path}" + world.a_query("legal_entity_id")

    return Action(phrase, method, build, who, scope, api=True, foreign=foreign if obj else 403, **options)


def doctor_person_step(world: World) -> dict:
    person = person_fields(staff_data.employee_request()["party"])
    return {DOCTOR_MANAGEMENT: "person", **{f"person-{name}": value for name, value in person.items()}}


def hr_person_step(world: World) -> dict:
    return {HR_MANAGEMENT: "person", **{f"person-{name}": value for name, value in hr_fields().items()}}


def accountant_form(world: World) -> dict:
    return staff_member_fields(staff_data.employee_request("ACCOUNTANT"))


WRITE, REDIRECTS = {"ok": 302, "writes": True}, {"ok": 302}  # a form's success; a page opening a wizard
RENAMED = {"name": "Амбулаторія на Подолі"}

# fmt: off
PAGES = [
    page("open the cabinet of A", "get", "registry:cabinet", READERS, "legal_entity:read"),
    page("list the staff of A", "get", "registry:staff-list", READERS, "employee:read"),
    page("list the waiting invitations of A", "get", "registry:employee-request-list", KEEPERS,
         "employee_request:read"),
    page("read an employee of A", "get", "registry:employee-detail", READERS, "employee:read", obj="accountant"),
    page("open the dismissal of an employee of A", "get", "registry:employee-dismiss", KEEPERS,
         "employee:deactivate", obj="accountant"),
    page("dismiss an employee of A", "post", "registry:employee-dismiss", KEEPERS, "employee:deactivate",
         obj="accountant", body=lambda world: {"reason": "За власним бажанням"}, **WRITE),
    page("resend an invitation of A", "post", "registry:employee-request-resend", KEEPERS,
         "employee_request:write", obj="invitation", invitation=True, **WRITE),
    page("withdraw an invitation of A", "post", "registry:employee-request-withdraw", KEEPERS,
         "employee_request:write", obj="invitation", invitation=True, **WRITE),
    page("open the change of an employee of A", "get", "registry:staff-change", KEEPERS,
         "employee_request:write", obj="accountant"),
    page("open the change of a doctor of A", "get", "registry:staff-change-doctor", KEEPERS,
         "employee_request:write", obj="doctor", **REDIRECTS),
    page("open the new staff chooser of A", "get", "registry:staff-new", KEEPERS, "employee_request:write"),
    page("open the doctor wizard of A", "get", "registry:staff-new-doctor-step", KEEPERS,
         "employee_request:write", args=["person"]),
    # Its steps are kept in the session until the review is sent: a step's success is the next step.
    page("fill the doctor wizard's first step for A", "post", "registry:staff-new-doctor-step", KEEPERS,
         "employee_request:write", args=["person"], body=doctor_person_step, **REDIRECTS),
    page("open the accountant form of A", "get", "registry:staff-new-other", KEEPERS, "employee_request:write",
         args=["accountant"]),
    page("invite an accountant to A", "post", "registry:staff-new-other", KEEPERS, "employee_request:write",
         args=["accountant"], body=accountant_form, **WRITE),
    page("open HR access of A", "get", "registry:hr-access", HEAD, "the head's employee_request:write",
         **REDIRECTS),
    page("fill HR access's first step for A", "post", "registry:hr-access-step", HEAD,
         "the head's employee_request:write", args=["person"], body=hr_person_step, **REDIRECTS),
    page("list the places of service of A", "get", "registry:division-list", READERS, "division:read"),
    page("open the new place form of A", "get", "registry:division-create", KEEPERS, "division:write"),
    page("add a place of service to A", "post", "registry:division-create", KEEPERS, "division:write",
         body=lambda world: DIVISION_FORM, **WRITE),
    page("read a place of service of A", "get", "registry:division-detail", READERS, "division:read",
         obj="division"),
    page("open the change of a place of A", "get", "registry:division-edit", KEEPERS, "division:write",
         obj="division"),
    page("change a place of service of A", "post", "registry:division-edit", KEEPERS, "division:write",
         obj="division", body=lambda world: {**DIVISION_FORM, **RENAMED}, **WRITE),
    page("activate a place of service of A", "post", "registry:division-activate", KEEPERS,
         "division:activate", obj="division_inactive", **WRITE),
    page("deactivate a place of service of A", "post", "registry:division-deactivate", KEEPERS,
         "division:deactivate", obj="division", **WRITE),
    page("open the change of A's data", "get", "registry:facility-edit", HEAD, "the head only", **REDIRECTS),
]

API = [
    endpoint("list the invitations of A through the API", "get", "employee_requests", KEEPERS,
             "employee_request:read", invitation=True),
    endpoint("invite a person to A through the API", "post", "employee_requests", KEEPERS,
             "employee_request:write", ok=201, writes=True,
             body=lambda world: {"employee_request": staff_data.employee_request("ACCOUNTANT")}),
    endpoint("read an invitation of A through the API", "get", "employee_requests", KEEPERS,
             "employee_request:read", obj="invitation", invitation=True),
    endpoint("approve the invitation waiting at A", "post", "employee_requests", frozenset({INVITEE}),
             "the invitee only", obj="invitation", suffix="/approve", writes=True, invitation=True),
    endpoint("reject the invitation waiting at A", "post", "employee_requests", frozenset({INVITEE}),
             "the invitee only", obj="invitation", suffix="/reject", writes=True, invitation=True),
    endpoint("list the employees of A through the API", "get", "employees", READERS, "employee:read"),
    endpoint("read an employee of A through the API", "get", "employees", READERS, "employee:read",
             obj="accountant"),
    endpoint("deactivate an employee of A through the API", "patch", "employees", KEEPERS,
             "employee:deactivate", obj="accountant", suffix="/actions/deactivate", writes=True),
    endpoint("list the places of A through the API", "get", "divisions", READERS, "division:read"),
    endpoint("add a place to A through the API", "post", "divisions", KEEPERS, "division:write", ok=201,
             writes=True, body=lambda world: division_payload()),
    endpoint("read a place of A through the API", "get", "divisions", READERS, "division:read",
             obj="division"),
    # eHealth: "Updating another legal entity's division: 403".
    endpoint("change a place of A through the API", "patch", "divisions", KEEPERS, "division:write",
             obj="division", foreign=403, writes=True, body=lambda world: RENAMED),
    endpoint("activate a place of A through the API", "patch", "divisions", KEEPERS, "division:activate",
             obj="division_inactive", suffix="/actions/activate", foreign=403, writes=True),
    endpoint("deactivate a place of A through the API", "patch", "divisions", KEEPERS, "division:deactivate",
             obj="division", suffix="/actions/deactivate", foreign=403, writes=True),
]
# fmt: on

ACTIONS = PAGES + API


# --- The people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    facility: str | None = None  # "A" or "B" while they work there
    role: str | None = None


ANONYMOUS = Actor("anonymous")
ACTORS = [
    ANONYMOUS,
    Actor("head-of-B", "B", OWNER),
    Actor("hr-of-B", "B", HR),
    Actor("doctor-of-B", "B", DOCTOR),
    Actor("doctor-of-A", "A", DOCTOR),
    Actor("hr-of-A", "A", HR),
    Actor("head-of-A", "A", OWNER),
    Actor("dismissed-hr-of-A"),  # no working job: refused everywhere
    Actor("operator"),  # no facility role: the admin is theirs, not the cabinet
    Actor("invitee"),  # not working at A yet; asked only about their invitation
]
CLOSED_HEAD = Actor("head-of-closed-A")


def expected(action: Action, actor: Actor) -> int:
    """The answer the action must give the actor (302 for anonymous is a redirect to sign in)."""
    if actor is ANONYMOUS:
        return 401 if action.api else 302
    if INVITEE in action.who:
        return action.ok if actor.name == "invitee" else 403
    if actor.role not in action.who:  # no job, or none with this right
        return 403
    return action.ok if actor.facility == "A" else action.foreign


def is_allowed(action: Action, actor: Actor) -> bool:
    return actor is not ANONYMOUS and expected(action, actor) == action.ok


def asked(action: Action, actor: Actor) -> bool:
    """The invitee, who works nowhere, is refused as the dismissed and the operator are: they are asked
    only what concerns their invitation."""
    return actor.name != "invitee" or action.invitation


def case_id(action: Action, actor: Actor) -> str:
    return f"{actor.name} {'can' if is_allowed(action, actor) else 'cannot'} {action.phrase}"


CASES = [(action, actor) for action in ACTIONS for actor in ACTORS if asked(action, actor)]
REFUSED = [(action, actor) for action, actor in CASES if not is_allowed(action, actor)]
ALLOWED = [(action, actor) for action, actor in CASES if is_allowed(action, actor)]


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
        response = getattr(client, action.method)(target, body, content_type="application/json")
    else:
        response = getattr(client, action.method)(target, body)
    return before, response


def assert_refused(action: Action, response, code: int) -> None:
    assert response.status_code == code, (response.status_code, response.content[:500])
    if action.api:
        error_type = {401: "access_denied", 403: "forbidden", 404: "not_found"}[code]
        assert response.json()["error"]["type"] == error_type
    elif code == 302:
        assert response.url.startswith(LOGIN_URL)


# --- The matrix -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "actor"), REFUSED, ids=[case_id(action, actor) for action, actor in REFUSED]
)
def test_a_refused_action_answers_its_refusal_and_changes_nothing(world, action, actor):
    before, response = call(world, actor, action)
    assert_refused(action, response, expected(action, actor))
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


@pytest.mark.parametrize("action", ACTIONS, ids=[case_id(action, CLOSED_HEAD) for action in ACTIONS])
def test_the_staff_of_a_closed_facility_are_refused_everywhere(world, action):
    # Only the facility's status: its head stays an APPROVED, active employee of it.
    LegalEntity.objects.filter(pk=world.a.pk).update(status=LegalEntity.Status.CLOSED, is_active=False)
    before, response = call(world, CLOSED_HEAD, action)
    assert_refused(action, response, 403)
    assert state() == before


# Named routes of the staff flows the matrix leaves out: the public invitation page (the token is the right,
# tests/registry/test_invitation_page.py), the pages shown after a send (this session's request only), and
# the wizards' other URLs (the same view and the same check as the step in the matrix).
LEFT_OUT = {
    "invitation",
    "staff-new-sent",
    "hr-access-sent",
    "staff-new-doctor",
    "staff-change-doctor-step",
    "facility-edit-step",
}


def test_the_matrix_covers_every_staff_page_and_endpoint(world):
    """A page or endpoint added to the staff flows must be added to the matrix (or to LEFT_OUT)."""
    covered = {resolve(action.url(world).split("?")[0]).url_name for action in ACTIONS}
    routes = {
        pattern.name
        for module in (invitations, staff_new, employees, divisions, facility_edit, staff_apis, division_apis)
        for pattern in module.urlpatterns
    }
    assert routes - LEFT_OUT - covered == set()
