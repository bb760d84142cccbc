"""Pull runs: requesting, scheduling and executing pulls of CNAP systems' appeals, and connection tests.

A run fetches its window page by page; each page is ingested and counted in its own transaction, so
a failure on page 3 keeps pages 1-2 and a later pull (re-asking the same window) completes the rest.
Network errors, timeouts, 429 and 5xx are retried with backoff; anything else fails the run at once.
"""

import contextlib
import datetime
import logging
import threading

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ehealth_portal import encryption
from ehealth_portal.models import User
from ehealth_portal.services import email_queue
from ehealth_portal.tasking import enqueue_on_commit

from .client import PullError, fetch_pages
from .models import CnapSystem, PullRun

logger = logging.getLogger(__name__)

MAX_RUN_DAYS = 31  # the contract caps one request's range
MAX_REPULL_DAYS = 366  # one request of an operator: a year of runs at most
ACTIVE_STATUSES = (PullRun.Status.QUEUED, PullRun.Status.RUNNING, PullRun.Status.RETRYING)


def run_time_limits() -> tuple[int, int]:
    """(soft, hard) seconds one attempt of a run may take: the soft limit fails it as a timeout."""
    soft = settings.MONITORING_PULL_RUN_TIME_LIMIT
    return soft, soft + 60


class PullBusy(Exception):
    """Another run of the same system is running: this one waits (the task queues it again later)."""

    def __init__(self, run_id: int):
        super().__init__(f"pull run {run_id}: another run of its system is running")
        self.run_id = run_id


class LeaseLost(Exception):
    """Another worker has taken the run over (this attempt's lease ran out): this attempt stops."""

    def __init__(self, run_id: int):
        super().__init__(f"pull run {run_id}: taken over by another worker")
        self.run_id = run_id


class PullRetry(Exception):
    """The run failed in a way worth another attempt after `countdown` seconds (the task retries)."""

    def __init__(self, run_id: int, countdown: int):
        super().__init__(f"pull run {run_id}: retry in {countdown} s")
        self.run_id = run_id
        self.countdown = countdown


# --- Requesting and scheduling -------------------------------------------------------------------


def _windows(start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    windows = []
    while start <= end:
        last = min(end, start + datetime.timedelta(days=MAX_RUN_DAYS - 1))
        windows.append((start, last))
        start = last + datetime.timedelta(days=1)
    return windows


def pull_window_errors(window_start: datetime.date, window_end: datetime.date) -> list[ValidationError]:
    """What is wrong with a period to pull (both days included, Kyiv dates); empty when nothing is."""
    errors = []
    if window_start > window_end:
        errors.append(ValidationError(_("The period starts after it ends."), code="window_order"))
    if window_end > timezone.localdate():
        errors.append(ValidationError(_("The period cannot end in the future."), code="window_future"))
    if (window_end - window_start).days + 1 > MAX_REPULL_DAYS:
        errors.append(
            ValidationError(
                _("The period is at most %(days)d days long."),
                code="window_too_long",
                params={"days": MAX_REPULL_DAYS},
            )
        )
    return errors


@transaction.atomic
def pull_run_request(
    *, system: CnapSystem, window_start: datetime.date, window_end: datetime.date, trigger: str, actor=None
) -> list[PullRun]:
    """Queue pulls of the system's appeals for the window (both days included, Kyiv dates).

    A window longer than 31 days becomes several runs. Each run is executed by a task after commit.
    """
    from .tasks import pull_run_execute_task  # tasks import this module

    if trigger not in (PullRun.Trigger.SCHEDULE, PullRun.Trigger.MANUAL):
        raise ValueError(f"pull_run_request cannot queue a {trigger} run")
    errors = pull_window_errors(window_start, window_end)
    if not system.is_active:
        errors.append(
            ValidationError(
                _("The system %(system)s is not active."), code="system_inactive", params={"system": system}
            )
        )
    if errors:
        raise ValidationError(errors)
    runs = PullRun.objects.bulk_create(
        PullRun(system=system, trigger=trigger, window_start=start, window_end=end, requested_by=actor)
        for start, end in _windows(window_start, window_end)
    )
    for run in runs:
        enqueue_on_commit(pull_run_execute_task, run.pk)
    logger.info(
        "CNAP system %s: %d pull run(s) for %s..%s requested (%s) by %s",
        system.pk,
        len(runs),
        window_start,
        window_end,
        trigger,
        actor,
    )
    return runs


def pull_window(*, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The daily pull's window: [today − MONITORING_PULL_WINDOW_DAYS, today]."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.MONITORING_PULL_WINDOW_DAYS), today


@transaction.atomic
def pull_runs_schedule(*, today: datetime.date | None = None) -> list[PullRun]:
    """Queue the daily pull of [today − MONITORING_PULL_WINDOW_DAYS, today] for every active system.

    Idempotent for the day: a system with a scheduled run of the same window that is queued, running,
    retrying or succeeded gets no second one (a failed one is pulled again). A handful of queries
    whatever the number of systems: thousands of CNAPs are scheduled in one go.
    """
    from .tasks import pull_run_execute_task  # tasks import this module

    start, today = pull_window(today=today)
    # The row locks make a second scheduler (a beat restart) wait here, then see the runs made.
    system_ids = _lock_systems(CnapSystem.objects.filter(is_active=True))
    scheduled = set(
        PullRun.objects.filter(
            system_id__in=system_ids,
            trigger=PullRun.Trigger.SCHEDULE,
            window_start=start,
            window_end=today,
            status__in=[*ACTIVE_STATUSES, PullRun.Status.SUCCEEDED],
        ).values_list("system_id", flat=True)
    )
    runs = PullRun.objects.bulk_create(
        PullRun(system_id=pk, trigger=PullRun.Trigger.SCHEDULE, window_start=start, window_end=today)
        for pk in system_ids
        if pk not in scheduled
    )
    for run in runs:
        enqueue_on_commit(pull_run_execute_task, run.pk)
    logger.info("Daily pull of %s..%s queued for %d system(s)", start, today, len(runs))
    return runs


@transaction.atomic
def pull_runs_recover(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the runs nothing will execute: a QUEUED or RETRYING run whose task message was lost,
    a RUNNING run whose lease ran out (its worker died). The claim keeps each run single if the old
    message turns up."""
    from .tasks import pull_run_execute_task  # tasks import this module

    now = now or timezone.now()
    hard_limit = datetime.timedelta(seconds=run_time_limits()[1])
    grace = datetime.timedelta(seconds=settings.MONITORING_PULL_RECOVER_AFTER)
    longest_backoff = datetime.timedelta(
        seconds=settings.MONITORING_PULL_RETRY_BACKOFF * 2 ** max(settings.MONITORING_PULL_RETRIES - 1, 0)
    )
    stale = (
        Q(status=PullRun.Status.QUEUED, queued_at__lt=now - grace)
        | Q(status=PullRun.Status.RETRYING, started_at__lt=now - hard_limit - longest_backoff - grace)
        | _lease_expired(now)
    )
    run_ids = list(
        PullRun.objects.filter(stale).exclude(trigger=PullRun.Trigger.TEST).values_list("pk", flat=True)
    )
    PullRun.objects.filter(pk__in=run_ids, status=PullRun.Status.QUEUED).update(queued_at=now)
    for run_id in run_ids:
        enqueue_on_commit(pull_run_execute_task, run_id)
    if run_ids:
        logger.warning("Re-queued %d pull run(s) nothing was executing: %s", len(run_ids), run_ids[:20])
    return run_ids


# --- Executing ----------------------------------------------------------------------------------------


CLAIMED, BUSY, LEFT = "claimed", "busy", "left"


def _lease_until(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.MONITORING_PULL_LEASE_SECONDS)


def _lease_expired(now: datetime.datetime) -> Q:
    """RUNNING runs whose attempt stopped renewing its lease: their worker died."""
    return Q(status=PullRun.Status.RUNNING) & (Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True))


def _held_by(run: PullRun) -> Q:
    """The run for as long as this attempt of it holds it (not finished, not taken over)."""
    return Q(pk=run.pk, status=PullRun.Status.RUNNING, attempts=run.attempts)


@transaction.atomic
def _claim(run_id: int) -> str:
    """Mark the run RUNNING for one more attempt: CLAIMED; BUSY while a live attempt holds it or
    another run of its system (a CNAP system is asked one thing at a time); LEFT when it is finished.

    A RUNNING run whose lease ran out belonged to a worker that died: it is taken over, until it has
    had every attempt it is allowed; then it fails.
    """
    now = timezone.now()
    system_id = PullRun.objects.filter(pk=run_id).values_list("system_id", flat=True).first()
    if system_id is None:
        return LEFT
    # The system's row lock orders the claims of its runs: of two runs claimed at once, one waits here.
    # NO KEY: the lock must not wait for pages being inserted, which hold a key share of the row.
    _lock_systems(CnapSystem.objects.filter(pk=system_id))
    dead = _lease_expired(now)
    if PullRun.objects.filter(dead, pk=run_id, attempts__gt=settings.MONITORING_PULL_RETRIES).update(
        status=PullRun.Status.FAILED,
        finished_at=now,
        error_code="worker_lost",
        error_message=str(_("The pull was cut off every time it was tried (a worker stopped).")),
    ):
        logger.error("Pull run %s failed: its worker stopped on every attempt", run_id)
        return LEFT
    claimable = Q(status__in=[PullRun.Status.QUEUED, PullRun.Status.RETRYING]) | dead
    held = Q(status=PullRun.Status.RUNNING, lease_expires_at__gte=now)
    # A live attempt of this run (a message delivered again while its worker lives) or of another run
    # of the system: the message comes back later, and takes the run over if that attempt has died.
    if PullRun.objects.filter(held, system_id=system_id).exists():
        waiting = PullRun.objects.filter(claimable | held, pk=run_id).update(queued_at=now)
        return BUSY if waiting else LEFT
    # One conditional UPDATE: of two workers given the same run, exactly one gets it.
    claimed = PullRun.objects.filter(claimable, pk=run_id).update(
        status=PullRun.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        lease_expires_at=_lease_until(now),
        finished_at=None,
        # What the attempt received; created/updated add up over attempts (what the run changed).
        pages=0,
        records_received=0,
        records_quarantined=0,
        http_status=None,
        error_code="",
        error_message="",
    )
    return CLAIMED if claimed else LEFT


@contextlib.contextmanager
def _lease_kept(run: PullRun):
    """Renew the attempt's lease every quarter of it from a thread, whatever the attempt waits for (one
    slow page may take longer than the lease); a killed worker stops renewing it.

    Only for a committed run: the thread has its own database connection and would wait for the
    caller's transaction (tests run pulls in one).
    """
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def renew():
        try:
            while not stop.wait(settings.MONITORING_PULL_LEASE_SECONDS / 4):
                try:
                    renewed = PullRun.objects.filter(_held_by(run)).update(
                        lease_expires_at=_lease_until(timezone.now())
                    )
                except DatabaseError:  # a hiccup: the next beat tries again within the lease
                    logger.warning("Pull run %s: the lease could not be renewed", run.pk, exc_info=True)
                    connection.close()
                    continue
                if not renewed:  # finished or taken over: the attempt finds out at its next write
                    return
        finally:
            connection.close()  # the thread's own connection

    beat = threading.Thread(target=renew, name=f"pull-run-{run.pk}-lease", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=10)


def _lock_systems(systems) -> list[int]:
    """Lock the systems' rows (NO KEY UPDATE, the rows only); their ids in order."""
    return list(
        systems.select_for_update(no_key=True, of=("self",)).order_by("pk").values_list("pk", flat=True)
    )


def pull_run_execute(*, run_id: int) -> PullRun:
    """Execute one attempt of a queued or retrying run, or of a running one whose lease ran out; a
    finished run is left alone.

    Raises PullRetry when the attempt failed in a retryable way and attempts remain, PullBusy when a
    live attempt holds the run or another run of the same system (nothing is asked of the system
    meanwhile). An attempt whose run was taken over stops without recording anything more.
    """
    from .ingest import appeals_ingest

    claim = _claim(run_id)
    if claim == BUSY:
        raise PullBusy(run_id)
    if claim == LEFT:
        return PullRun.objects.get(pk=run_id)
    run = PullRun.objects.select_related("system__cnap").get(pk=run_id)
    system = run.system
    if not system.is_active:  # switched off after the run was queued: it is not contacted any more
        PullRun.objects.filter(_held_by(run)).update(
            status=PullRun.Status.FAILED,
            finished_at=timezone.now(),
            error_code="system_inactive",
            error_message=str(_("The system was deactivated before the pull ran.")),
        )
        run.refresh_from_db()
        return run
    try:
        password = system.password
    except encryption.SecretUnreadable:
        return _run_fail(
            run,
            PullError(
                "secret_unreadable", str(_("The stored password cannot be decrypted; enter it again."))
            ),
        )
    try:
        with _lease_kept(run):
            pages = fetch_pages(
                base_url=system.base_url,
                login=system.login,
                password=password,
                start=run.window_start,
                end=run.window_end,
            )
            for page in pages:
                with transaction.atomic():
                    result = appeals_ingest(system=system, run=run, records=page.records)
                    counted = PullRun.objects.filter(_held_by(run)).update(
                        pages=F("pages") + 1,
                        records_received=F("records_received") + len(page.records),
                        records_created=F("records_created") + result.created,
                        records_updated=F("records_updated") + result.updated,
                        records_quarantined=F("records_quarantined") + result.quarantined,
                        http_status=page.http_status,
                        lease_expires_at=_lease_until(timezone.now()),
                    )
                    if not counted:  # the page is rolled back: the attempt that took over pulls it
                        raise LeaseLost(run.pk)
    except LeaseLost:
        return _run_lost(run)
    except PullError as error:
        return _run_fail(run, _scrubbed(error, password))
    except SoftTimeLimitExceeded:
        seconds = run_time_limits()[0]
        message = _("The pull took longer than %(seconds)d s and was stopped.") % {"seconds": seconds}
        return _run_fail(run, PullError("run_time_limit", str(message), retryable=True))
    except Exception as error:
        # Our failure, not the system's: its health is left alone. A database hiccup (a lost connection,
        # a deadlock) is worth another attempt; anything else is a bug to look at.
        logger.exception("Pull run %s failed unexpectedly", run.pk)
        database = isinstance(error, OperationalError)
        if database and not connection.in_atomic_block:  # (a task runs outside any transaction)
            connection.close_if_unusable_or_obsolete()  # a lost connection: the next query opens a new one
        failure = PullError(
            "database_error" if database else "internal_error", type(error).__name__, retryable=database
        )
        return _run_fail(run, failure, system_fault=False)
    return _run_succeed(run)


def _scrubbed(error: PullError, password: str) -> PullError:
    """The error with the password masked, should a remote system echo it back."""
    if password and password in error.message:
        error.message = error.message.replace(password, "•••")
    return error


def _run_lost(run: PullRun) -> PullRun:
    logger.warning("Pull run %s attempt %d stopped: another worker took the run over", run.pk, run.attempts)
    run.refresh_from_db()
    return run


def _run_succeed(run: PullRun) -> PullRun:
    with transaction.atomic():
        now = timezone.now()
        # The system's row first, then the run's: the order the claim and the failure path lock them in.
        _lock_systems(CnapSystem.objects.filter(pk=run.system_id))
        if not PullRun.objects.filter(_held_by(run)).update(status=PullRun.Status.SUCCEEDED, finished_at=now):
            return _run_lost(run)
        CnapSystem.objects.filter(pk=run.system_id).update(
            last_pull_at=now, last_success_at=now, consecutive_failures=0, is_failing=False
        )
    run.refresh_from_db()
    logger.info("Pull run %s succeeded: %d records in %d pages", run.pk, run.records_received, run.pages)
    return run


def _run_fail(run: PullRun, error: PullError, *, system_fault: bool = True) -> PullRun:
    """Record the failure; raise PullRetry (after commit) when another attempt is due.

    A final failure counts against the system's health only when it is the system's (`system_fault`).
    """
    with transaction.atomic():
        now = timezone.now()
        _lock_systems(CnapSystem.objects.filter(pk=run.system_id))
        system = CnapSystem.objects.select_related("cnap").get(pk=run.system_id)
        held = PullRun.objects.select_for_update().filter(_held_by(run)).first()
        if held is None:  # taken over: the failure is not this attempt's to record any more
            return _run_lost(run)
        run = held
        run.http_status = error.http_status  # None: no answer (network, timeout, refused target)
        run.error_code = error.code
        run.error_message = error.message[:2000]
        retry = error.retryable and run.attempts <= settings.MONITORING_PULL_RETRIES
        run.status = PullRun.Status.RETRYING if retry else PullRun.Status.FAILED
        run.finished_at = None if retry else now
        run.save(update_fields=["http_status", "error_code", "error_message", "status", "finished_at"])
        system.last_pull_at = now
        fields = ["last_pull_at"]
        if not retry and system_fault:
            system.consecutive_failures += 1
            becomes_failing = (
                not system.is_failing and system.consecutive_failures >= settings.MONITORING_FAILING_AFTER
            )
            system.is_failing = system.is_failing or becomes_failing
            fields += ["consecutive_failures", "is_failing"]
            if becomes_failing:
                _operators_notify(system=system, run=run)
        system.save(update_fields=[*fields, "updated_at"])
    logger.warning("Pull run %s attempt %d: %s %s", run.pk, run.attempts, error.code, error.message)
    if retry:
        raise PullRetry(run.pk, settings.MONITORING_PULL_RETRY_BACKOFF * 2 ** (run.attempts - 1))
    return run


def _operators_notify(*, system: CnapSystem, run: PullRun) -> None:
    """Email every staff member with an address that the system has just started failing."""
    recipients = (
        User.objects.filter(is_staff=True, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    context = {"system": system, "run": run, "failures": system.consecutive_failures}
    # Outgoing mail is written in the portal's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("monitoring/emails/system_failing_subject.txt", context)
        body = render_to_string("monitoring/emails/system_failing_body.txt", context)
        for email in sorted(set(recipients)):
            email_queue(to=email, subject=subject, text_body=body)


# --- Connection test ----------------------------------------------------------------------------------


def connection_test(*, system: CnapSystem, actor) -> PullRun:
    """Ask the system for yesterday's first page, now; store the outcome as a TEST run, no appeals.

    The system's health counters are not touched: a test is not a pull.
    """
    day = timezone.localdate() - datetime.timedelta(days=1)
    now = timezone.now()
    run = PullRun.objects.create(
        system=system,
        trigger=PullRun.Trigger.TEST,
        status=PullRun.Status.RUNNING,
        window_start=day,
        window_end=day,
        requested_by=actor,
        attempts=1,
        started_at=now,
        lease_expires_at=_lease_until(now),  # pulls of the system wait meanwhile
    )
    password = ""
    try:
        password = system.password
        pages = fetch_pages(
            base_url=system.base_url, login=system.login, password=password, start=day, end=day
        )
        try:
            with _lease_kept(run):
                page = next(pages)
        finally:
            pages.close()  # only the first page: the rest are not asked for
        run.status = PullRun.Status.SUCCEEDED
        run.pages, run.records_received, run.http_status = 1, len(page.records), page.http_status
    except encryption.SecretUnreadable:
        run.status, run.error_code = PullRun.Status.FAILED, "secret_unreadable"
        run.error_message = str(_("The stored password cannot be decrypted; enter it again."))
    except PullError as error:
        error = _scrubbed(error, password)
        run.status, run.error_code, run.error_message = (
            PullRun.Status.FAILED,
            error.code,
            error.message[:2000],
        )
        run.http_status = error.http_status
    except Exception as error:  # the run must not stay RUNNING; the operator sees the failure
        logger.exception("Connection test of CNAP system %s failed unexpectedly", system.pk)
        run.status, run.error_code, run.error_message = (
            PullRun.Status.FAILED,
            "internal_error",
            type(error).__name__,
        )
    run.finished_at = timezone.now()
    run.save()
    logger.info("CNAP system %s connection test by %s: %s %s", system.pk, actor, run.status, run.error_code)
    return run
