""" "Pull now" says how the runs went when they ran in-process (no broker), and that they are queued when
a worker will run them; it names its period as the README does: the last 7 days, with the dates."""

import datetime

import pytest
from django.contrib.messages import constants
from django.urls import reverse
from django.utils import timezone

from monitoring.models import PullRun
from tests.factories import SuperuserFactory
from tests.monitoring import simulator_fixtures

pytestmark = pytest.mark.django_db

cnap_simulator = simulator_fixtures.cnap_simulator
simulated_system = simulator_fixtures.simulated_system

SYSTEMS = reverse("admin:monitoring_cnapsystem_changelist")


@pytest.fixture
def operator_client(client):
    client.force_login(SuperuserFactory(email="operator@example.com"))
    return client


def pull_now(client, system) -> list[tuple[int, str]]:
    """The messages the action ends with: (level, text)."""
    response = client.post(SYSTEMS, {"action": "pull_now", "_selected_action": [system.pk]}, follow=True)
    return [(message.level, message.message) for message in response.context["messages"]]


def week_dates() -> str:
    today = timezone.localdate()
    return f"{today - datetime.timedelta(days=7):%d.%m.%Y} – {today:%d.%m.%Y}"


@pytest.mark.django_db(transaction=True)  # the request's commit runs the in-process task, as in production
def test_pull_now_without_a_broker_reports_what_was_pulled(operator_client, simulated_system):
    [(level, text)] = pull_now(operator_client, simulated_system)
    run = PullRun.objects.get()
    assert run.status == PullRun.Status.SUCCEEDED and run.records_received > 0
    assert level == constants.SUCCESS
    assert text.startswith(f"{simulated_system}, {week_dates()}: ")
    assert f"Отримано записів: {run.records_received}, нових звернень: {run.records_created}" in text


@pytest.mark.django_db(transaction=True)
def test_pull_now_without_a_broker_reports_a_failure_not_a_queue(operator_client, simulated_system):
    simulated_system.password = "wrong"
    simulated_system.save()
    [(level, text)] = pull_now(operator_client, simulated_system)
    run = PullRun.objects.get()
    assert (run.status, run.error_code) == (PullRun.Status.FAILED, "auth")
    assert level == constants.ERROR
    assert text.startswith(f"{simulated_system}, {week_dates()}: ")
    assert run.error_message in text
    assert "черг" not in text


def test_pull_now_for_a_worker_says_queued_with_the_dates(operator_client, simulated_system):
    # In the test's transaction nothing commits: the run waits, as for a worker on the broker.
    [(level, text)] = pull_now(operator_client, simulated_system)
    assert PullRun.objects.get().status == PullRun.Status.QUEUED
    assert level == constants.INFO  # not the green of a success
    today = timezone.localdate()
    assert text.startswith(
        f"Завантажень поставлено в чергу: 1 ({today - datetime.timedelta(days=7):%d.%m.%Y}…{today:%d.%m.%Y})"
    )


def test_the_action_names_its_period(operator_client, simulated_system, settings):
    settings.MONITORING_PULL_WINDOW_DAYS = 7
    choices = dict(operator_client.get(SYSTEMS).context["action_form"].fields["action"].choices)
    assert choices["pull_now"] == "Завантажити зараз звернення за останні 7 днів"
    settings.MONITORING_PULL_WINDOW_DAYS = 1
    choices = dict(operator_client.get(SYSTEMS).context["action_form"].fields["action"].choices)
    assert choices["pull_now"] == "Завантажити зараз звернення за останній 1 день"


def _error_codes_written() -> set[str]:
    """The codes the puller stores: PullError's first argument and error_code= / .error_code = values."""
    import ast
    from pathlib import Path

    codes = set()
    for name in ("client.py", "pulling.py"):
        tree = ast.parse((Path(__file__).resolve().parents[2] / "monitoring" / name).read_text())
        for node in ast.walk(tree):
            values = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PullError" and node.args:
                values = [node.args[0]]
            values += [kw.value for kw in getattr(node, "keywords", []) if kw.arg == "error_code"]
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple):
                pairs = zip(node.targets[0].elts, getattr(node.value, "elts", []), strict=False)
                values += [value for target, value in pairs if getattr(target, "attr", None) == "error_code"]
            for value in values:
                codes |= {c.value for c in ast.walk(value) if isinstance(c, ast.Constant) and c.value}
    return codes


def test_every_error_code_the_puller_writes_has_words():
    written = _error_codes_written()
    assert {"auth", "timeout", "worker_lost", "secret_unreadable", "internal_error"} <= written
    assert sorted(written - set(PullRun.ErrorCode.values)) == []
