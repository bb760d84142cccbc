"""Ukrainian by default, English on request: the catalogue is complete and compiled, pages follow it."""

import ast
import gettext
import re
from pathlib import Path

import allauth
import pytest
from django.conf import settings

from ehealth_portal.third_party_strings import ALLAUTH_MSGIDS

LOCALE = Path(settings.BASE_DIR) / "locale"
UK_PO = LOCALE / "uk" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as gettext writes it (entries separated by blank lines).

    Each entry: msgid, maybe msgctxt and msgid_plural, msgstr as {plural index: text}, flags (e.g. "fuzzy").
    Comments and obsolete (#~) entries are skipped.
    """
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, field = {"flags": set(), "msgstr": {}}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):  # continuation of the previous keyword's string
                text = ast.literal_eval(line)
            else:
                keyword, _, rest = line.partition(" ")
                plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
                field = int(plural.group(1)) if plural else 0 if keyword == "msgstr" else keyword
                text = ast.literal_eval(rest)
                (entry["msgstr"] if isinstance(field, int) else entry)[field] = ""
            if not line.startswith("#") and line.strip():
                (entry["msgstr"] if isinstance(field, int) else entry)[field] += text
        if "msgid" in entry:
            entries.append(entry)
    return entries


def test_the_ukrainian_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = parse_po(UK_PO)
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "fuzzy" not in header["flags"], "a fuzzy header is dropped by msgfmt: plural forms would be lost"
    assert "Language: uk" in header["msgstr"][0]
    assert len(messages) > 50
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated in {UK_PO}: {untranslated}"
    assert fuzzy == [], f"fuzzy (needs review) in {UK_PO}: {fuzzy}"


def test_ukrainian_translations_keep_the_placeholders():
    for entry in parse_po(UK_PO)[1:]:
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for translation in entry["msgstr"].values():
            assert sorted(PLACEHOLDER.findall(translation)) == expected, entry["msgid"]


@pytest.mark.parametrize("language", ["uk", "en"])
def test_compiled_catalogue_matches_the_po(language):
    """The .mo files are committed (a fresh machine may lack gettext): they must not lag behind the .po."""
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"run compilemessages: {mo} is missing"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog
    expected = {}
    for entry in parse_po(po)[1:]:
        key = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
        if "msgid_plural" in entry:
            expected.update({(key, n): text for n, text in entry["msgstr"].items() if text})
        elif entry["msgstr"].get(0):
            expected[key] = entry["msgstr"][0]
    actual = {key: text for key, text in compiled.items() if key != ""}
    assert actual == expected, f"{mo} is out of date: run compilemessages"


def test_allauth_overrides_name_real_allauth_messages():
    """ehealth_portal/i18n.py re-translates allauth's msgids: a typo there would override nothing."""
    allauth_po = Path(allauth.__file__).parent / "locale" / "uk" / "LC_MESSAGES" / "django.po"
    allauth_msgids = {entry["msgid"] for entry in parse_po(allauth_po)}
    assert [msgid for msgid in ALLAUTH_MSGIDS if msgid not in allauth_msgids] == []


@pytest.mark.django_db
def test_home_page_is_ukrainian_by_default(client):
    html = client.get("/").content.decode()
    assert '<html lang="uk">' in html
    assert "Реєстраційний портал eHealth" in html
    assert ">Увійти</a>" in html


@pytest.mark.django_db
def test_login_page_is_ukrainian_by_default_including_allauths_own_messages(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="uk">' in html
    assert "<h1>Увійти</h1>" in html
    assert re.search(r'<label for="id_login">\s*Електронна пошта', html)
    assert re.search(r'<label for="id_password">\s*Пароль', html)
    assert "Забули пароль?" in html  # allauth's Ukrainian catalogue
    html = client.post(
        "/accounts/login/", {"login": "x@example.com", "password": "wrong-password"}
    ).content.decode()
    assert "Вказана адреса електронної пошти та/або пароль неправильні." in html  # allauth's too


@pytest.mark.django_db
def test_switching_to_english_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert re.search(r'<label for="id_login">\s*Email', html)
    assert "Forgot your password?" in html
    assert "Medical facilities register here" in client.get("/").content.decode()

    client.post("/i18n/setlang/", {"language": "uk", "next": "/"})
    assert "<h1>Увійти</h1>" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_portal_locale_middleware_ignores_the_browser_language(client, settings):
    settings.MIDDLEWARE = [
        "ehealth_portal.i18n.PortalLocaleMiddleware"
        if m == "django.middleware.locale.LocaleMiddleware"
        else m
        for m in settings.MIDDLEWARE
    ]
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "<h1>Увійти</h1>" in response.content.decode()
    assert response["Content-Language"] == "uk"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<h1>Sign in</h1>" in client.get("/accounts/login/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"  # unknown: the default
    assert "<h1>Увійти</h1>" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_an_english_browser_still_gets_ukrainian_first(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="uk">' in html
