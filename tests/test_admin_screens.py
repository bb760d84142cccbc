"""Every admin screen an operator opens reads in Ukrainian: no English word, no untranslated msgid.

The walk opens the index, every section, and for every registered model (one object of each) its list,
add form, page, history and delete confirmation. What counts as text: what the page shows or reads
aloud (text, titles, alt texts, button labels, the inline "add another" label). Not text: documents shown
as received (`<pre>`), codes (`<code>`), what an operator typed (form values), time-zone names, and
identifiers (tokens with digits, dots, slashes, underscores, @ or hyphens).
"""

import ast
import datetime
import json
import re
import zoneinfo
from html.parser import HTMLParser
from pathlib import Path

import allauth
import django
import django_celery_beat
import pytest
import rest_framework_api_key
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import trans_real

from ehealth_portal import third_party_strings
from ehealth_portal.admin_site import SECTIONS
from registry.services import reference_data_load
from tests import factories
from tests.declarations.lifecycle_data import admin_samples

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
# Names and standards written the same in Ukrainian, and eHealth's dictionary tags (codes).
ALLOWED = {
    "eHealth",
    "API",
    "SMS",
    "HTML",
    "JSON",
    "URL",
    "HTTP",
    "TLS",
    "TOTP",
    "WebAuthn",
    "Basic",
    "Auth",
    "CMS",
    "ID",
    "UTC",
    "AMQP",
    "RabbitMQ",
    "Redis",
    "Celery",
    "cron",
    "Ctrl",
    "Cmd",
    "Mac",
    "SYSTEM",
    "EXTERNAL",
}
WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
TIME_ZONES = zoneinfo.available_timezones()


class VisibleText(HTMLParser):
    """The text a page shows or reads aloud, as a list of strings."""

    SKIPPED = {"script", "style", "pre", "code", "textarea"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping, self.in_zone_option = [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIPPED:
            self.skipping += 1
        self.in_zone_option = tag == "option" and attrs.get("value") in TIME_ZONES
        self.parts += [
            attrs[name] for name in ("title", "placeholder", "aria-label", "alt") if attrs.get(name)
        ]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if attrs.get("data-inline-formset"):
            options = json.loads(attrs["data-inline-formset"])["options"]
            self.parts += [options.get("addText", ""), options.get("deleteText", "")]

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping -= 1
        if tag == "option":
            self.in_zone_option = False

    def handle_data(self, data):
        if not self.skipping and not self.in_zone_option and data.strip():
            self.parts.append(data.strip())


def english_words(html: str, codes: set[str]) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    words = set()
    for part in parser.parts:
        for token in part.split():
            token = token.strip("()[]{}«»\"“”„'‘’,;:!?…").rstrip(".")
            if WORD.fullmatch(token) and token not in ALLOWED and token not in codes:
                words.add(token)
    return words


@pytest.fixture
def untranslated(monkeypatch):
    """Msgids looked up in Ukrainian that no catalogue (the project's, an app's, Django's) translates."""
    missing = set()
    gettext, ngettext = trans_real.DjangoTranslation.gettext, trans_real.DjangoTranslation.ngettext

    def has_latin(text):
        return bool(re.search(r"[A-Za-z]", text.split("\x04")[-1]))

    def recording_gettext(self, message):
        known = message in self._catalog or (message, 0) in self._catalog
        if self.language() == "uk" and not known and has_latin(message):
            missing.add(message)
        return gettext(self, message)

    def recording_ngettext(self, singular, plural, number):
        if self.language() == "uk" and (singular, 0) not in self._catalog and has_latin(singular):
            missing.add(singular)
        return ngettext(self, singular, plural, number)

    monkeypatch.setattr(trans_real.DjangoTranslation, "gettext", recording_gettext)
    monkeypatch.setattr(trans_real.DjangoTranslation, "ngettext", recording_ngettext)
    return missing


@pytest.fixture
def every_model(admin_user):
    """At least one object of every model the admin shows, as operators meet them."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from ehealth_portal.models import ApiKey

    reference_data_load(data=json.loads((ROOT / "registry/data/dictionaries.json").read_text()))
    Group.objects.create(name="Оператори моніторингу")
    factories.EmailFactory()
    ApiKey.objects.create_key(name="МІС клініки", user=admin_user)
    EmailAddress.objects.create(user=admin_user, email=admin_user.email, verified=True, primary=True)
    factories.ApplicationCheckFactory()
    division = factories.DivisionFactory()
    factories.EmployeeFactory(legal_entity=division.legal_entity)
    factories.EmployeeRequestFactory(legal_entity=division.legal_entity)
    admin_samples(division)  # a patient, a request with a scan, a declaration, an SMS code and an SMS
    factories.EdrRecordFactory()
    factories.ServiceVariationFactory()
    started = datetime.datetime(2026, 11, 8, 3, 30, tzinfo=datetime.UTC)
    run = factories.PullRunFactory(
        status="FAILED",
        error_code="auth",
        error_message="Система відхилила логін і пароль (HTTP 401).",
        http_status=401,
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=0.1),
    )
    factories.QuarantinedRecordFactory(system=run.system, run=run)
    factories.AppealFactory(system=run.system)
    interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    crontab = CrontabSchedule.objects.create(minute="30", hour="3", timezone="Europe/Kyiv")
    SolarSchedule.objects.create(event="sunrise", latitude=50.45, longitude=30.52)
    ClockedSchedule.objects.create(clocked_time=datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC))
    PeriodicTask.objects.create(
        name="send-pending-emails", task="ehealth_portal.tasks.email_send_pending", interval=interval
    )
    PeriodicTask.objects.create(
        name="pull-cnap-systems", task="monitoring.tasks.pull_runs_schedule_task", crontab=crontab
    )


def admin_pages(client) -> list[str]:
    """The index, the sections, the apps' pages, and each model's list, add form, page, history, deletion."""
    pages = [reverse("admin:index")]
    pages += [reverse("admin:section", args=[section.key]) for section in SECTIONS]
    labels = {model._meta.app_label for model in admin.site._registry}
    pages += [reverse("admin:app_list", args=[label]) for label in sorted(labels)]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} to open: add one to every_model"
        pages += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        pages += [reverse(f"{name}_{view}", args=[obj.pk]) for view in ("change", "history", "delete")]
    return pages


def test_every_admin_screen_is_ukrainian(admin_client, every_model, untranslated):
    from ehealth_portal.models import ApiKey
    from registry.models import Dictionary, DictionaryValue

    # eHealth's dictionaries are named and keyed by codes ("GENDER", "OWNER"), shown as they are.
    codes = {
        word
        for code in [
            *Dictionary.objects.values_list("name", flat=True),
            *DictionaryValue.objects.values_list("key", flat=True),
        ]
        for word in code.split()
    } | set(ApiKey.objects.values_list("prefix", flat=True))  # a key's prefix: random letters
    english, missing, opened = {}, set(), 0
    for url in admin_pages(admin_client):
        untranslated.clear()
        response = admin_client.get(url)
        assert response.status_code in (200, 403), url  # 403: no adding or deleting that model here
        if response.status_code == 200:
            opened += 1
            missing |= untranslated
            words = english_words(response.content.decode(), codes)
            if words:
                english[url] = sorted(words)
    assert opened > 100
    assert english == {}, f"English words on admin screens: {json.dumps(english, indent=1)}"
    assert sorted(missing) == [], "msgids on admin screens without a Ukrainian translation"


def test_list_filters_and_changelist_read_in_ukrainian(admin_client, every_model):
    page = admin_client.get(reverse("admin:monitoring_cnapsystem_changelist")).content.decode()
    assert "Виберіть систему даних ЦНАПу, щоб змінити" in page  # not "Виберіть система даних"
    assert re.search(r">\s*Додати систему даних ЦНАПу\s*<", page)
    assert re.search(r"<summary>\s*Має збої\s*</summary>", page)  # a heading, not "За збоїть"
    assert "<summary>\n    За " not in page
    page = admin_client.get(reverse("admin:auth_group_add")).content.decode()
    assert "<h1>Додати групу</h1>" in page


@pytest.mark.parametrize(
    ("count", "words"),
    [(0, "0 записів"), (1, "1 запис"), (2, "2 записи"), (5, "5 записів"), (21, "21 запис")],
    ids=["0", "1", "2", "5", "21"],
)
def test_list_counts_use_ukrainian_plural_forms(admin_client, count, words):
    factories.QuarantinedRecordFactory.create_batch(count)
    page = admin_client.get(reverse("admin:monitoring_quarantinedrecord_changelist")).content.decode()
    assert re.search(rf'<p class="paginator">\s*{words}\s', page)


def test_pull_runs_say_their_status_error_and_duration_in_words(admin_client, every_model):
    from monitoring.models import PullRun

    run = PullRun.objects.get()
    page = admin_client.get(reverse("admin:monitoring_pullrun_change", args=[run.pk])).content.decode()
    assert "невдало" in page and "FAILED" not in page  # the title: the run's status in words
    assert "логін або пароль відхилено" in page  # the error code "auth" in words
    assert "0,1 с" in page


# --- Sections ------------------------------------------------------------------------------------------


def test_every_registered_model_sits_in_a_section_with_its_accusative():
    placed = {label: section for section in SECTIONS for label in section.models}
    assert (
        sorted(
            model._meta.label_lower for model in admin.site._registry if model._meta.label_lower not in placed
        )
        == []
    )
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert sorted(set(placed) - registered) == []  # no section lists a model the admin lacks


def test_the_index_groups_models_by_what_operators_do(admin_client):
    response = admin_client.get(reverse("admin:index"))
    names = [str(section["name"]) for section in response.context["app_list"]]
    assert names == [
        "Реєстр закладів",
        "Персонал",
        "Декларації",
        "Моніторинг ЦНАП",
        "Доступ і безпека",
        "Пошта і розклад",
    ]
    monitoring = response.context["app_list"][3]
    assert [model["object_name"] for model in monitoring["models"]][:3] == [
        "CnapSystem",
        "PullRun",
        "QuarantinedRecord",
    ]
    assert "Постачальник послуг" not in response.content.decode()


def test_a_model_page_leads_back_to_its_section(admin_client, every_model):
    from monitoring.models import CnapSystem

    system = CnapSystem.objects.first()
    page = admin_client.get(reverse("admin:monitoring_cnapsystem_change", args=[system.pk])).content.decode()
    section = reverse("admin:section", args=["cnap"])
    assert f'<a href="{section}">Моніторинг ЦНАП</a>' in page
    response = admin_client.get(section)
    assert [str(s["name"]) for s in response.context["app_list"]] == ["Моніторинг ЦНАП"]
    assert admin_client.get(reverse("admin:section", args=["nothing"])).status_code == 404


def test_a_section_shows_only_what_the_operator_may_see(client):
    from django.contrib.auth.models import Permission

    operator = factories.UserFactory(is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_pullrun"))
    client.force_login(operator)
    response = client.get(reverse("admin:index"))
    assert [[m["object_name"] for m in s["models"]] for s in response.context["app_list"]] == [["PullRun"]]
    assert client.get(reverse("admin:section", args=["facilities"])).status_code == 404


# --- Third-party strings -------------------------------------------------------------------------------


def _library_msgids(package, *, code: bool) -> set[str]:
    """A library's msgids: its English catalogues', and with `code` the strings its code passes to a call."""
    root = Path(package.__file__).parent
    msgids = set()
    for po in root.rglob("locale/*/LC_MESSAGES/django.po"):
        if po.parts[-3] not in ("en", "ru"):  # django-celery-beat has no English catalogue
            continue
        for block in po.read_text(encoding="utf-8").split("\n\n"):
            match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.MULTILINE)
            if match:
                msgids.add("".join(ast.literal_eval(line) for line in match.group(1).split("\n") if line))
    for source in root.rglob("*.py") if code else ():
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                msgids.add(node.args[0].value)
    return msgids


@pytest.mark.parametrize(
    ("msgids", "package", "code"),
    [
        (third_party_strings.DJANGO_ADMIN_MSGIDS, django, False),
        (third_party_strings.ALLAUTH_ADMIN_MSGIDS, allauth, False),
        (third_party_strings.CELERY_BEAT_MSGIDS, django_celery_beat, True),
        (third_party_strings.API_KEY_MSGIDS, rest_framework_api_key, True),
    ],
)
def test_third_party_overrides_name_real_msgids(msgids, package, code):
    """A typo would override nothing: each listed msgid is the library's own."""
    known = _library_msgids(package, code=code)
    listed = [msgid if isinstance(msgid, str) else msgid._kw["singular"] for msgid in msgids]  # ngettext_lazy
    assert [msgid for msgid in listed if msgid not in known] == []
