"""Every page type carries the strict Content-Security-Policy, and no page has an inline script, event
handler or style for it to block (the browser test, tests/browser/test_csp.py, runs them in chromium)."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from registry.models import Employee
from tests.accounts.helpers import create_account
from tests.factories import SuperuserFactory
from tests.registry.test_web_pages import public_facility

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/facilities/",
    "/map/",
    "/signatures/check/",
    "/monitoring/regions/",
    "/monitoring/join/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/register/facility/",
    "/api/docs/",
    "/no-such-page/",  # the 404 page
]


@pytest.fixture
def facility():
    return public_facility("Клініка Дніпро", "10000001")


@pytest.fixture
def head_client(client, facility):
    """The facility's head, signed in: the cabinet is theirs."""
    head = create_account("head@clinic.example")
    Employee.objects.filter(legal_entity=facility).update(status=Employee.Status.APPROVED)
    employee = Employee.objects.get(legal_entity=facility)
    employee.party.user = head
    employee.party.save()
    client.force_login(head)
    return client


@pytest.fixture
def operator_client(client):
    client.force_login(SuperuserFactory(email="operator@ehealth.example"))
    return client


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def assert_strict(response):
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    tiles = urlsplit(settings.MAP_TILE_URL)
    assert f"{tiles.scheme}://{tiles.netloc}" in directives["img-src"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


INLINE = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>", re.I),
        "inline script",
    ),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"<[a-z][^>]*\shref\s*=\s*[\"']?javascript:", re.I), "javascript: link"),
    (re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I), "inline style"),
]


def assert_nothing_inline(response):
    html = response.content.decode()
    for pattern, what in INLINE:
        match = pattern.search(html)
        assert not match, f"{response.request['PATH_INFO']}: {what}: {match and match.group(0)}"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_the_policy_and_nothing_inline(client, facility, path):
    response = client.get(path, follow=True)
    assert response.status_code in (200, 404)
    assert_strict(response)
    assert_nothing_inline(response)


def test_a_facility_page_has_the_policy(client, facility):
    response = client.get(reverse("registry:facility-detail", args=[facility.pk]))
    assert response.status_code == 200
    assert_strict(response)
    assert_nothing_inline(response)


def test_swagger_ui_loads_its_init_script_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', page)
    assert script, "no init script file"
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()


def test_the_cabinet_has_the_policy(head_client):
    response = head_client.get(reverse("registry:cabinet"))
    assert response.status_code == 200
    assert_strict(response)
    assert_nothing_inline(response)


@pytest.mark.parametrize(
    "url",
    [
        lambda facility: reverse("admin:index"),
        lambda facility: reverse("admin:registry_legalentity_changelist"),
        lambda facility: reverse("admin:registry_legalentity_change", args=[facility.pk]),
        lambda facility: reverse("admin:monitoring_cnapsystem_add"),
        lambda facility: reverse("admin:portal_user_changelist"),
    ],
    ids=["index", "changelist", "change-form", "add-form", "users"],
)
def test_admin_pages_have_the_policy_and_nothing_inline(operator_client, facility, url):
    response = operator_client.get(url(facility))
    assert response.status_code == 200
    assert_strict(response)
    assert_nothing_inline(response)


def test_api_answers_and_refusals_carry_the_policy_too(client):
    assert_strict(client.get("/api/dictionaries"))
    assert_strict(client.get("/api/no-such-thing"))
