import logging
import time

from celery import shared_task
from django.conf import settings

from . import pulling

logger = logging.getLogger(__name__)


@shared_task
def pull_runs_schedule_task() -> None:
    pulling.pull_runs_schedule()


@shared_task
def pull_runs_recover_task() -> None:
    pulling.pull_runs_recover()


# acks_late: a run whose worker died is delivered again; it waits for the dead attempt's lease to run out,
# then takes the run over (the claim in pull_run_execute keeps it single).
# The time limits are the run's own: a large window takes longer than the portal's other tasks.
@shared_task(
    bind=True,
    max_retries=settings.MONITORING_PULL_RETRIES,
    acks_late=True,
    soft_time_limit=pulling.run_time_limits()[0],
    time_limit=pulling.run_time_limits()[1],
)
def pull_run_execute_task(self, run_id: int) -> None:
    waited_until = time.monotonic() + pulling.run_time_limits()[1]
    while True:
        try:
            pulling.pull_run_execute(run_id=run_id)
            return
        except pulling.PullBusy:
            logger.info("Pull run %s waits: it or another run of its system is running", run_id)
            if not self.request.is_eager:
                # A new message, not a retry: waiting for a live attempt uses none of this run's attempts.
                pull_run_execute_task.apply_async((run_id,), countdown=settings.MONITORING_PULL_BUSY_DELAY)
                return
            # In-process (no broker: the embedded setup) the other run is in another request: wait here.
            if time.monotonic() > waited_until:
                return
            time.sleep(settings.MONITORING_PULL_BUSY_DELAY)
        except pulling.PullRetry as retry:
            if not self.request.is_eager:
                raise self.retry(countdown=retry.countdown) from retry
            # In-process tasks (no broker: development, tests) cannot be delayed: the next attempt runs now.
