"""SMS: stored first, sent by a task after commit through the configured backend (the development outbox or an
HTTP gateway, here a real local HTTP server), retried, swept, and the code redacted after the retention;
the code never reaches a log line. The development page /dev/outbox/sms/ shows the messages."""

import contextlib
import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as settings_module
from django.db import transaction
from django.urls import clear_url_caches, include, path
from django.utils import timezone

from declarations import sms as sms_module
from declarations.models import SmsMessage
from declarations.services import otp
from declarations.tasks import sms_bodies_redact_task, sms_send_pending_task, sms_send_task
from ehealth_portal import urls as portal_urls
from ehealth_portal import views as portal_views
from ehealth_portal.celery import app as celery_app

pytestmark = pytest.mark.django_db

PHONE = "+380501234567"
BODY = "Код авторизації дій в системі eHealth: 4821"


# --- A gateway on loopback -----------------------------------------------------------------------------


class Gateway:
    """A real HTTP server in a thread: answers each POST with the next scripted status (then 200) and
    keeps what it was sent."""

    def __init__(self):
        self.statuses: list[int] = []
        self.delay = 0.0
        self.received: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                )
                time.sleep(gateway.delay)
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                with contextlib.suppress(ConnectionError):  # a client that timed out has gone
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"status": "queued"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    with Gateway() as gateway:
        settings.SMS_BACKEND = "declarations.sms.HttpSmsBackend"
        settings.SMS_GATEWAY_URL = gateway.url
        settings.SMS_GATEWAY_TOKEN = "gateway-token-123"
        yield gateway


@pytest.fixture
def retries_in_process():
    """Celery's retries run in the test's process, one after another (their countdown skipped), as
    `apply()` does when task errors are not propagated."""
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = propagates


def stored(sms: SmsMessage) -> SmsMessage:
    return SmsMessage.objects.get(pk=sms.pk)


def log_text(caplog) -> str:
    return "\n".join(
        [record.getMessage() for record in caplog.records]
        + [record.exc_text or "" for record in caplog.records]
    )


# --- Queueing ------------------------------------------------------------------------------------------


def test_an_sms_is_sent_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        sms = otp.sms_queue(phone_number=PHONE, body=BODY)
        assert stored(sms).status == SmsMessage.Status.PENDING
    assert len(callbacks) == 1
    sent = stored(sms)
    assert (sent.status, sent.attempts, sent.body) == (SmsMessage.Status.SENT, 1, BODY)
    assert sent.sent_at is not None


def test_a_rolled_back_transaction_sends_and_stores_nothing(django_capture_on_commit_callbacks, gateway):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        otp.verification_start(phone_number=PHONE)
        raise RuntimeError("the caller failed")
    assert callbacks == []
    assert SmsMessage.objects.count() == 0
    assert gateway.received == []


def test_the_outbox_backend_keeps_the_message_and_logs_only_its_id(settings, caplog):
    settings.SMS_BACKEND = "declarations.sms.OutboxSmsBackend"
    settings.DEV_OUTBOX_ENABLED, settings.PORTAL_BASE_URL = True, "http://127.0.0.1:8000/"
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    with caplog.at_level(logging.DEBUG):
        otp.sms_send(sms_id=sms.pk)
    assert stored(sms).status == SmsMessage.Status.SENT
    lines = [r.getMessage() for r in caplog.records if r.name == "declarations.sms"]
    assert lines == [f"SMS {sms.pk} kept in the outbox, read it at http://127.0.0.1:8000/dev/outbox/sms/"]
    assert "4821" not in log_text(caplog) and PHONE not in log_text(caplog)

    settings.DEV_OUTBOX_ENABLED = False
    caplog.clear()
    other = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    with caplog.at_level(logging.INFO):
        otp.sms_send(sms_id=other.pk)
    assert [r.getMessage() for r in caplog.records if r.name == "declarations.sms"] == [
        f"SMS {other.pk} not delivered (no SMS_GATEWAY_URL), kept in the outbox table"
    ]


def test_sending_twice_delivers_once(gateway):
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    otp.sms_send(sms_id=sms.pk)
    otp.sms_send(sms_id=sms.pk)
    assert (stored(sms).status, stored(sms).attempts, len(gateway.received)) == (SmsMessage.Status.SENT, 1, 1)


# --- The HTTP gateway ----------------------------------------------------------------------------------


def test_the_http_backend_posts_json_with_the_bearer_token(gateway, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sms = otp.sms_queue(phone_number=PHONE, body=BODY)

    [request] = gateway.received
    assert request["path"] == "/sms/send"
    assert request["json"] == {"phone_number": PHONE, "body": BODY}
    assert request["headers"]["Authorization"] == "Bearer gateway-token-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert stored(sms).status == SmsMessage.Status.SENT


def test_a_gateway_error_is_retried_by_the_task_and_then_delivered(gateway, caplog, retries_in_process):
    gateway.statuses = [500, 503]
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)

    with caplog.at_level(logging.INFO):
        sms_send_task.delay(sms.pk)  # in-process: Celery runs the retries at once

    sent = stored(sms)
    assert (sent.status, sent.attempts, sent.last_error) == (SmsMessage.Status.SENT, 3, "")
    assert len(gateway.received) == 3
    assert all(r["json"]["body"] == BODY for r in gateway.received)
    assert "4821" not in log_text(caplog)
    assert f"SMS {sms.pk} not delivered (attempt 1): the SMS gateway answered HTTP 500" in log_text(caplog)


def test_a_gateway_that_keeps_failing_fails_the_message_after_five_attempts(gateway, retries_in_process):
    gateway.statuses = [500] * 10
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)

    result = sms_send_task.delay(sms.pk)

    assert result.state == "FAILURE" and "HTTP 500" in str(result.result)

    failed = stored(sms)
    assert (failed.status, failed.attempts) == (SmsMessage.Status.FAILED, otp.MAX_SMS_ATTEMPTS)
    assert failed.last_error == "the SMS gateway answered HTTP 500"
    assert len(gateway.received) == otp.MAX_SMS_ATTEMPTS


@pytest.mark.parametrize("status", [400, 401, 302])
def test_any_answer_but_2xx_is_a_failure(gateway, status):
    gateway.statuses = [status]
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    with pytest.raises(sms_module.SmsDeliveryError, match=f"HTTP {status}"):
        otp.sms_send(sms_id=sms.pk)
    kept = stored(sms)
    assert (kept.status, kept.attempts) == (SmsMessage.Status.PENDING, 1)  # left for the retry


def test_a_gateway_that_does_not_answer_times_out(gateway, monkeypatch):
    monkeypatch.setattr(sms_module.HttpSmsBackend, "timeout", 0.3)
    gateway.delay = 1.5
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    started = time.monotonic()
    with pytest.raises(OSError, match="did not answer|timed out"):
        otp.sms_send(sms_id=sms.pk)
    assert time.monotonic() - started < 1.5
    assert stored(sms).status == SmsMessage.Status.PENDING


def test_a_refused_connection_is_a_retryable_failure(settings):
    settings.SMS_BACKEND = "declarations.sms.HttpSmsBackend"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # discard port: nothing listens
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    with pytest.raises(OSError, match="unreachable"):
        otp.sms_send(sms_id=sms.pk)
    assert stored(sms).last_error.startswith("the SMS gateway is unreachable")


def test_a_message_whose_code_is_no_longer_valid_is_not_sent(gateway):
    sms = SmsMessage.objects.create(phone_number=PHONE, body=BODY)
    SmsMessage.objects.filter(pk=sms.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    otp.sms_send(sms_id=sms.pk)
    failed = stored(sms)
    assert (failed.status, failed.attempts, gateway.received) == (SmsMessage.Status.FAILED, 0, [])


# --- The sweeps ----------------------------------------------------------------------------------------


def _aged(minutes: float, **fields) -> SmsMessage:
    sms = SmsMessage.objects.create(phone_number=PHONE, body=fields.pop("body", BODY), **fields)
    SmsMessage.objects.filter(pk=sms.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return stored(sms)


def test_messages_whose_task_was_lost_are_sent_by_the_sweep(gateway):
    lost = _aged(6)
    recent = _aged(1)  # its task may still be on its way
    _aged(6, status=SmsMessage.Status.SENT)
    assert otp.sms_pending_ids() == [lost.pk]

    sms_send_pending_task.delay()

    assert stored(lost).status == SmsMessage.Status.SENT
    assert stored(recent).status == SmsMessage.Status.PENDING
    assert [r["json"]["phone_number"] for r in gateway.received] == [PHONE]


def test_finished_messages_lose_their_code_only_after_the_retention_period(settings):
    settings.SMS_BODY_RETENTION_HOURS = 1
    old_sent = _aged(61, status=SmsMessage.Status.SENT)
    old_failed = _aged(61, status=SmsMessage.Status.FAILED)
    recent_sent = _aged(59, status=SmsMessage.Status.SENT)
    old_pending = _aged(61)

    sms_bodies_redact_task.delay()

    for sms in (old_sent, old_failed):
        redacted = stored(sms)
        assert redacted.body == "Код авторизації дій в системі eHealth: [redacted]"
        assert (redacted.phone_number, redacted.status) == (PHONE, sms.status)
        assert redacted.body_redacted_at is not None
    assert stored(recent_sent).body == BODY  # a developer can still read a recent code
    assert stored(old_pending).body == BODY  # a message not sent yet keeps its code
    assert otp.sms_bodies_redact() == 0  # idempotent


def test_the_purge_goes_through_every_batch(settings):
    settings.SMS_BODY_RETENTION_HOURS = 1
    messages = [_aged(61, status=SmsMessage.Status.SENT) for _ in range(5)]
    assert otp.sms_bodies_redact(batch_size=2) == 5
    assert all(stored(sms).body.endswith("[redacted]") for sms in messages)


def test_retries_come_within_a_codes_validity():
    assert sms_send_task.autoretry_for == (OSError,)
    assert sms_send_task.max_retries == otp.MAX_SMS_ATTEMPTS - 1
    assert sms_send_task.retry_backoff == 10 and sms_send_task.retry_backoff_max == 120


def test_the_sms_sweeps_are_scheduled():
    schedule = {entry["task"]: entry["schedule"] for entry in settings_module.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["declarations.tasks.sms_send_pending_task"] == 300.0
    assert schedule["declarations.tasks.sms_bodies_redact_task"] == 3600.0
    assert sms_send_pending_task.name == "declarations.tasks.sms_send_pending_task"
    assert sms_bodies_redact_task.name == "declarations.tasks.sms_bodies_redact_task"


def test_starting_a_verification_never_logs_the_code(
    gateway, caplog, django_capture_on_commit_callbacks, retries_in_process
):
    gateway.statuses = [500]
    with caplog.at_level(logging.DEBUG), django_capture_on_commit_callbacks(execute=True):
        otp.verification_start(phone_number=PHONE)
    body = SmsMessage.objects.get().body
    code = body[-4:]
    assert gateway.received[-1]["json"]["body"] == body
    assert caplog.records, "the start and the delivery are logged (by id)"
    assert code not in log_text(caplog)
    assert PHONE not in log_text(caplog)


# --- The development outbox page -------------------------------------------------------------------------

# This module is the URLconf of the page tests: the portal's URLs as DEV_OUTBOX_ENABLED mounts them (the
# portal reads the setting once, at import).
urlpatterns = [
    path("dev/outbox/", portal_views.dev_outbox, name="dev-outbox"),
    path("dev/outbox/<int:email_id>/", portal_views.dev_outbox_message, name="dev-outbox-message"),
    path("", include(("declarations.views.dev", "declarations"))),
    *[p for p in portal_urls.urlpatterns if getattr(p, "namespace", None) != "declarations"],
]


@pytest.fixture
def dev_outbox(settings):
    settings.DEV_OUTBOX_ENABLED = True
    settings.ROOT_URLCONF = __name__
    clear_url_caches()
    yield
    clear_url_caches()


def test_the_sms_outbox_page_lists_recent_messages_with_their_text(dev_outbox, client):
    older = _aged(30, status=SmsMessage.Status.SENT)
    newer = SmsMessage.objects.create(
        phone_number="+380671112233", body="Код авторизації дій в системі eHealth: 0071"
    )

    page = client.get("/dev/outbox/sms/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Вихідні SMS" in html
    assert html.index("0071") < html.index("4821")  # newest first
    assert "+380671112233" in html and PHONE in html
    assert older.get_status_display() in html and newer.get_status_display() in html


def test_the_email_outbox_links_to_the_sms_outbox(dev_outbox, client):
    html = client.get("/dev/outbox/").content.decode()
    assert 'href="/dev/outbox/sms/"' in html


def test_without_the_development_outbox_there_is_no_sms_page(client):
    assert not settings_module.DEV_OUTBOX_ENABLED
    assert client.get("/dev/outbox/sms/").status_code == 404
