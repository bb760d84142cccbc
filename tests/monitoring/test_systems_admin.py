"""Operators connect a CNAP's system in the admin ("Моніторинг ЦНАП → Системи даних ЦНАПів")."""

import datetime
import html

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from ehealth_portal.models import Email
from monitoring.models import Appeal, CnapSystem, JoiningApplication, PullRun, QuarantinedRecord
from tests.factories import (
    AppealFactory,
    CnapFactory,
    CnapSystemFactory,
    JoiningApplicationFactory,
    PullRunFactory,
    SuperuserFactory,
    UserFactory,
)
from tests.monitoring import simulator_fixtures
from tests.monitoring.simulator_fixtures import SIM_PASSWORD

pytestmark = pytest.mark.django_db

cnap_simulator = simulator_fixtures.cnap_simulator
simulated_system = simulator_fixtures.simulated_system

ENDPOINT = "https://cnap.example.gov.ua/asc/1001/appeals/"
SYSTEMS = reverse("admin:monitoring_cnapsystem_changelist")
ADD_SYSTEM = reverse("admin:monitoring_cnapsystem_add")
APPLICATIONS = reverse("admin:monitoring_joiningapplication_changelist")


@pytest.fixture
def operator():
    return SuperuserFactory(email="operator@example.com")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def application():
    return JoiningApplicationFactory(cnap=CnapFactory(code="1001", name="ЦНАП Дарницького району"))


def system_form(application, **changes) -> dict:
    return {
        "cnap": application.cnap_id,
        "application": application.pk,
        "name": "Вулик",
        "base_url": ENDPOINT,
        "login": "erepository",
        "password": "s3cret-Pa$$",
        "is_active": "on",
        "pull_runs-TOTAL_FORMS": "0",
        "pull_runs-INITIAL_FORMS": "0",
        **changes,
    }


def system_change_form(system, **changes) -> dict:
    data = {
        "name": system.name,
        "base_url": system.base_url,
        "login": system.login,
        "password": "",
        "is_active": "on" if system.is_active else "",
        "pull_runs-TOTAL_FORMS": "0",
        "pull_runs-INITIAL_FORMS": "0",
        **changes,
    }
    return {key: value for key, value in data.items() if value is not None}


# --- Access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [SYSTEMS, ADD_SYSTEM, APPLICATIONS])
def test_admin_is_closed_to_anonymous_and_non_staff_users(client, url, application):
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(UserFactory())
    assert client.get(url).status_code == 302
    assert client.post(ADD_SYSTEM, system_form(application)).status_code == 302
    assert not CnapSystem.objects.exists()


def test_staff_without_permissions_cannot_connect_or_reject(client, application):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_joiningapplication"))
    client.force_login(staff)
    assert client.get(ADD_SYSTEM).status_code == 403
    assert client.post(ADD_SYSTEM, system_form(application)).status_code == 403
    response = client.post(
        APPLICATIONS,
        {"action": "reject", "_selected_action": [application.pk], "_reject": "1", "comment": "Ні"},
    )
    assert response.status_code == 200  # the changelist: the action is not offered
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.SUBMITTED
    assert not CnapSystem.objects.exists()


def test_the_section_reads_cnap_monitoring_then_cnap_data_systems(operator_client):
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert "Моніторинг ЦНАП" in page
    assert "Системи даних ЦНАПів" in page


# --- Joining applications --------------------------------------------------------------------------


def test_application_page_shows_the_evidence_and_links_to_connecting(operator_client, application):
    url = reverse("admin:monitoring_joiningapplication_change", args=[application.pk])
    page = operator_client.get(url).content.decode()
    assert "Коваленко Олена Петрівна" in page and "Заява про приєднання" in page
    connect = f"{ADD_SYSTEM}?cnap={application.cnap_id}&amp;application={application.pk}&amp;base_url="
    assert connect in page
    signature = operator_client.get(
        reverse("admin:monitoring_joiningapplication_signature", args=[application.pk])
    )
    assert signature.content == b"test evidence"
    assert signature["Content-Type"] == "application/pkcs7-signature"
    assert ".p7s" in signature["Content-Disposition"]


def test_applications_filter_by_status(operator_client, application):
    JoiningApplicationFactory(status=JoiningApplication.Status.REJECTED, signer_name="Відхилений Підписант")
    page = operator_client.get(APPLICATIONS, {"status__exact": "SUBMITTED"}).content.decode()
    assert "Коваленко Олена Петрівна" in page and "Відхилений Підписант" not in page


def test_operators_cannot_edit_or_delete_applications(operator_client, application):
    url = reverse("admin:monitoring_joiningapplication_change", args=[application.pk])
    operator_client.post(url, {"organisation_edrpou": "00000000", "status": "CONNECTED"})
    application.refresh_from_db()
    assert (application.organisation_edrpou, application.status) == ("38782323", "SUBMITTED")
    assert (
        operator_client.get(
            reverse("admin:monitoring_joiningapplication_delete", args=[application.pk])
        ).status_code
        == 403
    )


def reject(client, application, follow=False, **data):
    return client.post(
        APPLICATIONS, {"action": "reject", "_selected_action": [application.pk], **data}, follow=follow
    )


def test_reject_asks_for_a_reason(operator_client, application):
    page = reject(operator_client, application).content.decode()
    assert "Відхилення заяв про приєднання" in page
    page = reject(operator_client, application, _reject="1", comment="  ").content.decode()
    assert "Напишіть причину: ЦНАП її отримає." in page
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.SUBMITTED
    assert not Email.objects.exists()


def test_reject_with_a_reason(
    operator_client, operator, application, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = reject(operator_client, application, _reject="1", comment="Адреса не належить ЦНАП")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.REJECTED
    assert application.decided_by == operator and application.decided_at is not None
    assert application.decision_comment == "Адреса не належить ЦНАП"
    [message] = mailoutbox
    assert message.subject == "Вашу заяву про приєднання до моніторингу ЦНАП відхилено"
    assert "Адреса не належить ЦНАП" in message.body
    page = operator_client.get(APPLICATIONS).content.decode()
    assert "Відхилено заяв про приєднання: 1." in page


def test_a_connected_application_cannot_be_rejected(operator_client, application):
    system = CnapSystemFactory(cnap=application.cnap, application=application)
    JoiningApplication.objects.filter(pk=application.pk).update(status=JoiningApplication.Status.CONNECTED)
    response = reject(operator_client, application, _reject="1", comment="Ні", follow=True)
    assert "Жодна з вибраних заяв не очікує на розгляд." in response.content.decode()
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.CONNECTED
    assert CnapSystem.objects.get() == system


# --- Connecting a system -----------------------------------------------------------------------------


def test_add_form_is_prefilled_from_the_application(operator_client, application):
    other = JoiningApplicationFactory(signer_name="Інший Підписант")
    rejected = JoiningApplicationFactory(
        cnap=application.cnap, status="REJECTED", signer_name="Відхилений Підписант"
    )
    response = operator_client.get(
        ADD_SYSTEM, {"cnap": application.cnap_id, "application": application.pk, "base_url": ENDPOINT}
    )
    form = response.context["adminform"].form
    assert form.initial["base_url"] == ENDPOINT
    assert list(form.fields["application"].queryset) == [application]  # that CNAP's, not rejected
    assert other not in form.fields["application"].queryset and rejected.pk != application.pk


def test_connect_a_system(
    operator_client, operator, application, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(ADD_SYSTEM, system_form(application))
    assert response.status_code == 302, response.context["adminform"].form.errors
    system = CnapSystem.objects.get()
    assert (system.cnap, system.application, system.base_url, system.login) == (
        application.cnap,
        application,
        ENDPOINT,
        "erepository",
    )
    assert system.password == "s3cret-Pa$$"
    assert "s3cret" not in system.password_encrypted
    assert system.created_by == operator
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.CONNECTED
    assert application.decided_by == operator
    [message] = mailoutbox
    assert message.to == [application.contact_email]
    assert message.subject == "Систему вашого ЦНАП підключено до моніторингу"
    assert ENDPOINT in message.body and "s3cret" not in message.body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": ""}, "password", "обов'язкове"),  # required on add
        ({"base_url": "http://cnap.example.gov.ua/appeals/"}, "base_url", "Вкажіть адресу https://"),
        ({"login": "a:b"}, "login", "Введіть логін Basic Auth (без двокрапки)."),
    ],
)
def test_connect_refuses_bad_input(operator_client, application, changes, field, message):
    response = operator_client.post(ADD_SYSTEM, system_form(application, **changes))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not CnapSystem.objects.exists()
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.SUBMITTED


def test_connect_refuses_an_application_of_another_cnap(operator_client, application):
    other_cnap = CnapFactory(code="2001")
    response = operator_client.post(ADD_SYSTEM, system_form(application, cnap=other_cnap.pk))
    assert "Ця заява від іншого ЦНАП." in response.context["adminform"].form.errors["application"]
    assert not CnapSystem.objects.exists()


def test_connect_refuses_a_rejected_application(operator_client, application):
    JoiningApplication.objects.filter(pk=application.pk).update(status=JoiningApplication.Status.REJECTED)
    response = operator_client.post(ADD_SYSTEM, system_form(application))
    assert response.context["adminform"].form.errors["application"]
    assert not CnapSystem.objects.exists()


def test_connect_refuses_a_second_active_system_of_the_cnap(operator_client, application):
    existing = CnapSystemFactory(cnap=application.cnap, application=application)
    response = operator_client.post(ADD_SYSTEM, system_form(application))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert list(CnapSystem.objects.all()) == [existing]


def test_change_form_never_shows_the_password_and_blank_keeps_it(operator_client):
    system = CnapSystemFactory(password="pa$$word", base_url=ENDPOINT)
    url = reverse("admin:monitoring_cnapsystem_change", args=[system.pk])
    page = operator_client.get(url).content.decode()
    assert "pa$$word" not in page and system.password_encrypted not in page
    assert 'type="password"' in page
    response = operator_client.post(url, system_change_form(system, name="Нова назва"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    system.refresh_from_db()
    assert (system.name, system.password) == ("Нова назва", "pa$$word")


def test_a_view_only_operator_never_sees_the_password(client):
    system = CnapSystemFactory(password="pa$$word")
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_cnapsystem"))
    client.force_login(viewer)
    response = client.get(reverse("admin:monitoring_cnapsystem_change", args=[system.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and system.base_url in page
    assert "pa$$word" not in page and system.password_encrypted not in page


def test_change_the_password_by_typing_a_new_one(operator_client, operator):
    system = CnapSystemFactory(password="pa$$word", base_url=ENDPOINT)
    url = reverse("admin:monitoring_cnapsystem_change", args=[system.pk])
    assert operator_client.post(url, system_change_form(system, password="new-Pa$$")).status_code == 302
    system.refresh_from_db()
    assert system.password == "new-Pa$$"
    assert system.updated_by == operator


def test_change_cannot_move_a_system_to_another_cnap(operator_client):
    system = CnapSystemFactory()
    other = JoiningApplicationFactory()
    url = reverse("admin:monitoring_cnapsystem_change", args=[system.pk])
    operator_client.post(url, system_change_form(system, cnap=other.cnap_id, application=other.pk))
    system.refresh_from_db()
    assert system.application != other and system.cnap != other.cnap


def test_systems_are_never_deleted(operator_client):
    system = CnapSystemFactory()
    url = reverse("admin:monitoring_cnapsystem_delete", args=[system.pk])
    assert operator_client.post(url, {"post": "yes"}).status_code == 403
    assert CnapSystem.objects.filter(pk=system.pk).exists()


def test_health_is_shown_and_failing_systems_can_be_filtered(operator_client):
    failing = CnapSystemFactory(is_failing=True, consecutive_failures=4, name="Збійна система")
    CnapSystemFactory(name="Справна система")
    page = operator_client.get(SYSTEMS, {"is_failing__exact": "1"}).content.decode()
    assert "Збійна система" in page and "Справна система" not in page
    change = operator_client.get(
        reverse("admin:monitoring_cnapsystem_change", args=[failing.pk])
    ).content.decode()
    assert "невдалих завантажень поспіль" in change


def test_the_change_page_lists_the_latest_pull_runs(operator_client):
    system = CnapSystemFactory()
    runs = [PullRunFactory(system=system, error_code=f"code-{n:02d}") for n in range(12)]
    page = operator_client.get(
        reverse("admin:monitoring_cnapsystem_change", args=[system.pk])
    ).content.decode()
    assert "code-11" in page and "code-02" in page
    assert "code-01" not in page and "code-00" not in page  # the latest ten only
    assert len(runs) == 12


# --- Re-pull a period: the form ----------------------------------------------------------------------


def pull_period(client, system, **data):
    return client.post(SYSTEMS, {"action": "pull_period", "_selected_action": [system.pk], **data})


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime.date(2026, 11, 10), datetime.date(2026, 11, 1), "Початок періоду пізніший за його кінець."),
        (None, 1, "Період не може закінчуватися в майбутньому."),
        (datetime.date(2025, 1, 1), datetime.date(2026, 11, 1), "Період — не довше 366 днів."),
    ],
)
def test_pull_period_validates_the_dates(operator_client, start, end, message):
    system = CnapSystemFactory()
    today = timezone.localdate()
    start = start or today
    end = today + datetime.timedelta(days=end) if isinstance(end, int) else end
    page = pull_period(operator_client, system).content.decode()
    assert "Повторне завантаження звернень за період" in page
    assert "Перший день" in page and "Останній день" in page
    page = pull_period(
        operator_client, system, _pull="1", window_start=start, window_end=end
    ).content.decode()
    assert message in page
    assert not PullRun.objects.exists()


# --- Read-only records -------------------------------------------------------------------------------


def test_pull_runs_are_read_only_and_filterable(operator_client):
    run = PullRunFactory(status="FAILED", error_code="http_error", system=CnapSystemFactory(is_failing=True))
    page = operator_client.get(
        reverse("admin:monitoring_pullrun_changelist"),
        {"system__is_failing__exact": "1", "status__exact": "FAILED"},
    ).content.decode()
    assert "http_error" in page
    assert "01.11.2026 – 07.11.2026" in page  # the window's days
    assert operator_client.get(reverse("admin:monitoring_pullrun_add")).status_code == 403
    operator_client.post(reverse("admin:monitoring_pullrun_change", args=[run.pk]), {"status": "SUCCEEDED"})
    run.refresh_from_db()
    assert run.status == "FAILED"


def test_quarantined_record_shows_reasons_and_the_record(operator_client):
    record = QuarantinedRecord.objects.create(
        system=CnapSystemFactory(),
        record_key="A-1",
        appeal_id="A-1",
        record={"appeal_id": "A-1", "channel": "телепатія"},
        reasons=[{"path": "channel", "code": "invalid", "message": "unknown channel"}],
    )
    page = operator_client.get(
        reverse("admin:monitoring_quarantinedrecord_change", args=[record.pk])
    ).content.decode()
    assert "<code>channel</code>: unknown channel" in page  # the contract's field, as code
    assert '"channel": "телепатія"' in html.unescape(page)  # pretty-printed
    assert operator_client.get(reverse("admin:monitoring_quarantinedrecord_changelist")).status_code == 200


def test_appeals_are_listed_searched_and_never_edited(operator_client):
    appeal = AppealFactory(appeal_id="A-7777777", cnap=CnapFactory(code="3001", region="Харківська область"))
    AppealFactory(appeal_id="A-1234567")
    changelist = reverse("admin:monitoring_appeal_changelist")
    page = operator_client.get(changelist, {"q": "A-7777777"}).content.decode()
    assert "A-7777777" in page and "A-1234567" not in page
    page = operator_client.get(
        changelist, {"cnap__region": "Харківська область", "channel__exact": "offline"}
    ).content.decode()
    assert "A-7777777" in page and "A-1234567" not in page
    url = reverse("admin:monitoring_appeal_change", args=[appeal.pk])
    operator_client.post(url, {"status": "refused", "channel": "online"})
    appeal.refresh_from_db()
    assert (appeal.status, appeal.channel) == ("issued", "offline")
    assert operator_client.get(reverse("admin:monitoring_appeal_add")).status_code == 403
    assert (
        operator_client.post(
            reverse("admin:monitoring_appeal_delete", args=[appeal.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Appeal.objects.filter(pk=appeal.pk).exists()


# --- Actions on the simulator ---------------------------------------------------------------------


def act(client, action, *systems, **data) -> str:
    """The page the action ends on, with its messages, as text."""
    response = client.post(
        SYSTEMS, {"action": action, "_selected_action": [s.pk for s in systems], **data}, follow=True
    )
    return html.unescape(response.content.decode())


def test_connection_test_reports_that_it_works(operator_client, operator, simulated_system):
    page = act(operator_client, "connection_test", simulated_system)
    assert f"{simulated_system}: з'єднання працює, записів за" in page
    run = PullRun.objects.get()
    assert (run.trigger, run.status, run.requested_by) == ("TEST", "SUCCEEDED", operator)
    assert not Appeal.objects.exists()  # a test stores no appeals


def test_connection_test_reports_a_refused_password(operator_client, simulated_system):
    simulated_system.password = "wrong"
    simulated_system.save()
    page = act(operator_client, "connection_test", simulated_system)
    assert f"{simulated_system}: з'єднання не вдалося (HTTP 401)" in page
    assert "wrong" not in page and SIM_PASSWORD not in page
    simulated_system.refresh_from_db()
    assert simulated_system.consecutive_failures == 0  # a test is not a pull


def test_pull_now_pulls_the_last_days(
    operator_client, operator, simulated_system, settings, django_capture_on_commit_callbacks
):
    settings.MONITORING_PULL_WINDOW_DAYS = 3
    with django_capture_on_commit_callbacks(execute=True):  # the runs are queued after commit
        page = act(operator_client, "pull_now", simulated_system)
    today = timezone.localdate()
    run = PullRun.objects.get()
    assert (run.trigger, run.requested_by, run.window_start, run.window_end) == (
        "MANUAL",
        operator,
        today - datetime.timedelta(days=3),  # the daily pull's window: [today − 3 days, today]
        today,
    )
    assert run.status == "SUCCEEDED"
    assert "Завантажень поставлено в чергу: 1" in page
    assert Appeal.objects.filter(system=simulated_system).exists()


def test_pull_a_period_again(operator_client, operator, simulated_system):
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 2, 15)  # longer than a run: two runs
    page = act(
        operator_client, "pull_period", simulated_system, _pull="1", window_start=start, window_end=end
    )
    runs = list(PullRun.objects.order_by("window_start"))
    assert len(runs) == 2  # the service splits a window longer than a run
    assert (runs[0].window_start, runs[-1].window_end) == (start, end)
    assert all(r.trigger == "MANUAL" and r.requested_by == operator for r in runs)
    assert f"Завантажень поставлено в чергу: {len(runs)}" in page


def test_an_inactive_system_is_not_pulled(operator_client, simulated_system):
    CnapSystem.objects.filter(pk=simulated_system.pk).update(is_active=False)
    page = act(operator_client, "pull_now", simulated_system)
    assert f"Система {simulated_system} неактивна." in page
    assert not PullRun.objects.exists()


def test_a_refusal_by_the_service_after_the_form_is_shown_and_nothing_changes(
    operator_client, application, monkeypatch
):
    """Another operator connected a system between this form's checks and its save (a race)."""
    monkeypatch.setattr("monitoring.services._active_system_exists", lambda **kwargs: True)
    response = operator_client.post(ADD_SYSTEM, system_form(application), follow=True)
    assert "Цей ЦНАП уже має активну систему." in html.unescape(response.content.decode())
    assert not CnapSystem.objects.exists()
    application.refresh_from_db()
    assert application.status == JoiningApplication.Status.SUBMITTED
