"""The admin index tells an operator what waits: applications to decide, declarations to verify, failed
pulls, quarantined records."""

import datetime
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import PullRun
from tests import factories

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


@pytest.fixture
def waiting_work():
    factories.RegistrationApplicationFactory.create_batch(2)  # waiting for an operator
    factories.RegistrationApplicationFactory(status="REJECTED")
    system = factories.CnapSystemFactory()
    factories.PullRunFactory.create_batch(3, system=system, status="FAILED", error_code="auth")
    old = factories.PullRunFactory(system=system, status="FAILED", error_code="timeout")
    PullRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    factories.PullRunFactory(system=system, status="SUCCEEDED")
    factories.QuarantinedRecordFactory.create_batch(4, system=system)


def test_the_index_counts_what_waits_and_links_to_those_records(admin_client, waiting_work):
    figures = admin_client.get(INDEX).context["dashboard"]
    assert [figure["count"] for figure in figures] == [2, 0, 3, 4]
    for figure in figures:  # each link opens the list of exactly the records counted
        url = urlsplit(figure["url"])
        changelist = admin_client.get(url.path + ("?" + url.query if url.query else ""))
        assert changelist.status_code == 200
        assert changelist.context["cl"].result_count == figure["count"], figure["url"]
    assert figures[0]["url"].startswith(reverse("admin:registry_registrationapplication_changelist"))
    assert figures[1]["url"].startswith(reverse("admin:declarations_declaration_changelist"))
    assert figures[2]["url"].startswith(reverse("admin:monitoring_pullrun_changelist"))
    assert figures[3]["url"] == reverse("admin:monitoring_quarantinedrecord_changelist")


def test_the_figures_read_in_ukrainian_plural_forms(admin_client, waiting_work):
    page = admin_client.get(INDEX).content.decode()
    assert "2 заяви чекають на рішення оператора" in page
    assert "3 невдалі завантаження за останні 7 днів" in page
    assert "4 записи в карантині" in page


def test_nothing_waiting_reads_as_zero(admin_client):
    texts = [figure["text"] for figure in admin_client.get(INDEX).context["dashboard"]]
    assert [figure["count"] for figure in admin_client.get(INDEX).context["dashboard"]] == [0, 0, 0, 0]
    assert "0 записів у карантині" in texts


def test_the_dashboard_costs_the_same_queries_whatever_the_data(admin_client):
    def index_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(INDEX).status_code == 200
        return len(queries)

    index_queries()  # the session and the caches warmed
    empty = index_queries()
    system = factories.CnapSystemFactory()
    factories.RegistrationApplicationFactory.create_batch(5)
    factories.PullRunFactory.create_batch(5, system=system, status="FAILED")
    factories.QuarantinedRecordFactory.create_batch(5, system=system)
    assert index_queries() == empty


def test_an_operator_sees_only_the_figures_of_what_they_may_view(client, waiting_work):
    operator = factories.UserFactory(is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_quarantinedrecord"))
    client.force_login(operator)
    figures = client.get(INDEX).context["dashboard"]
    assert [figure["count"] for figure in figures] == [4]
