"""Secret tokens of links (invitations, status pages, password resets) stay out of the logs, the
admin and, after the retention period, the stored outbox; a patient's identifiers in a URL's query string
(eHealth's person search) stay out of the logs."""

import io
import logging
import re
import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from ehealth_portal import tasks
from ehealth_portal.models import Email
from ehealth_portal.redaction import RedactTokensFilter, redact_log_text, redact_token_urls
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET_PARAMETERS = {"token", "key"}  # URL parameters that carry a secret


@pytest.fixture
def log_output():
    """What the configured console handler writes, after its filters, at the configured levels."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def runserver_access_log(path: str, status: int) -> None:
    """The access-log line of the development server for a request, written by Django's own code."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # no socket: only its logging is used
    handler.request = None
    handler.log_message('"%s" %s %s', f"GET {path} HTTP/1.1", str(status), "0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://portal.ehealth.example/invite/AbC-12_x/ тут",
            "https://portal.ehealth.example/invite/[redacted]/ тут",
        ),
        ("Not Found: /register/status/AbC-12_x/", "Not Found: /register/status/[redacted]/"),
        (
            '"GET /register/?correct=AbC-12_x&x=1 HTTP/1.1" 404',
            '"GET /register/?correct=[redacted]&x=1 HTTP/1.1" 404',
        ),
        ("/accounts/password/reset/key/3-c5a2f-9e1b/", "/accounts/password/reset/key/[redacted]/"),
        ("/accounts/confirm-email/MQ:1u2:ab_c/", "/accounts/confirm-email/[redacted]/"),
        ('<a href="/invite/AbC-12_x/">', '<a href="/invite/[redacted]/">'),
        # Links without a secret stay as they are.
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        (
            "/register/facility/ /facilities/5e7d/ /cabinet/",
            "/register/facility/ /facilities/5e7d/ /cabinet/",
        ),
    ],
)
def test_the_token_of_a_link_is_redacted_and_nothing_else(text, expected):
    assert redact_token_urls(text) == expected


def _named_patterns(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern.url_patterns, inner)
        elif pattern.name:
            yield namespace + pattern.name, set(pattern.pattern.regex.groupindex)


def test_every_url_with_a_token_is_redacted():
    """A new URL carrying a token (`<token>`, `<key>`) fails here until the redaction knows it."""
    secret = "S3cretT0ken"
    covered = []
    for name, parameters in _named_patterns(get_resolver().url_patterns):
        if parameters & SECRET_PARAMETERS:
            url = reverse(name, kwargs={p: secret if p in SECRET_PARAMETERS else "1" for p in parameters})
            assert secret not in redact_token_urls(f"Not Found: {url}"), url
            covered.append(name)
    assert {"registry:invitation", "registry:application-status", "account_reset_password_from_key"} <= set(
        covered
    )


def test_tokens_stay_out_of_the_logs_the_admin_and_the_stored_outbox(
    client, admin_client, django_capture_on_commit_callbacks, log_output, settings
):
    from ehealth_portal.services import email_queue

    token = secrets.token_urlsafe(32)
    invitation = reverse("registry:invitation", args=[token])
    status = reverse("registry:application-status", args=[token])
    correct = f"{reverse('registry:register')}?correct={token}"
    with django_capture_on_commit_callbacks(execute=True):
        email = email_queue(
            to="head@clinic.ua",
            subject="Запрошення",
            text_body=f"Пароль: {settings.PORTAL_BASE_URL}{invitation}\nСтатус: {settings.PORTAL_BASE_URL}{status}",
            html_body=f'<a href="{settings.PORTAL_BASE_URL}{invitation}">Запрошення</a>',
        )
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": user.email})
    reset = re.search(r"(/accounts/password/reset/key/(\S+)/)", mail.outbox[-1].body)
    reset_path, reset_key = reset[1], reset[2]
    assert Email.objects.filter(status=Email.Status.SENT).count() == 2

    # Used, expired or unknown links are refused, and the refusals are logged (as in production).
    assert client.get(invitation).status_code == 404
    assert client.post(invitation, {"password1": "x", "password2": "x"}).status_code == 404
    assert client.get(status).status_code == 404
    assert client.get(correct).status_code == 404
    assert client.get(reset_path).status_code == 302
    for path, code in [(invitation, 404), (status, 404), (correct, 404), (reset_path, 302)]:
        runserver_access_log(path, code)

    logged = log_output.getvalue()
    assert "WARNING django.request Not Found: /invite/[redacted]/" in logged
    assert "WARNING django.request Not Found: /register/status/[redacted]/" in logged
    assert '"GET /register/?correct=[redacted] HTTP/1.1" 404' in logged
    assert '"GET /accounts/password/reset/key/[redacted]/ HTTP/1.1" 302' in logged
    assert token not in logged
    assert reset_key not in logged

    # Within the retention period the outbox keeps working links (development reads them at
    # /dev/outbox/), but the admin never shows them.
    assert token in Email.objects.get(pk=email.pk).text_body
    page = admin_client.get(reverse("admin:portal_email_change", args=[email.pk])).content.decode()
    assert "/invite/[redacted]/" in page and "/register/status/[redacted]/" in page
    assert token not in page

    # After it, the hourly job leaves no token in the database; the audit data stays.
    Email.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.EMAIL_BODY_RETENTION_HOURS, minutes=1)
    )
    tasks.email_bodies_redact.delay()
    database = io.StringIO()
    call_command("dumpdata", stdout=database)
    assert token not in database.getvalue()
    assert reset_key not in database.getvalue()
    stored = Email.objects.get(pk=email.pk)
    assert (stored.to, stored.subject, stored.status) == ("head@clinic.ua", "Запрошення", Email.Status.SENT)
    assert stored.sent_at and stored.body_redacted_at
    assert f"{settings.PORTAL_BASE_URL}/invite/[redacted]/" in stored.text_body
    page = admin_client.get(reverse("admin:portal_email_change", args=[email.pk])).content.decode()
    assert token not in page


def test_without_a_mail_server_a_message_is_one_log_line_without_its_links(
    django_capture_on_commit_callbacks, log_output, settings
):
    from ehealth_portal.services import email_queue

    settings.EMAIL_BACKEND = "ehealth_portal.email_backends.OutboxLogBackend"
    token = secrets.token_urlsafe(32)
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(to="head@clinic.ua", subject="Запрошення", text_body=f"/invite/{token}/")
    logged = log_output.getvalue()
    assert "INFO ehealth_portal.email Email to head@clinic.ua: 'Запрошення'" in logged
    assert token not in logged
    assert mail.outbox == []


# --- A patient's identifiers in a query string -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '"GET /api/persons?first_name=Петро&last_name=Іваненко&birth_date=1990-04-12&tax_id=3301234567 '
            'HTTP/1.1" 200',
            '"GET /api/persons?first_name=Петро&last_name=Іваненко&birth_date=1990-04-12&tax_id=[redacted] '
            'HTTP/1.1" 200',
        ),
        (
            "/api/persons?phone_number=%2B380671112233&birth_certificate=І-КВ%20123456&x=1",
            "/api/persons?phone_number=[redacted]&birth_certificate=[redacted]&x=1",
        ),
        (
            "/cabinet/patients/?document_number=КВ123456#top",
            "/cabinet/patients/?document_number=[redacted]#top",
        ),
        ('<a href="/x/?a=1&amp;TAX_ID=3301234567">', '<a href="/x/?a=1&amp;TAX_ID=[redacted]">'),
        # A name that only ends like one, an empty value, the words outside a query: as they are.
        ("/api/x?old_tax_id=1&tax_id=&y=2", "/api/x?old_tax_id=1&tax_id=&y=2"),
        ("tax_id=3301234567 phone_number", "tax_id=3301234567 phone_number"),
    ],
)
def test_a_patients_identifiers_in_a_query_are_redacted_from_log_text(text, expected):
    assert redact_log_text(text) == expected


def test_the_person_search_leaves_no_identifier_in_the_logs(client, log_output):
    """The development server's access log (through the configured handler) and gunicorn's, whose line
    is formatted from a dict of atoms (gunicorn.conf.py sets the same filter on it)."""
    identifiers = {"tax_id": "3301234567", "phone_number": "+380671112233", "birth_certificate": "І-КВ123456"}
    query = "first_name=Петро&last_name=Іваненко&birth_date=1990-04-12&" + "&".join(
        f"{name}={value}" for name, value in identifiers.items()
    )
    client.force_login(UserFactory())  # works nowhere: refused, and logged all the same
    status = client.get(f"/api/persons?{query}").status_code
    runserver_access_log(f"/api/persons?{query}", status)
    logged = log_output.getvalue()
    assert (
        '"GET /api/persons?first_name=Петро&last_name=Іваненко&birth_date=1990-04-12&tax_id=[redacted]'
        in logged
    )
    for value in identifiers.values():
        assert value not in logged

    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', None, None
    )
    record.args = {"h": "10.0.0.1", "r": f"GET /api/persons?{query} HTTP/1.1", "s": "200"}
    assert RedactTokensFilter().filter(record)
    for value in identifiers.values():
        assert value not in record.getMessage()
    assert "birth_certificate=[redacted] HTTP/1.1" in record.getMessage()
