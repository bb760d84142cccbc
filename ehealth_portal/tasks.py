from celery import shared_task

from . import services


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, max_retries=4)
def email_send(email_id: int) -> None:
    services.email_send(email_id=email_id)


@shared_task
def email_send_pending() -> None:
    for email_id in services.email_pending_ids():
        email_send.delay(email_id)


@shared_task
def email_bodies_redact() -> None:
    services.email_bodies_redact()
