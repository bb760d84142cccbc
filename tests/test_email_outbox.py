from datetime import timedelta

import pytest
from django.conf import settings as settings_module
from django.core import mail
from django.db import transaction
from django.utils import timezone

from ehealth_portal import services
from ehealth_portal.models import Email
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db


def test_a_queued_email_is_sent_only_after_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        email = services.email_queue(to="Head@Clinic.UA", subject="Запрошення", text_body="Посилання")
        assert mail.outbox == []
    assert len(callbacks) == 1
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert email.to == "head@clinic.ua"
    assert [m.to for m in mail.outbox] == [["head@clinic.ua"]]


def test_a_rolled_back_transaction_sends_nothing_and_stores_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.email_queue(to="a@b.ua", subject="s", text_body="t")
        raise RuntimeError("the caller failed")
    assert callbacks == []
    assert Email.objects.count() == 0
    assert mail.outbox == []


def test_sending_twice_delivers_once():
    email = Email.objects.create(to="a@b.ua", subject="s", text_body="t")
    services.email_send(email_id=email.pk)
    services.email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mail.outbox)) == (Email.Status.SENT, 1, 1)


def test_a_refused_connection_keeps_the_message_for_a_retry_then_marks_it_failed(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    email = Email.objects.create(to="a@b.ua", subject="s", text_body="t")
    for attempt in range(1, services.MAX_EMAIL_ATTEMPTS + 1):
        with pytest.raises(OSError):
            services.email_send(email_id=email.pk)
        email.refresh_from_db()
        assert email.attempts == attempt
        assert email.last_error
    assert email.status == Email.Status.FAILED


def test_messages_whose_task_was_lost_are_picked_up_again():
    stale = Email.objects.create(
        to="a@b.ua", subject="s", text_body="t", created_at=timezone.now() - timedelta(hours=1)
    )
    Email.objects.create(to="b@b.ua", subject="s", text_body="t")
    Email.objects.create(
        to="c@b.ua",
        subject="s",
        text_body="t",
        status=Email.Status.SENT,
        created_at=timezone.now() - timedelta(hours=1),
    )
    assert services.email_pending_ids() == [stale.pk]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_queued_email(real_worker):
    with transaction.atomic():
        email = services.email_queue(to="worker@clinic.ua", subject="Перевірка", text_body="Текст")
    sent = wait_for(lambda: Email.objects.filter(pk=email.pk, status=Email.Status.SENT).first())
    assert sent.attempts == 1
    assert sent.sent_at is not None


def _aged(hours: float, **fields) -> Email:
    return Email.objects.create(
        to="a@b.ua", subject="s", created_at=timezone.now() - timedelta(hours=hours), **fields
    )


def test_finished_messages_lose_their_tokens_only_after_the_retention_period(settings):
    settings.EMAIL_BODY_RETENTION_HOURS = 24
    link = "https://portal.ehealth.example/invite/Secret-Token_1/"
    old_sent = _aged(
        25, text_body=f"Посилання: {link}", html_body=f'<a href="{link}">', status=Email.Status.SENT
    )
    old_failed = _aged(25, text_body=link, status=Email.Status.FAILED)
    recent_sent = _aged(23, text_body=link, status=Email.Status.SENT)
    old_pending = _aged(25, text_body=link)

    assert services.email_bodies_redact() == 2

    old_sent.refresh_from_db()
    assert old_sent.text_body == "Посилання: https://portal.ehealth.example/invite/[redacted]/"
    assert old_sent.html_body == '<a href="https://portal.ehealth.example/invite/[redacted]/">'
    assert (old_sent.to, old_sent.subject, old_sent.status) == ("a@b.ua", "s", Email.Status.SENT)
    assert old_sent.body_redacted_at is not None
    assert "Secret-Token_1" not in Email.objects.get(pk=old_failed.pk).text_body
    # A developer can still open a recent link; a message not sent yet goes out with a working link.
    assert Email.objects.get(pk=recent_sent.pk).text_body == link
    services.email_send(email_id=old_pending.pk)
    assert mail.outbox[-1].body == link


def test_the_purge_is_idempotent(settings):
    settings.EMAIL_BODY_RETENTION_HOURS = 24
    email = _aged(25, text_body="/invite/Secret-Token_1/", status=Email.Status.SENT)
    services.email_bodies_redact()
    first = Email.objects.get(pk=email.pk)
    assert services.email_bodies_redact() == 0
    second = Email.objects.get(pk=email.pk)
    assert (second.text_body, second.body_redacted_at) == (first.text_body, first.body_redacted_at)


def test_the_purge_runs_hourly():
    [entry] = [
        e for e in settings_module.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("email_bodies_redact")
    ]
    assert entry == {"task": "ehealth_portal.tasks.email_bodies_redact", "schedule": 3600.0}
