"""Tasks of SMS: deliver one message (retried with backoff), the beat sweeps of lost and finished ones."""

from celery import shared_task

from ..services import otp

__all__ = ["sms_bodies_redact_task", "sms_send_pending_task", "sms_send_task"]


# A code lives 15 minutes: retries come within minutes (about 10, 20, 40, 80 s), not the email's half hour.
@shared_task(
    name="declarations.tasks.sms_send_task",
    autoretry_for=(OSError,),
    retry_backoff=10,
    retry_backoff_max=120,
    max_retries=otp.MAX_SMS_ATTEMPTS - 1,
)
def sms_send_task(sms_id: int) -> None:
    otp.sms_send(sms_id=sms_id)


@shared_task(name="declarations.tasks.sms_send_pending_task")
def sms_send_pending_task() -> None:
    for sms_id in otp.sms_pending_ids():
        sms_send_task.delay(sms_id)


@shared_task(name="declarations.tasks.sms_bodies_redact_task")
def sms_bodies_redact_task() -> None:
    otp.sms_bodies_redact()
