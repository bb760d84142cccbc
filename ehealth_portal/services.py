"""Project-wide writes: the email outbox."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from .models import Email
from .redaction import redact_token_urls
from .tasking import enqueue_on_commit

MAX_EMAIL_ATTEMPTS = 5


def email_queue(*, to: str, subject: str, text_body: str, html_body: str = "", created_by=None) -> Email:
    """Store a message and send it by a task once the surrounding transaction commits."""
    from .tasks import email_send  # tasks import services; the cycle is broken here only

    email = Email.objects.create(
        to=to.strip().lower(),
        subject=" ".join(subject.split())[:255],
        text_body=text_body,
        html_body=html_body,
        created_by=created_by,
    )
    enqueue_on_commit(email_send, email.pk)
    return email


def email_send(*, email_id: int) -> Email:
    """Deliver one pending message. Idempotent: a sent or failed message is left as it is.

    A delivery error is recorded (attempts, last error) and then raised, so the task can retry.
    """
    with transaction.atomic():
        email = Email.objects.select_for_update().get(pk=email_id)
        if email.status != Email.Status.PENDING:
            return email
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.text_body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to]
        )
        message.outbox_id = email.pk  # not a header: only the log backend's /dev/outbox/<id>/ link reads it
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        email.attempts += 1
        try:
            message.send()
        except OSError as error:  # SMTP and socket errors
            failure = error
            email.last_error = str(error)[:2000]
            if email.attempts >= MAX_EMAIL_ATTEMPTS:
                email.status = Email.Status.FAILED
        else:
            failure = None
            email.status = Email.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    if failure:
        raise failure
    return email


def email_pending_ids(*, older_than: timedelta = timedelta(minutes=5)) -> list[int]:
    """Messages whose task was lost (a worker died, the broker was down) and should be sent again."""
    cutoff = timezone.now() - older_than
    return list(
        Email.objects.filter(status=Email.Status.PENDING, created_at__lt=cutoff).values_list("pk", flat=True)[
            :500
        ]
    )


def email_bodies_redact(*, batch_size: int = 500) -> int:
    """Remove the tokens from the links of sent and failed messages past EMAIL_BODY_RETENTION_HOURS.

    Recipient, subject, status and times stay for the audit; pending messages are never touched (they
    must go out with working links). Idempotent: a redacted message is marked and not selected again.
    """
    cutoff = timezone.now() - timedelta(hours=settings.EMAIL_BODY_RETENTION_HOURS)
    due = Email.objects.filter(
        status__in=[Email.Status.SENT, Email.Status.FAILED],
        created_at__lt=cutoff,
        body_redacted_at__isnull=True,
    ).order_by("pk")
    redacted = 0
    while True:
        with transaction.atomic():
            batch = list(due.select_for_update(skip_locked=True).only("text_body", "html_body")[:batch_size])
            now = timezone.now()
            for email in batch:
                email.text_body = redact_token_urls(email.text_body)
                email.html_body = redact_token_urls(email.html_body)
                email.body_redacted_at = now
            Email.objects.bulk_update(batch, ["text_body", "html_body", "body_redacted_at"])
        redacted += len(batch)
        if len(batch) < batch_size:
            return redacted
