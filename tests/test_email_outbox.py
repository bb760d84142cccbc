from datetime import timedelta

import pytest
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
