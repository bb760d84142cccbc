"""The API's introduction page (reached from the header's "API") and the Swagger UI page it leads to."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.urls import reverse
from django.utils import translation

from ehealth_portal.api_intro import _rate
from tests.factories import SuperuserFactory, UserFactory

pytestmark = pytest.mark.django_db

INTRO = reverse("api-intro")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def test_the_headers_api_link_leads_to_the_introduction_which_leads_to_the_reference(client):
    home = client.get("/").content.decode()
    assert re.search(rf'<a href="{INTRO}"[^>]*>API</a>', home)
    assert 'href="/api/docs/"' not in home

    page = client.get(INTRO)

    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{reverse("api-docs")}"' in html and f'href="{reverse("api-schema")}"' in html
    assert re.search(rf'<a href="{INTRO}" aria-current="page">API</a>', html)


def test_the_introduction_lists_every_method_of_the_schema(client):
    schema = yaml.safe_load(SCHEMA.read_text())
    documented = {
        (verb.upper(), re.sub(r"\{\w+\}", "{id}", path))
        for path, operations in schema["paths"].items()
        for verb in operations
    }

    methods = client.get(INTRO).context["methods"]

    assert {(method["verb"], method["path"]) for method in methods} == documented


def test_the_introduction_explains_keys_the_envelope_errors_and_limits(client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 2 * 1024 * 1024
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switcher's choice

    html = client.get(INTRO).content.decode()

    assert "Authorization: Api-Key" in html
    assert all(member in html for member in ('"meta"', '"data"', '"paging"', '"page_size"'))
    assert '"entry": "$.owner.tax_id"' in html and '"type": "validation_failed"' in html
    assert all(
        f"<dt>{status} <code>" in html for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
    )
    assert "60 requests a minute per user" in html  # REST_FRAMEWORK's signature_check rate
    assert "larger than 2.0\xa0MB" in html and "at most 100 records" in html


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        ("1/s", "1 request a second"),
        ("60/min", "60 requests a minute"),
        ("5/hour", "5 requests an hour"),
        ("1000/day", "1000 requests a day"),
    ],
)
def test_a_throttle_rate_is_put_in_words(rate, words):
    with translation.override("en"):
        assert _rate(rate) == words


@pytest.mark.parametrize(("user", "linked"), [(None, False), ("head", False), ("operator", True)])
def test_operators_get_a_link_to_their_api_keys(client, user, linked):
    if user:
        client.force_login(SuperuserFactory() if user == "operator" else UserFactory())
    html = client.get(INTRO).content.decode()
    assert (f'href="{reverse("admin:portal_apikey_changelist")}"' in html) is linked


def test_the_introduction_only_reads(client):
    assert client.post(INTRO).status_code == 405


def test_swagger_ui_says_its_language_and_leads_back_to_the_introduction(client):
    html = client.get(reverse("api-docs")).content.decode()

    assert '<html lang="en">' in html
    assert re.search(r'<header class="api-docs-bar" lang="uk">.*?href="' + INTRO, html, re.S)
    assert "css/swagger.css" in html and "js/swagger-a11y.js" in html
    script = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    init = client.get(script).content.decode()
    swagger_settings = json.loads(re.search(r"const swaggerSettings = (\{.*?\n\});", init, re.S).group(1))
    # No deep links (a link inside each operation's toggle button), no low-contrast syntax colours.
    assert swagger_settings == {"deepLinking": False, "syntaxHighlight": {"activated": False}}
