"""The page frame (base.html): a favicon that exists, and a header whose menu button works without inline
script (tests/browser/test_header.py drives it in chromium)."""

import re

import pytest

from tests.accounts.helpers import create_account
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_served_at_the_root(client):
    """Browsers and bots ask for /favicon.ico on every kind of page (the admin's and the API's too)."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an icon resource


def test_pages_link_their_icons(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in html
    svg = re.search(r'<link rel="icon" href="([^"]+\.svg)" type="image/svg\+xml">', html).group(1)
    response = client.get(svg)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)


def test_the_menu_button_controls_the_menu_with_a_script_file(client):
    html = client.get("/").content.decode()
    button = re.search(r'<button type="button" class="nav-toggle"[^>]*>', html).group(0)
    assert 'aria-expanded="false"' in button
    assert 'aria-controls="site-menu"' in button
    menu = html[html.index('<div class="site-menu" id="site-menu">') : html.index("</header>")]
    assert 'aria-label="Головна навігація"' in menu  # the main links are inside what the button folds
    assert '<form class="lang"' in menu
    # CSP: scripts come from files only.
    assert re.search(r'<script src="/static/js/nav-menu\.js">', html)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def _account_band(client) -> str:
    return re.search(r'<div class="site-tools">.*?</nav>', client.get("/").content.decode(), re.S).group(0)


def test_the_account_band_holds_the_sign_in_link_or_the_account(client):
    assert 'href="/accounts/login/"' in _account_band(client)

    client.force_login(create_account("head@clinic.example"))
    assert "head@clinic.example" in _account_band(client)
    assert 'href="/admin/"' not in _account_band(client)

    client.force_login(SuperuserFactory(email="operator@ehealth.example"))
    assert 'href="/admin/"' in _account_band(client)
    assert 'href="/accounts/login/"' not in _account_band(client)
