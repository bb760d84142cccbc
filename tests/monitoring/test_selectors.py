import pytest

from monitoring.models import AdministrativeService
from monitoring.selectors import cnap_regions, service_variation_for_appeal
from monitoring.services import cnaps_import, services_import

from .conftest import cnap_entry, service_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def services():
    one = [{"identifier": "1", "duration": {"type": "calendar_days", "value": 10}}]
    services_import(entries=[service_entry(), service_entry("00145", variations=one)])


def test_named_variation_is_found(services):
    variation = service_variation_for_appeal(service_identifier="00056", variation_identifier="2")
    assert (variation.identifier, variation.legal_term_days) == ("2", 7)


def test_only_variation_is_used_when_the_appeal_names_none(services):
    assert service_variation_for_appeal(service_identifier="00145").legal_term_days == 10


@pytest.mark.parametrize(
    ("service", "variation"),
    [("00056", ""), ("00056", "9"), ("99999", ""), ("56", "1")],  # ambiguous, unknown, unknown, zeros matter
)
def test_no_variation_when_ambiguous_or_unknown(services, service, variation):
    assert service_variation_for_appeal(service_identifier=service, variation_identifier=variation) is None


def test_inactive_service_has_no_variation(services):
    AdministrativeService.objects.filter(identifier="00145").update(is_active=False)
    assert service_variation_for_appeal(service_identifier="00145") is None


def test_regions_of_active_cnaps():
    cnaps_import(
        entries=[
            cnap_entry(1, region="Львівська область"),
            cnap_entry(2, region="м. Київ"),
            cnap_entry(3, region="м. Київ"),
            cnap_entry(4, region="Одеська область", state="Закритий назавжди"),
            cnap_entry(5, region=""),
        ]
    )
    assert cnap_regions() == ["Львівська область", "м. Київ"]
