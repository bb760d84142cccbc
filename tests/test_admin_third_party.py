"""Django's and the libraries' admins as the portal adjusts them (ehealth_portal/admin_third_party.py)."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.contrib.messages import constants
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from ehealth_portal.admin_third_party import permission_label
from tests.factories import EmailFactory

pytestmark = pytest.mark.django_db


def test_an_authenticator_page_never_shows_its_secret(admin_client, admin_user):
    totp = Authenticator.objects.get(user=admin_user, type=Authenticator.Type.TOTP)
    response = admin_client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert totp.data["secret"] not in page and '"secret"' not in page
    assert admin_client.get(reverse("admin:mfa_authenticator_add")).status_code == 403


def test_permissions_read_as_section_model_and_action():
    permission = Permission.objects.get(codename="view_legalentity")
    assert permission_label(permission) == "Реєстр | заклад охорони здоров’я | перегляд"


def test_group_form_offers_the_portals_permissions_in_words(admin_client):
    form = admin_client.get(reverse("admin:auth_group_add")).context["adminform"].form
    labels = [label for _value, label in form.fields["permissions"].choices]
    assert "Портал | ключ API | додавання" in labels
    assert not [label for label in labels if label.startswith("Can ") or "| Can " in label]
    assert not form.fields["permissions"].queryset.filter(content_type__app_label="rest_framework_api_key")


def test_crontabs_are_described_in_ukrainian(admin_client):
    crontab = CrontabSchedule.objects.create(minute="30", hour="3", timezone="Europe/Kyiv")
    assert crontab.human_readable == "О 03:30 Europe/Kyiv"
    page = admin_client.get(reverse("admin:django_celery_beat_crontabschedule_changelist")).content.decode()
    assert "О 03:30 Europe/Kyiv" in page


def run_tasks(client, *tasks):
    response = client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_tasks", "_selected_action": [task.pk for task in tasks]},
        follow=True,
    )
    return [(message.level, message.message) for message in response.context["messages"]]


def test_running_a_periodic_task_says_so_in_ukrainian(admin_client):
    EmailFactory()  # what the task sends (in-process here: no broker)
    interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    task = PeriodicTask.objects.create(
        name="send-pending-emails", task="ehealth_portal.tasks.email_send_pending", interval=interval
    )
    assert run_tasks(admin_client, task) == [(constants.INFO, "Запущено 1 завдання.")]


def test_an_unknown_task_is_refused(admin_client):
    interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    task = PeriodicTask.objects.create(name="gone", task="monitoring.tasks.no_such_task", interval=interval)
    [(level, text)] = run_tasks(admin_client, task)
    assert level == constants.ERROR and "monitoring.tasks.no_such_task" in text
