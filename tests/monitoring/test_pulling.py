"""Pull runs against the simulated CNAP system in a thread: the whole path through the Celery task."""

import datetime
import os
import signal
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ehealth_portal.celery import app as celery_app
from monitoring.models import Appeal, CnapSystem, PullRun, QuarantinedRecord
from monitoring.pulling import (
    PullBusy,
    connection_test,
    pull_run_execute,
    pull_run_request,
    pull_runs_recover,
    pull_runs_schedule,
    run_time_limits,
)
from monitoring.tasks import pull_run_execute_task
from tests.conftest import WORKER_LOG, missing_in_ci, wait_for, worker_start
from tests.factories import CnapSystemFactory, PullRunFactory, UserFactory
from tests.monitoring import simulator_fixtures
from tests.monitoring.simulator_fixtures import SIM_PASSWORD

cnap_simulator = simulator_fixtures.cnap_simulator
simulated_system = simulator_fixtures.simulated_system
pytestmark = pytest.mark.django_db


def _window():
    end = timezone.localdate() - datetime.timedelta(days=3)
    return end - datetime.timedelta(days=7), end


@pytest.fixture
def pull(django_capture_on_commit_callbacks):
    """Request a manual pull of the system and run its task (eagerly, retries included)."""

    def run(system, window=None) -> PullRun:
        start, end = window or _window()
        with django_capture_on_commit_callbacks(execute=True):
            (requested,) = pull_run_request(
                system=system, window_start=start, window_end=end, trigger=PullRun.Trigger.MANUAL
            )
        requested.refresh_from_db()
        return requested

    return run


def _expected(simulator, system):
    return simulator.records(system.cnap.code, *_window())


def test_a_pull_stores_every_appeal_the_system_sends(cnap_simulator, simulated_system, pull):
    expected = _expected(cnap_simulator, simulated_system)
    assert len(expected) > 3 * cnap_simulator.page_size  # several pages

    run = pull(simulated_system)

    assert run.status == PullRun.Status.SUCCEEDED
    assert run.attempts == 1
    assert run.pages == len(expected) // cnap_simulator.page_size + 1
    assert run.records_received == run.records_created == len(expected)
    assert run.http_status == 200
    assert run.error_code == ""
    assert run.started_at <= run.finished_at
    stored = set(Appeal.objects.filter(system=simulated_system).values_list("appeal_id", flat=True))
    assert stored == {record["id"] for record in expected}
    simulated_system.refresh_from_db()
    assert simulated_system.last_success_at == simulated_system.last_pull_at is not None
    assert not simulated_system.is_failing


def test_a_repull_creates_no_duplicates(cnap_simulator, simulated_system, pull):
    first = pull(simulated_system)
    second = pull(simulated_system)

    assert second.status == PullRun.Status.SUCCEEDED
    assert second.records_received == first.records_received
    assert (second.records_created, second.records_updated) == (0, 0)
    assert Appeal.objects.count() == first.records_created


def test_a_server_error_on_page_3_is_retried_and_the_retry_completes(cnap_simulator, simulated_system, pull):
    cnap_simulator.fault("500", after_pages=2)

    run = pull(simulated_system)

    assert run.status == PullRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert (run.error_code, run.error_message) == ("", "")
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))


def test_when_retries_run_out_the_pages_before_the_failure_stay_and_a_later_pull_completes(
    cnap_simulator, simulated_system, pull, settings
):
    settings.MONITORING_PULL_RETRIES = 2
    cnap_simulator.fault("500", after_pages=2, times=10)

    run = pull(simulated_system)

    assert run.status == PullRun.Status.FAILED
    assert run.attempts == 3
    assert (run.error_code, run.http_status) == ("server_error", 500)
    assert "HTTP 500" in run.error_message
    assert run.pages == 2
    assert Appeal.objects.count() == 2 * cnap_simulator.page_size  # pages 1-2 were kept
    assert run.records_created == 2 * cnap_simulator.page_size
    simulated_system.refresh_from_db()
    assert simulated_system.consecutive_failures == 1

    cnap_simulator.faults_clear()
    later = pull(simulated_system)

    assert later.status == PullRun.Status.SUCCEEDED
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))
    assert later.records_created == Appeal.objects.count() - 2 * cnap_simulator.page_size
    simulated_system.refresh_from_db()
    assert simulated_system.consecutive_failures == 0


def test_a_slow_answer_times_out_and_is_retried(cnap_simulator, simulated_system, pull, settings):
    settings.MONITORING_PULL_READ_TIMEOUT = 0.3
    cnap_simulator.fault("slow", after_pages=1, seconds=1)

    run = pull(simulated_system)

    assert run.status == PullRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))


@pytest.mark.parametrize(
    ("kind", "code", "http_status"),
    [
        ("401", "auth", 401),
        ("malformed", "malformed", 200),
        ("oversized", "too_large", 200),
        ("redirect", "redirect", 302),
        ("next_page_other_host", "foreign_next_page", 200),
    ],
)
def test_a_fault_that_retrying_cannot_fix_fails_the_run_at_once(
    cnap_simulator, simulated_system, pull, settings, kind, code, http_status
):
    settings.MONITORING_PULL_MAX_PAGE_BYTES = 256 * 1024  # a page of 20 appeals is ~10 KB
    cnap_simulator.fault(kind, after_pages=1)

    run = pull(simulated_system)

    assert run.status == PullRun.Status.FAILED
    assert run.attempts == 1  # not retried
    assert (run.error_code, run.http_status) == (code, http_status)
    assert run.finished_at is not None
    assert run.error_message
    # The page before the fault was stored (for next_page_other_host: the page that pointed away).
    kept = 2 if kind == "next_page_other_host" else 1
    assert Appeal.objects.count() == kept * cnap_simulator.page_size
    assert cnap_simulator.requests == kept + (kind != "next_page_other_host")


def test_a_foreign_next_page_is_never_requested(cnap_simulator, simulated_system, pull):
    cnap_simulator.fault("next_page_other_host")

    run = pull(simulated_system)

    assert run.error_code == "foreign_next_page"
    assert "cnap-elsewhere.example" in run.error_message
    assert cnap_simulator.requests == 1


def test_invalid_records_are_quarantined_and_a_repull_does_not_duplicate_them(
    cnap_simulator, simulated_system, pull
):
    cnap_simulator.fault("invalid_records")
    run = pull(simulated_system)

    assert run.status == PullRun.Status.SUCCEEDED
    assert run.records_quarantined == 4
    assert run.records_created == len(_expected(cnap_simulator, simulated_system))
    reasons = {
        reason["code"]
        for record in QuarantinedRecord.objects.filter(system=simulated_system)
        for reason in record.reasons
    }
    assert reasons == {"unknown_service", "wrong_cnap", "decided_before_registered", "invalid_choice"}

    cnap_simulator.fault("invalid_records")
    pull(simulated_system)

    assert QuarantinedRecord.objects.count() == 4
    assert set(QuarantinedRecord.objects.values_list("times_seen", flat=True)) == {2}


def test_loopback_targets_are_refused_when_private_targets_are_not_allowed(
    cnap_simulator, simulated_system, pull, settings
):
    settings.MONITORING_ALLOW_PRIVATE_TARGETS = False

    run = pull(simulated_system)

    assert run.status == PullRun.Status.FAILED
    assert (run.error_code, run.attempts) == ("forbidden_target", 1)
    assert "127.0.0.1" in run.error_message
    assert cnap_simulator.requests == 0
    assert not Appeal.objects.exists()


def test_the_password_never_reaches_the_error_message(cnap_simulator, simulated_system, pull, settings):
    settings.MONITORING_PULL_RETRIES = 0
    cnap_simulator.fault("500", message=f"cannot log in erepository with {SIM_PASSWORD}")

    run = pull(simulated_system)

    assert run.error_code == "server_error"
    assert "cannot log in erepository" in run.error_message
    assert SIM_PASSWORD not in run.error_message


def test_a_system_becomes_failing_after_n_failed_runs_emails_operators_once_and_a_success_clears_it(
    cnap_simulator, simulated_system, pull, settings, mailoutbox
):
    settings.MONITORING_FAILING_AFTER = 2
    operator = UserFactory(is_staff=True, email="operator@example.gov.ua")
    UserFactory(is_staff=False, email="citizen@example.com")
    cnap_simulator.fault("401", times=3)

    pull(simulated_system)
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.is_failing) == (1, False)
    assert mailoutbox == []

    pull(simulated_system)
    pull(simulated_system)
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.is_failing) == (3, True)
    assert [message.to for message in mailoutbox] == [[operator.email]]
    message = mailoutbox[0]
    assert simulated_system.cnap.code in message.subject
    assert "не відповідає" in message.subject
    assert "Остання помилка: auth" in message.body
    assert SIM_PASSWORD not in message.body

    run = pull(simulated_system)
    assert run.status == PullRun.Status.SUCCEEDED
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.is_failing) == (0, False)
    assert len(mailoutbox) == 1


# --- Requesting ---------------------------------------------------------------------------------


def test_a_long_period_is_split_into_runs_of_at_most_31_days(simulated_system):
    operator = UserFactory(is_staff=True)
    start = timezone.localdate() - datetime.timedelta(days=44)

    runs = pull_run_request(
        system=simulated_system,
        window_start=start,
        window_end=timezone.localdate(),
        trigger=PullRun.Trigger.MANUAL,
        actor=operator,
    )

    assert [(run.window_start, run.window_end) for run in runs] == [
        (start, start + datetime.timedelta(days=30)),
        (start + datetime.timedelta(days=31), timezone.localdate()),
    ]
    assert {(run.status, run.requested_by_id) for run in runs} == {(PullRun.Status.QUEUED, operator.pk)}


@pytest.mark.parametrize(
    ("start_back", "end_back", "active", "code"),
    [
        (1, 3, True, "window_order"),
        (1, -1, True, "window_future"),
        (3, 1, False, "system_inactive"),
        (400, 1, True, "window_too_long"),  # 400 days: more than a year of runs in one request
    ],
)
def test_a_refused_request_queues_nothing(simulated_system, start_back, end_back, active, code):
    simulated_system.is_active = active
    simulated_system.save()
    today = timezone.localdate()

    with pytest.raises(ValidationError) as refused:
        pull_run_request(
            system=simulated_system,
            window_start=today - datetime.timedelta(days=start_back),
            window_end=today - datetime.timedelta(days=end_back),
            trigger=PullRun.Trigger.MANUAL,
        )

    assert [error.code for error in refused.value.error_list] == [code]
    assert not PullRun.objects.exists()


def test_the_schedule_queues_one_run_per_active_system_and_day(simulated_system, settings):
    settings.MONITORING_PULL_WINDOW_DAYS = 7
    inactive = CnapSystemFactory(is_active=False)
    today = datetime.date(2026, 11, 20)

    first = pull_runs_schedule(today=today)
    again = pull_runs_schedule(today=today)

    assert [(run.system, run.trigger, run.window_start, run.window_end) for run in first] == [
        (simulated_system, PullRun.Trigger.SCHEDULE, datetime.date(2026, 11, 13), today)
    ]
    assert again == []
    assert not PullRun.objects.filter(system=inactive).exists()

    PullRun.objects.update(status=PullRun.Status.FAILED)  # a failed run is pulled again
    assert len(pull_runs_schedule(today=today)) == 1
    assert len(pull_runs_schedule(today=today + datetime.timedelta(days=1))) == 1


def test_scheduling_takes_the_same_few_queries_for_many_systems(django_assert_max_num_queries):
    CnapSystemFactory.create_batch(30)

    with django_assert_max_num_queries(5):  # savepoint, locked systems, existing runs, insert, release
        runs = pull_runs_schedule(today=datetime.date(2026, 11, 20))

    assert len(runs) == 30


def test_the_scheduled_task_pulls_every_active_system(
    cnap_simulator, simulated_system, django_capture_on_commit_callbacks
):
    from monitoring.tasks import pull_runs_schedule_task

    with django_capture_on_commit_callbacks(execute=True):
        pull_runs_schedule_task.delay()

    run = PullRun.objects.get()
    assert (run.trigger, run.status) == (PullRun.Trigger.SCHEDULE, PullRun.Status.SUCCEEDED)
    assert run.records_created == Appeal.objects.count() > 0


def _live(**fields):
    """A run a live worker is executing: its lease runs well into the future."""
    now = timezone.now()
    return PullRunFactory(
        status=PullRun.Status.RUNNING,
        attempts=1,
        started_at=now,
        lease_expires_at=now + datetime.timedelta(hours=1),
        **fields,
    )


def _abandoned(**fields):
    """A run whose worker died a minute into it: the lease ran out long before the run's time limit."""
    now = timezone.now()
    fields = {"attempts": 1, **fields}
    return PullRunFactory(
        status=PullRun.Status.RUNNING,
        started_at=now - datetime.timedelta(seconds=90),
        lease_expires_at=now - datetime.timedelta(seconds=1),
        **fields,
    )


@pytest.mark.parametrize("status", [PullRun.Status.SUCCEEDED, PullRun.Status.FAILED])
def test_executing_a_finished_run_again_changes_nothing(cnap_simulator, simulated_system, status):
    run = PullRunFactory(system=simulated_system, status=status, attempts=1, started_at=timezone.now())

    again = pull_run_execute(run_id=run.pk)

    assert (again.status, again.attempts) == (status, 1)
    assert cnap_simulator.requests == 0


def test_a_message_for_a_run_a_live_worker_holds_waits_and_changes_nothing(cnap_simulator, simulated_system):
    run = _live(system=simulated_system)

    with pytest.raises(PullBusy):  # queued again: it takes the run over should that worker die
        pull_run_execute(run_id=run.pk)

    again = PullRun.objects.get(pk=run.pk)
    assert (again.status, again.attempts, again.started_at) == (PullRun.Status.RUNNING, 1, run.started_at)
    assert again.lease_expires_at == run.lease_expires_at
    assert cnap_simulator.requests == 0


def test_a_run_whose_worker_died_is_taken_over_once_its_lease_runs_out(cnap_simulator, simulated_system):
    start, end = _window()
    run = _abandoned(system=simulated_system, window_start=start, window_end=end)

    again = pull_run_execute(run_id=run.pk)

    assert (again.status, again.attempts) == (PullRun.Status.SUCCEEDED, 2)
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))


@pytest.mark.parametrize("fault", [None, "401", "500"])
def test_an_attempt_whose_run_was_taken_over_stops_and_records_nothing(
    cnap_simulator, simulated_system, monkeypatch, fault
):
    """A worker that stalled past its lease (not dead after all) must not write over the taker's run."""
    from monitoring import pulling

    if fault:
        cnap_simulator.fault(fault)
    (run,) = pull_run_request(
        system=simulated_system, window_start=_window()[0], window_end=_window()[1], trigger="MANUAL"
    )
    real = pulling.fetch_pages

    def taken_over_meanwhile(**kwargs):
        PullRun.objects.filter(pk=run.pk).update(
            attempts=F("attempts") + 1, lease_expires_at=timezone.now() + datetime.timedelta(hours=1)
        )
        yield from real(**kwargs)

    monkeypatch.setattr(pulling, "fetch_pages", taken_over_meanwhile)

    stopped = pull_run_execute(run_id=run.pk)

    assert (stopped.status, stopped.attempts, stopped.pages, stopped.error_code) == (
        PullRun.Status.RUNNING,
        2,
        0,
        "",
    )
    assert not Appeal.objects.exists()
    system = CnapSystem.objects.get(pk=simulated_system.pk)
    assert (system.last_pull_at, system.last_success_at, system.consecutive_failures) == (None, None, 0)


@pytest.mark.django_db(transaction=True)
def test_of_two_workers_taking_over_a_run_at_once_one_wins(cnap_simulator, simulated_system):
    if connection.vendor != "postgresql":
        missing_in_ci("real concurrent transactions need DATABASE_URL=postgres://...")
    start, end = _window()
    run = _abandoned(system=simulated_system, window_start=start, window_end=end)
    together = threading.Barrier(2)
    outcomes = []

    def take_over():
        together.wait()
        try:
            outcomes.append(pull_run_execute(run_id=run.pk).status)
        except PullBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    takers = [threading.Thread(target=take_over) for _ in range(2)]
    for taker in takers:
        taker.start()
    for taker in takers:
        taker.join()

    # The loser found the winner holding the run (busy) or, later, the run finished (left as it is).
    assert sorted(outcomes) in (["SUCCEEDED", "SUCCEEDED"], ["SUCCEEDED", "busy"])
    done = PullRun.objects.get(pk=run.pk)
    assert (done.status, done.attempts) == (PullRun.Status.SUCCEEDED, 2)
    expected = _expected(cnap_simulator, simulated_system)
    assert done.records_received == Appeal.objects.count() == len(expected)
    pages = -(-len(expected) // cnap_simulator.page_size)
    assert cnap_simulator.requests == pages  # the system was asked once


# --- Connection test ----------------------------------------------------------------------------


def test_a_connection_test_asks_for_yesterdays_first_page_only_and_stores_nothing(
    cnap_simulator, simulated_system
):
    operator = UserFactory(is_staff=True)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    expected = cnap_simulator.records(simulated_system.cnap.code, yesterday, yesterday)
    assert len(expected) > cnap_simulator.page_size

    run = connection_test(system=simulated_system, actor=operator)

    assert (run.trigger, run.status, run.http_status) == (PullRun.Trigger.TEST, PullRun.Status.SUCCEEDED, 200)
    assert (run.window_start, run.window_end, run.requested_by) == (yesterday, yesterday, operator)
    assert (run.pages, run.records_received) == (1, cnap_simulator.page_size)
    assert cnap_simulator.requests == 1
    assert not Appeal.objects.exists()
    assert not QuarantinedRecord.objects.exists()
    system = CnapSystem.objects.get(pk=simulated_system.pk)
    assert (system.last_pull_at, system.last_success_at, system.consecutive_failures) == (None, None, 0)


def test_a_failed_connection_test_leaves_the_systems_health_alone(cnap_simulator, simulated_system):
    cnap_simulator.fault("401")

    run = connection_test(system=simulated_system, actor=UserFactory(is_staff=True))

    assert (run.status, run.error_code, run.http_status) == (PullRun.Status.FAILED, "auth", 401)
    assert "логін" in run.error_message
    assert SIM_PASSWORD not in run.error_message
    system = CnapSystem.objects.get(pk=simulated_system.pk)
    assert (system.consecutive_failures, system.is_failing, system.last_pull_at) == (0, False, None)


def test_a_run_of_a_system_deactivated_after_queueing_does_not_contact_it(cnap_simulator, simulated_system):
    (run,) = pull_run_request(
        system=simulated_system,
        window_start=_window()[0],
        window_end=_window()[1],
        trigger=PullRun.Trigger.MANUAL,
    )
    simulated_system.is_active = False
    simulated_system.save()

    run = pull_run_execute(run_id=run.pk)

    assert (run.status, run.error_code) == (PullRun.Status.FAILED, "system_inactive")
    assert run.error_message == "Систему вимкнено до того, як дані було отримано."
    assert cnap_simulator.requests == 0
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.last_pull_at) == (0, None)


# --- Runs nothing executes, our own failures ------------------------------------------------------


def test_runs_whose_task_was_lost_or_whose_worker_died_are_queued_again_and_complete(
    cnap_simulator, simulated_system, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    start, end = _window()
    stale = now - datetime.timedelta(seconds=settings.MONITORING_PULL_RECOVER_AFTER + 1)
    lost = PullRunFactory(system=simulated_system, window_start=start, window_end=end)
    PullRun.objects.filter(pk=lost.pk).update(created_at=stale, queued_at=stale)
    abandoned = _abandoned(system=simulated_system, window_start=start, window_end=end)
    waiting = PullRunFactory(system=simulated_system, window_start=start, window_end=end)  # just queued
    running = _live(system=CnapSystemFactory())

    with django_capture_on_commit_callbacks(execute=True):
        recovered = pull_runs_recover(now=now)

    assert sorted(recovered) == sorted([lost.pk, abandoned.pk])
    statuses = dict(PullRun.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == statuses[abandoned.pk] == PullRun.Status.SUCCEEDED
    assert statuses[waiting.pk] == PullRun.Status.QUEUED
    assert statuses[running.pk] == PullRun.Status.RUNNING


def test_a_run_whose_worker_dies_on_every_attempt_fails_instead_of_being_taken_over_forever(
    cnap_simulator, simulated_system, settings
):
    run = _abandoned(system=simulated_system, attempts=settings.MONITORING_PULL_RETRIES + 1)

    again = pull_run_execute(run_id=run.pk)

    assert (again.status, again.error_code, again.attempts) == (
        PullRun.Status.FAILED,
        "worker_lost",
        settings.MONITORING_PULL_RETRIES + 1,
    )
    assert again.error_message
    assert cnap_simulator.requests == 0


def test_a_run_waiting_for_its_system_is_not_taken_for_a_lost_one(simulated_system, settings):
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.MONITORING_PULL_RECOVER_AFTER + 1)
    _live(system=simulated_system)
    waiting = PullRunFactory(system=simulated_system)
    PullRun.objects.filter(pk=waiting.pk).update(created_at=stale, queued_at=stale)

    with pytest.raises(PullBusy):  # found busy: queued again, now
        pull_run_execute(run_id=waiting.pk)

    assert pull_runs_recover(now=now + datetime.timedelta(seconds=1)) == []


def test_a_run_past_its_time_limit_is_a_timeout_that_counts_against_the_system(
    cnap_simulator, simulated_system, monkeypatch, settings
):
    from celery.exceptions import SoftTimeLimitExceeded

    settings.MONITORING_PULL_RETRIES = 0

    def too_long(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("monitoring.ingest.appeals_ingest", too_long)
    (run,) = pull_run_request(
        system=simulated_system, window_start=_window()[0], window_end=_window()[1], trigger="MANUAL"
    )

    run = pull_run_execute(run_id=run.pk)

    assert (run.status, run.error_code) == (PullRun.Status.FAILED, "run_time_limit")
    assert str(run_time_limits()[0]) in run.error_message
    simulated_system.refresh_from_db()
    assert simulated_system.consecutive_failures == 1


def test_a_database_error_is_retried_and_does_not_count_against_the_system(
    cnap_simulator, simulated_system, monkeypatch, pull
):
    from django.db import OperationalError

    from monitoring import ingest

    real, calls = ingest.appeals_ingest, []

    def deadlock_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return real(**kwargs)

    monkeypatch.setattr("monitoring.ingest.appeals_ingest", deadlock_once)

    run = pull(simulated_system)

    assert (run.status, run.attempts) == (PullRun.Status.SUCCEEDED, 2)
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.is_failing) == (0, False)


def test_a_bug_fails_the_run_without_blaming_the_system(cnap_simulator, simulated_system, monkeypatch, pull):
    def bug(**kwargs):
        raise KeyError("oops")

    monkeypatch.setattr("monitoring.ingest.appeals_ingest", bug)

    run = pull(simulated_system)

    assert (run.status, run.error_code, run.attempts) == (PullRun.Status.FAILED, "internal_error", 1)
    simulated_system.refresh_from_db()
    assert (simulated_system.consecutive_failures, simulated_system.is_failing) == (0, False)


def test_a_connection_test_that_crashes_is_recorded_as_failed(cnap_simulator, simulated_system, monkeypatch):
    def bug(**kwargs):
        raise KeyError("oops")

    monkeypatch.setattr("monitoring.pulling.fetch_pages", bug)

    run = connection_test(system=simulated_system, actor=UserFactory(is_staff=True))

    assert (run.status, run.error_code) == (PullRun.Status.FAILED, "internal_error")
    assert PullRun.objects.get().finished_at is not None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_server_errors_through_the_broker_and_completes(
    real_worker, cnap_simulator, simulated_system
):
    cnap_simulator.fault("500", times=2, after_pages=1)
    start, end = _window()
    with transaction.atomic():
        (run,) = pull_run_request(
            system=simulated_system, window_start=start, window_end=end, trigger=PullRun.Trigger.MANUAL
        )

    finished = [PullRun.Status.SUCCEEDED, PullRun.Status.FAILED]
    done = wait_for(lambda: PullRun.objects.filter(pk=run.pk, status__in=finished).first(), timeout=60)

    assert (done.status, done.attempts) == (PullRun.Status.SUCCEEDED, 3)
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system)) == done.records_created


def test_a_system_is_asked_one_thing_at_a_time(cnap_simulator, simulated_system):
    start, end = _window()
    _live(system=simulated_system)
    waiting = PullRunFactory(system=simulated_system, window_start=start, window_end=end)
    other_system = PullRunFactory(
        system=CnapSystemFactory(is_active=False), window_start=start, window_end=end
    )

    with pytest.raises(PullBusy):
        pull_run_execute(run_id=waiting.pk)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == (PullRun.Status.QUEUED, 0)
    assert cnap_simulator.requests == 0
    # Another system's run is not held up.
    assert pull_run_execute(run_id=other_system.pk).error_code == "system_inactive"


def test_a_waiting_run_goes_ahead_once_the_other_run_is_over(cnap_simulator, simulated_system):
    start, end = _window()
    other = _live(system=simulated_system)
    waiting = PullRunFactory(system=simulated_system, window_start=start, window_end=end)
    with pytest.raises(PullBusy):
        pull_run_execute(run_id=waiting.pk)

    PullRun.objects.filter(pk=other.pk).update(status=PullRun.Status.SUCCEEDED, finished_at=timezone.now())
    done = pull_run_execute(run_id=waiting.pk)

    assert (done.status, done.attempts) == (PullRun.Status.SUCCEEDED, 1)
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_holds_a_run_back_while_its_system_is_busy_then_pulls(
    real_worker, cnap_simulator, simulated_system
):
    other = _live(system=simulated_system)
    start, end = _window()
    with transaction.atomic():
        (run,) = pull_run_request(
            system=simulated_system, window_start=start, window_end=end, trigger=PullRun.Trigger.MANUAL
        )
    # The worker finds the system busy (it says so in its log) and queues the run again, untouched.
    wait_for(lambda: f"Pull run {run.pk} waits" in WORKER_LOG.read_text())
    run.refresh_from_db()
    assert (run.status, run.attempts, cnap_simulator.requests) == (PullRun.Status.QUEUED, 0, 0)

    PullRun.objects.filter(pk=other.pk).update(status=PullRun.Status.SUCCEEDED, finished_at=timezone.now())
    done = wait_for(lambda: PullRun.objects.filter(pk=run.pk, status=PullRun.Status.SUCCEEDED).first())

    assert done.attempts == 1


DOOMED_QUEUE = "test-doomed-worker"


@pytest.fixture
def doomed_worker(real_worker):
    """A second worker as in production (prefork), with one child, on a queue of its own: the test kills
    it. What it queues again goes to the default queue, where the session's worker takes it."""
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(DOOMED_QUEUE)
    with open(WORKER_LOG.with_name("ehealth-test-worker-doomed.log"), "w") as log:
        worker, node = worker_start(
            "doomed-worker", log, "--pool=prefork", "--concurrency=1", f"--queues={DOOMED_QUEUE}"
        )
        yield worker, node
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_process_is_killed_is_taken_over_within_seconds(
    doomed_worker, cnap_simulator, simulated_system, settings
):
    worker, node = doomed_worker
    cnap_simulator.fault("slow", after_pages=1, seconds=30)  # the second page takes half a minute
    start, end = _window()
    run = PullRunFactory(system=simulated_system, window_start=start, window_end=end)
    pull_run_execute_task.apply_async((run.pk,), queue=DOOMED_QUEUE)

    # The second page is slower than the lease: the attempt keeps renewing it meanwhile.
    wait_for(lambda: PullRun.objects.filter(pk=run.pk, pages=1).exists())
    time.sleep(settings.MONITORING_PULL_LEASE_SECONDS + 1)
    running = PullRun.objects.get(pk=run.pk)
    assert (running.status, running.attempts, running.pages) == (PullRun.Status.RUNNING, 1, 1)
    assert running.lease_expires_at > timezone.now()

    # The pool child executing it dies (the OOM killer, say); its parent hands the message back.
    (task,) = celery_app.control.inspect(destination=[node], timeout=2).active()[node]
    os.kill(task["worker_pid"], signal.SIGKILL)
    killed = time.monotonic()

    finished = [PullRun.Status.SUCCEEDED, PullRun.Status.FAILED]
    done = wait_for(lambda: PullRun.objects.filter(pk=run.pk, status__in=finished).first(), timeout=60)

    assert time.monotonic() - killed < settings.MONITORING_PULL_LEASE_SECONDS + 20
    assert (done.status, done.attempts) == (PullRun.Status.SUCCEEDED, 2)
    assert Appeal.objects.count() == len(_expected(cnap_simulator, simulated_system)) == done.records_received
    assert worker.poll() is None  # the worker itself lives on
