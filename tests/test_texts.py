"""Wording of the Ukrainian texts: one term for a registration application ("заява"), emails that greet
rather than congratulate, and Django's own strings corrected where their grammar is wrong."""

import re
from pathlib import Path
from types import SimpleNamespace

import django
from django.contrib.auth.password_validation import NumericPasswordValidator
from django.template.loader import render_to_string
from django.utils import translation

from ehealth_portal.third_party_strings import DJANGO_MSGIDS
from tests.test_i18n import UK_PO, parse_po

DJANGO_AUTH_UK_PO = (
    Path(django.__file__).parent / "contrib" / "auth" / "locale" / "uk" / "LC_MESSAGES" / "django.po"
)
# "заявка" in any case form; the portal's term is "заява".
ZAIAVKA = re.compile(r"заяв(?:к|ц|ок)", re.IGNORECASE)


def test_overrides_name_real_django_messages():
    """ehealth_portal/third_party_strings.py re-translates Django's msgids: a typo there would override nothing."""
    django_msgids = {entry["msgid"] for entry in parse_po(DJANGO_AUTH_UK_PO)}
    assert DJANGO_MSGIDS
    assert [msgid for msgid in DJANGO_MSGIDS if msgid not in django_msgids] == []


def test_the_numeric_password_rule_reads_correctly():
    with translation.override("uk"):
        assert NumericPasswordValidator().get_help_text() == "Пароль не може складатися лише із цифр."


def test_a_registration_application_is_called_zaiava_everywhere():
    wrong = [
        (entry["msgid"], text)
        for entry in parse_po(UK_PO)[1:]
        for text in entry["msgstr"].values()
        if ZAIAVKA.search(text)
    ]
    assert wrong == [], "the portal says «заява», not «заявка»"


def _application():
    return SimpleNamespace(name="КНП «Демо»", edrpou="38782323")


def test_emails_greet_instead_of_congratulating():
    """ "Вітаємо!" reads as congratulations, which a rejection is not."""
    cnap = SimpleNamespace(code="1001", name="ЦНАП")
    emails = {
        "registry/emails/application_rejected.txt": {
            "application": _application(),
            "reasons": [{"message": "КВЕД 86.21 не вказано."}],
            "status_url": "http://portal/status/",
        },
        "registry/emails/application_submitted.txt": {"application": _application(), "status_url": "x"},
        "monitoring/emails/joining_rejected.txt": {
            "application": SimpleNamespace(cnap=cnap, pk=7, decision_comment="Не той орган.")
        },
        "account/email/base_message.txt": {},
    }
    with translation.override("uk"):
        for template, context in emails.items():
            text = render_to_string(template, context)
            assert text.startswith("Добрий день!\n"), template
            assert "Вітаємо" not in text, template
            assert not ZAIAVKA.search(text), template
