"""Without a mail server an email is one console line: in development with the link to that message in
the outbox, in production a note that it was not delivered (never the body: its links hold tokens)."""

import logging

import pytest
from django.core import mail

from ehealth_portal.models import Email
from ehealth_portal.services import email_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_backend(settings):
    settings.EMAIL_BACKEND = "ehealth_portal.email_backends.OutboxLogBackend"
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000/"


def _lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "ehealth_portal.email"]


def test_in_development_an_email_is_one_line_with_its_outbox_link(
    log_backend, settings, caplog, django_capture_on_commit_callbacks
):
    settings.DEV_OUTBOX_ENABLED = True
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        email = email_queue(
            to="head@clinic.ua", subject="Вашу заяву отримано", text_body="Посилання: /invite/secret-token/"
        )
    assert _lines(caplog) == [
        f"Email to head@clinic.ua: 'Вашу заяву отримано', read it at http://127.0.0.1:8000/dev/outbox/{email.pk}/"
    ]
    assert Email.objects.get(pk=email.pk).status == Email.Status.SENT  # kept in the outbox, marked sent
    assert mail.outbox == []


def test_in_production_without_a_mail_server_the_line_says_it_was_not_delivered(
    log_backend, settings, caplog, django_capture_on_commit_callbacks
):
    settings.DEV_OUTBOX_ENABLED = False
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        email_queue(to="head@clinic.ua", subject="Запрошення", text_body="/invite/secret-token/")
    [line] = _lines(caplog)
    assert (
        line == "Email to head@clinic.ua: 'Запрошення' not delivered (no EMAIL_URL), kept in the outbox table"
    )
