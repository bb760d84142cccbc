import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from ehealth_portal.celery import app

pytestmark = pytest.mark.django_db


def test_tasks_are_acknowledged_late_with_time_limits_and_json_only():
    assert app.conf.task_acks_late is True
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit


@pytest.mark.django_db(transaction=True)  # beat closes the database connection as it starts
def test_the_periodic_schedule_in_code_is_installed_by_beat():
    DatabaseScheduler(app=app)
    task = PeriodicTask.objects.get(name="send-pending-emails")
    assert task.task == "ehealth_portal.tasks.email_send_pending"
    assert task.enabled
    assert task.interval.every == 300


def test_every_scheduled_task_is_a_registered_task():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
