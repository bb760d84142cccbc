"""The CNAP simulator for tests: `from tests.monitoring.simulator_fixtures import cnap_simulator, simulated_system`.

`cnap_simulator` serves the Register and CNAP rows of the test database (a CNAP "4101" and three
services are created when the database has none) on 127.0.0.1 in a background thread.
"""

import pytest

from monitoring.simulator import CnapSimulator
from tests.factories import (
    AdministrativeServiceFactory,
    CnapFactory,
    CnapSystemFactory,
    ServiceVariationFactory,
)

SIM_LOGIN = "erepository"
SIM_PASSWORD = "s3cret-Pa55:word"  # a colon and digits: Basic Auth must carry it whole


def simulator_registry() -> None:
    """A CNAP and services with every kind of legal term, unless the test made its own."""
    from monitoring.models import AdministrativeService, Cnap

    if not Cnap.objects.exists():
        CnapFactory(code="4101", name="ЦНАП симулятора")
    if not AdministrativeService.objects.exists():
        one_term = AdministrativeServiceFactory(identifier="00145")
        ServiceVariationFactory(service=one_term, identifier="1", legal_term_days=10)
        two_terms = AdministrativeServiceFactory(identifier="00056")
        ServiceVariationFactory(
            service=two_terms, identifier="1", legal_term_days=20, legal_term_working_days=True
        )
        ServiceVariationFactory(
            service=two_terms, identifier="2", legal_term_days=7, legal_term_working_days=True
        )
        AdministrativeServiceFactory(identifier="00012")  # no variation, no term


@pytest.fixture
def cnap_simulator(db):
    simulator_registry()
    simulator = CnapSimulator(host="127.0.0.1", port=0, login=SIM_LOGIN, password=SIM_PASSWORD, page_size=20)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def simulated_system(cnap_simulator):
    """An active system of the simulator's first CNAP, connected with the simulator's credentials."""
    from monitoring.models import Cnap

    cnap = Cnap.objects.get(code=sorted(cnap_simulator.cnap_codes)[0])
    return CnapSystemFactory(
        cnap=cnap, base_url=cnap_simulator.url_for(cnap.code), login=SIM_LOGIN, password=SIM_PASSWORD
    )
