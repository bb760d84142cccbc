from celery import shared_task
from django.db import OperationalError

from . import services


# Only a lost database connection is worth retrying: the checks themselves are deterministic.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=10, retry_backoff_max=600, max_retries=5)
def registration_application_check_task(application_id: str) -> None:
    services.registration_application_check(application_id=application_id)


@shared_task
def registration_applications_resume_task() -> None:
    services.registration_applications_resume()


@shared_task
def employee_requests_expire_task() -> None:
    services.employee_request_expire()
