"""Every page type in chromium under the Content-Security-Policy: no violation and no console error.

A violation would mean a script, style or image the policy blocks, i.e. a page that is broken in production.
"""

import base64
import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from registry.models import Employee
from registry.services import reference_data_load
from tests.accounts.helpers import create_account
from tests.factories import AppealFactory, CnapFactory, CnapSystemFactory, SuperuserFactory
from tests.registry.test_web_pages import public_facility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts; init scripts are not subject to the page's policy.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""
TILE = base64.b64decode(  # a 1×1 PNG: the tile server, offline in tests
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
NOV = "date_from=2026-11-01&date_to=2026-11-30"
DICTIONARIES = Path(__file__).resolve().parents[2] / "registry" / "data" / "dictionaries.json"


@pytest.fixture
def watched(page):
    """`check(path, ready)` opens a path (or, without one, stays on the current page), waits for the
    `ready` element and the network, and asserts no policy violation and no console error happened."""
    problems = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    tiles = settings.MAP_TILE_URL.split("{", 1)[0]
    page.route(f"{tiles}**", lambda route: route.fulfill(body=TILE, content_type="image/png"))

    def check(path: str | None, ready: str):
        if path:
            response = page.goto(path)
            assert response.headers.get("content-security-policy"), path
            if not response.ok:  # an error page's own status is logged as a console error
                page.wait_for_load_state("load")
                problems[:] = [text for text in problems if f"status of {response.status} " not in text]
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert (page.evaluate("window.__cspViolations"), problems) == ([], []), page.url
        return page

    return check


def sign_in(page, user) -> None:
    """The user's session in the browser (the sign-in itself is tests/browser/test_sign_in.py's)."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.session.session_key, "url": page.url}]
    )


@pytest.fixture
def facility():
    reference_data_load(data=json.loads(DICTIONARIES.read_text()))
    facility = public_facility("Клініка Дніпро", "10000001")
    system = CnapSystemFactory(cnap=CnapFactory(code="1001", name="ЦНАП Бучі", region="Київська область"))
    for _ in range(3):
        AppealFactory(system=system, registered_at=datetime.datetime(2026, 11, 2, 10, tzinfo=datetime.UTC))
    return facility


def test_public_pages(watched, facility):
    watched("/", "main h1")
    watched("/facilities/", "main h2")
    watched(f"/facilities/{facility.pk}/", ".leaflet-marker-icon")
    watched("/map/", "[data-facility-map][data-state=ready]")
    watched("/signatures/check/", "input[type=file]")
    watched(f"/monitoring/regions/?{NOV}", "canvas")
    watched("/monitoring/join/", "main form")
    watched("/accounts/login/", "input[name=password]")
    watched("/accounts/password/reset/", "input[name=email]")
    watched("/no-such-page/", "main h1")


def test_swagger_ui(watched):
    watched("/api/docs/", ".swagger-ui .info .title")  # the init script ran and the schema loaded


def test_registration_wizard(watched, facility):
    page = watched("/register/", "#id_facility-kveds")
    page.get_by_label("Знайти код: введіть цифри або слова").fill("загальна")  # checkbox-filter.js runs
    expect(page.locator("#id_facility-kveds .checkbox-list-item:not([hidden])")).to_have_count(1)
    page.get_by_label("Повна назва").fill('КНП "ДЕМО ЦЕНТР ПМСД"')
    page.get_by_label("Організаційно-правова форма").select_option("150")
    page.get_by_label("бюджетна").check()
    page.get_by_label("ЄДРПОУ").fill("38782323")
    page.locator('#id_facility-kveds input[value="86.21"]').check()
    page.locator("#id_facility-email").fill("info@demo-clinic.example")
    page.locator("#id_facility-phone_mobile").fill("050 123 45 67")
    page.get_by_role("button", name="Продовжити").click()
    watched(None, "[data-location-picker].leaflet-container")  # location-picker.js ran


def test_cabinet(watched, page, facility):
    head = create_account("head@clinic.example")
    employee = Employee.objects.get(legal_entity=facility)
    employee.party.user = head
    employee.party.save()
    watched("/", "main h1")
    sign_in(page, head)
    watched("/cabinet/", "main h1")


def test_admin_and_dashboard(watched, page, facility):
    watched("/", "main h1")
    sign_in(page, SuperuserFactory(email="operator@ehealth.example"))
    watched("/admin/", "#content")
    watched("/admin/registry/legalentity/", "#result_list")
    watched(f"/admin/registry/legalentity/{facility.pk}/change/", "#content")
    watched("/admin/monitoring/cnapsystem/", "#result_list")
    watched("/admin/monitoring/cnapsystem/add/", "#content form")
    watched("/admin/portal/user/", "#result_list")
    watched(f"/monitoring/?{NOV}", "canvas")
    watched("/accounts/2fa/", "main h1")  # allauth's pages for a signed-in user
    watched("/accounts/password/change/", "input[name=oldpassword]")
