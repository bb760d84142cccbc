"""WCAG 2.1 A and AA on every page type, checked by axe-core in chromium at desktop and phone widths.

One test per page state and width (`test_page_meets_wcag_21_aa[wizard-head-errors-phone]`), so a failure
names the page; its message lists each violated rule with the elements that break it. axe-core comes from
npm (`package.json`, `npm ci`); without node_modules the tests are skipped, and fail in CI.

axe finds what a machine can (contrast, names, roles, landmarks, language, …), not everything WCAG asks:
keyboard paths and focus order are the other browser tests'.
"""

import datetime
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from registry.models import ApplicationCheck, Employee, RegistrationApplication
from registry.selectors import token_hash
from registry.services import reference_data_load
from tests.accounts.helpers import create_account
from tests.browser.test_csp import TILE
from tests.conftest import ROOT, missing_in_ci
from tests.factories import AppealFactory, CnapFactory, CnapSystemFactory, SuperuserFactory
from tests.registry.test_web_pages import public_facility
from tests.registry.test_web_wizard import MANAGEMENT, STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"
NOV = "date_from=2026-11-01&date_to=2026-11-30"
WIZARD_SUBMIT = "#wizard-form button[type=submit]:not([name])"  # Continue / Submit, not Back or Change


@dataclass(frozen=True)
class Portal:
    """What the pages show: a public facility with its head, a CNAP with appeals, a rejected application."""

    facility_id: str
    status_token: str


@dataclass(frozen=True)
class Case:
    """A page in one state: where it is, who opens it, what makes it complete, what is done on it first."""

    path: str  # may name {facility} and {token}
    ready: str  # a selector that is visible once the page (and its scripts) have done their work
    user: str | None = None  # "operator" or "head"
    wizard_until: str | None = None  # the wizard's steps before this one are filled in
    action: Callable | None = None  # e.g. send the form empty, to check the page with its errors


def submit_empty(selector: str) -> Callable:
    def action(page):
        page.locator(selector).first.click()
        expect(page.locator(".error-summary, .errorlist").first).to_be_visible()

    return action


def click(selector: str, then: str) -> Callable:
    """Click the first `selector` and wait for `then` (a dialog, an opened section)."""

    def action(page):
        page.locator(selector).first.click()
        expect(page.locator(then).first).to_be_visible()

    return action


def try_it_out(operation: str, *, execute: bool) -> Callable:
    """Swagger UI: open the first `operation`, press "Try it out" and, with `execute`, send the request."""

    def action(page):
        block = page.locator(operation).first
        block.locator(".opblock-summary-control").click()
        block.locator(".try-out__btn").click()
        if execute:
            block.locator(".execute").click()
            expect(block.locator(".live-responses-table")).to_be_visible()

    return action


def sign_in_wrongly(page):
    page.locator("input[name=login]").fill("nobody@example.com")
    page.locator("input[name=password]").fill("not-the-password")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("main .errorlist, main .error-summary, main [role=alert]").first).to_be_visible()


WIZARD_STEPS = ["facility", "addresses", "licence", "head", "review"]
WIZARD_READY = dict.fromkeys(WIZARD_STEPS, "#wizard-form") | {"addresses": "#wizard-form .leaflet-container"}

CASES = {
    # Public pages
    "home": Case("/", "main h1"),
    "facility-list": Case("/facilities/", "main h2"),
    "facility-search": Case("/facilities/?q=Дніпро", "main h2"),
    "facility-search-nothing": Case("/facilities/?q=Немає+такого", "main [role=status]"),
    "facility-page": Case("/facilities/{facility}/", ".leaflet-marker-icon"),
    "map": Case("/map/", "[data-facility-map][data-state=ready]"),
    "api-intro": Case("/api-guide/", "main h1"),
    "api-swagger": Case("/api/docs/", ".swagger-ui .opblock"),
    "api-swagger-try-it-out": Case(
        "/api/docs/", ".swagger-ui .opblock", action=try_it_out(".opblock-get", execute=False)
    ),
    "api-swagger-answer": Case(
        "/api/docs/", ".swagger-ui .opblock", action=try_it_out(".opblock-get", execute=True)
    ),
    "api-swagger-signed-request": Case(
        "/api/docs/", ".swagger-ui .opblock", action=try_it_out(".opblock-put", execute=False)
    ),
    "api-swagger-authorize": Case(
        "/api/docs/", ".swagger-ui .opblock", action=click(".btn.authorize", ".modal-ux")
    ),
    "signature-check": Case("/signatures/check/", "input[type=file]"),
    "monitoring-regions": Case(f"/monitoring/regions/?{NOV}", "canvas[data-state=ready]"),
    "monitoring-join": Case("/monitoring/join/", "main form"),
    "monitoring-join-errors": Case(
        "/monitoring/join/", "main form", action=submit_empty("main form button[type=submit]")
    ),
    "not-found": Case("/no-such-page/", "main h1"),
    # Registration
    **{
        f"wizard-{step}": Case(f"/register/{step}/", WIZARD_READY[step], wizard_until=step)
        for step in WIZARD_STEPS
    },
    **{
        f"wizard-{step}-errors": Case(
            f"/register/{step}/", WIZARD_READY[step], wizard_until=step, action=submit_empty(WIZARD_SUBMIT)
        )
        for step in WIZARD_STEPS
    },
    "application-status": Case("/register/status/{token}/", "main h1"),
    # Accounts
    "sign-in": Case("/accounts/login/", "input[name=password]"),
    "sign-in-errors": Case("/accounts/login/", "input[name=password]", action=sign_in_wrongly),
    "password-reset": Case("/accounts/password/reset/", "input[name=email]"),
    "cabinet": Case("/cabinet/", "main h1", user="head"),
    # Operators
    "monitoring-dashboard": Case(f"/monitoring/?{NOV}", "canvas[data-state=ready]", user="operator"),
    "admin-index": Case("/admin/", "#content", user="operator"),
    "admin-changelist": Case("/admin/registry/legalentity/", "#result_list", user="operator"),
    "admin-change-form": Case(
        "/admin/registry/legalentity/{facility}/change/", "#content form", user="operator"
    ),
}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        missing_in_ci(f"the accessibility tests need {AXE.relative_to(ROOT)} (npm ci)")
    return AXE.read_text()


@pytest.fixture
def portal() -> Portal:
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    facility = public_facility("Клініка Дніпро", "10000001")
    system = CnapSystemFactory(cnap=CnapFactory(code="1001", name="ЦНАП Бучі", region="Київська область"))
    for day, channel in [(2, "online"), (2, "offline"), (3, "online")]:
        registered = datetime.datetime(2026, 11, day, 10, tzinfo=datetime.UTC)
        AppealFactory(system=system, channel=channel, registered_at=registered)
    token = secrets.token_urlsafe(32)
    application = RegistrationApplication.objects.create(
        status=RegistrationApplication.Status.REJECTED,
        status_token_hash=token_hash(token),
        edrpou="38782323",
        name='КНП "ДЕМО ЦЕНТР ПМСД"',
        email="head@clinic.example",
        data={},
        signed_envelope=b"",
        signed_content=b"",
        reasons=[{"code": "edr_not_found", "message": "Код ЄДРПОУ не знайдено в державному реєстрі."}],
    )
    ApplicationCheck.objects.create(
        application=application, step=ApplicationCheck.Step.SIGNATURE, outcome=ApplicationCheck.Outcome.PASSED
    )
    ApplicationCheck.objects.create(
        application=application,
        step=ApplicationCheck.Step.STATE_REGISTER,
        outcome=ApplicationCheck.Outcome.FAILED,
    )
    return Portal(facility_id=str(facility.pk), status_token=token)


def _user_client(kind: str, portal: Portal) -> Client:
    """A client signed in as the operator or as the facility's head."""
    if kind == "operator":
        user = SuperuserFactory(email="operator@ehealth.example")
    else:
        user = create_account("head@clinic.example")
        employee = Employee.objects.get(legal_entity_id=portal.facility_id)
        employee.party.user = user
        employee.party.save()
    client = Client()
    client.force_login(user)
    return client


def _wizard_client(until: str) -> Client:
    """A client whose wizard has every step before `until` filled in."""
    client = Client()
    client.get("/register/")
    for step in WIZARD_STEPS[: WIZARD_STEPS.index(until)]:
        fields = {f"{step}-{name}": value for name, value in STEPS[step].items()}
        response = client.post(f"/register/{step}/", {MANAGEMENT: step, **fields})
        assert response.status_code == 302, f"the {step} step's data is refused"
    return client


def _session_cookie(page, live_server, client: Client) -> None:
    """The client's session in the browser."""
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": live_server.url}]
    )


def _open(page, live_server, portal: Portal, case: Case) -> None:
    """Open the case's page as its user, in its state, once it is complete."""
    _prepare(page, live_server, portal, case)
    _visit(page, live_server, portal, case)


def _prepare(page, live_server, portal: Portal, case: Case) -> None:
    """The browser as the case's user, with the map tiles answered (the tile server is offline in tests)."""
    tiles = settings.MAP_TILE_URL.split("{", 1)[0]
    page.route(f"{tiles}**", lambda route: route.fulfill(body=TILE, content_type="image/png"))
    if case.user:
        _session_cookie(page, live_server, _user_client(case.user, portal))


def _visit(page, live_server, portal: Portal, case: Case) -> None:
    """The case's page in its state (a wizard state is made afresh: a sent form changes the session)."""
    if case.wizard_until:
        _session_cookie(page, live_server, _wizard_client(case.wizard_until))
    page.goto(case.path.format(facility=portal.facility_id, token=portal.status_token))
    expect(page.locator(case.ready).first).to_be_visible()
    if case.action:
        case.action(page)
        expect(page.locator(case.ready).first).to_be_visible()  # a form sent again is a new page


def _violations_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}"
        )
        for node in violation["nodes"][:10]:
            summary = " ".join(node["failureSummary"].split())
            lines.append(f"    {' '.join(node['target'])}: {summary}")
            lines.append(f"      {node['html'][:200]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


@pytest.mark.parametrize("name", CASES)
def test_page_meets_wcag_21_aa(page, live_server, portal, axe_source, name):
    """Each page state at every width (one test a state: the data is made once for both widths)."""
    reports = []
    _prepare(page, live_server, portal, CASES[name])
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        _visit(page, live_server, portal, CASES[name])
        page.evaluate(axe_source + "\n;undefined")  # DevTools evaluation: the page's CSP does not apply
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            WCAG_21_AA,
        )
        if results["violations"]:
            reports.append(f"{page.url} at {width} width:\n{_violations_report(results['violations'])}")
    assert not reports, "\n\n".join(reports)


@pytest.mark.parametrize("name", ["map", "facility-page", "wizard-addresses"])
def test_map_credits_are_links_by_more_than_colour(page, live_server, portal, name):
    """Leaflet's credit links differ from their text by colour only, at 2.56:1 (WCAG 1.4.1). axe cannot
    judge them over map tiles (it reports them as "needs review"), so this looks at the style itself."""
    _open(page, live_server, portal, CASES[name])
    links = page.locator(".leaflet-control-attribution a")
    expect(links.first).to_be_visible()

    decorations = links.evaluate_all("links => links.map(link => getComputedStyle(link).textDecorationLine)")

    assert decorations and all("underline" in decoration for decoration in decorations), decorations
