import pytest
from django.urls import reverse

from monitoring.models import AdministrativeService, Cnap
from monitoring.services import cnaps_import, services_import
from tests.factories import SuperuserFactory, UserFactory

from .conftest import cnap_entry, service_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(SuperuserFactory())
    return client


@pytest.fixture
def registers():
    services_import(
        entries=[service_entry(), service_entry("00145", translations=[{"name": "Допомога при народженні"}])]
    )
    cnaps_import(entries=[cnap_entry(), cnap_entry(2001, name="ЦНАП Львова", region="Львівська область")])


@pytest.mark.parametrize("model", ["administrativeservice", "cnap"])
def test_changelist_add_and_change_pages_load(superuser_client, registers, model):
    assert superuser_client.get(reverse(f"admin:monitoring_{model}_changelist")).status_code == 200
    assert superuser_client.get(reverse(f"admin:monitoring_{model}_add")).status_code == 200


def test_service_page_shows_variations_inline_and_the_entry(superuser_client, registers):
    service = AdministrativeService.objects.get(identifier="00056")
    response = superuser_client.get(
        reverse("admin:monitoring_administrativeservice_change", args=[service.pk])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "20 робочих днів" in page  # the variation's legal term, inline
    assert "Державна міграційна служба України" in page


def test_cnap_page_loads(superuser_client, registers):
    cnap = Cnap.objects.get(code="1001")
    response = superuser_client.get(reverse("admin:monitoring_cnap_change", args=[cnap.pk]))
    assert response.status_code == 200
    assert "вул. Кошиця" in response.content.decode()


@pytest.mark.parametrize(("query", "expected"), [("00056", ["00056"]), ("народженні", ["00145"])])
def test_service_search_by_identifier_or_name(superuser_client, registers, query, expected):
    response = superuser_client.get(
        reverse("admin:monitoring_administrativeservice_changelist"), {"q": query}
    )
    assert [s.identifier for s in response.context["cl"].result_list] == expected


def test_cnap_search_and_region_filter(superuser_client, registers):
    url = reverse("admin:monitoring_cnap_changelist")
    assert [c.code for c in superuser_client.get(url, {"q": "Львова"}).context["cl"].result_list] == ["2001"]
    assert [c.code for c in superuser_client.get(url, {"q": "1001"}).context["cl"].result_list] == ["1001"]
    filtered = superuser_client.get(url, {"region": "Львівська область"}).context["cl"].result_list
    assert [c.code for c in filtered] == ["2001"]


def test_operator_edits_a_variation_term(superuser_client, registers):
    service = AdministrativeService.objects.get(identifier="00056")
    first, second = service.variations.order_by("identifier")
    data = {
        "identifier": "99999",  # ignored: appeals refer to the identifier, which never changes
        "name": service.name,
        "owner_name": service.owner_name,
        "owner_code": "",
        "provider_names": service.provider_names,
        "register_id": service.register_id,
        "is_active": "on",
        "variations-TOTAL_FORMS": "2",
        "variations-INITIAL_FORMS": "2",
        "variations-0-id": first.pk,
        "variations-0-service": service.pk,
        "variations-0-identifier": "1",
        "variations-0-legal_term_days": "25",
        "variations-0-legal_term_working_days": "on",
        "variations-0-legal_term_text": "25 робочих днів",
        "variations-0-is_active": "on",
        "variations-1-id": second.pk,
        "variations-1-service": service.pk,
        "variations-1-identifier": "2",
        "variations-1-legal_term_days": "7",
        "variations-1-legal_term_text": "7 днів",
        "variations-1-is_active": "on",
    }
    response = superuser_client.post(
        reverse("admin:monitoring_administrativeservice_change", args=[service.pk]), data
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.legal_term_days, first.legal_term_working_days) == (25, True)
    assert (second.legal_term_days, second.legal_term_working_days) == (7, False)
    service.refresh_from_db()
    assert service.identifier == "00056"


def test_a_cnap_code_cannot_be_changed_once_stored(superuser_client, registers):
    cnap = Cnap.objects.get(code="1001")
    form = (
        superuser_client.get(reverse("admin:monitoring_cnap_change", args=[cnap.pk]))
        .context["adminform"]
        .form
    )
    assert "code" not in form.fields
    assert (
        "code" in superuser_client.get(reverse("admin:monitoring_cnap_add")).context["adminform"].form.fields
    )


def test_staff_without_permissions_cannot_open_the_registers(client, registers):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:monitoring_cnap_changelist")).status_code == 403
