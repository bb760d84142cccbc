"""The simulated CNAP system: the §6 contract, deterministic appeals, faults and the demo command."""

import base64
import collections
import datetime
import json
import socket

import pytest
import urllib3
from django.core.management import CommandError, call_command

from monitoring.ingest import appeals_ingest, deadline_for
from monitoring.simulator import KYIV, CnapSimulator
from tests.factories import CnapSystemFactory
from tests.monitoring import simulator_fixtures
from tests.monitoring.simulator_fixtures import SIM_LOGIN, SIM_PASSWORD

cnap_simulator = simulator_fixtures.cnap_simulator

START, END = datetime.date(2026, 10, 1), datetime.date(2026, 10, 10)
CONTRACT_KEYS = {
    "id",
    "asc_code",
    "service_code",
    "variation_code",
    "channel",
    "applicant_type",
    "status",
    "result",
    "registered_at",
    "decided_at",
    "issued_at",
    "deadline_at",
    "updated_at",
    "is_test",
    "is_consultation",
    "feedback",
}
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{SIM_LOGIN}:{SIM_PASSWORD}".encode()).decode()}

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(cnap_simulator):
    return sorted(cnap_simulator.cnap_codes)[0]


def _get(url, headers=AUTH, method="GET", body=None):
    response = urllib3.request(method, url, headers=headers, body=body, redirect=False, retries=False)
    return response.status, response.headers, response.json() if response.data else None


def _kyiv_day(value: str) -> datetime.date:
    return datetime.datetime.fromisoformat(value).astimezone(KYIV).date()


def test_appeals_are_the_same_on_every_pull_and_differ_by_seed(cnap_simulator, code):
    first = cnap_simulator.records(code, START, END)

    # A second simulator over the same Register (read from the database again) serves the same appeals.
    assert CnapSimulator().records(code, START, END) == first
    reseeded = CnapSimulator(seed="another").records(code, START, END)
    assert len(reseeded) > 0
    assert reseeded != first


def test_a_range_holds_every_appeal_created_or_updated_in_it_ordered_by_update(cnap_simulator, code):
    records = cnap_simulator.records(code, START, END)

    assert len({record["id"] for record in records}) == len(records)
    for record in records:
        assert (
            START <= _kyiv_day(record["registered_at"]) <= END
            or START <= _kyiv_day(record["updated_at"]) <= END
        )
    assert any(
        _kyiv_day(record["registered_at"]) < START for record in records
    )  # older, updated in the range
    registered_in_range = [r for r in records if START <= _kyiv_day(r["registered_at"]) <= END]
    assert len(registered_in_range) == cnap_simulator.appeals_per_day * 10
    keys = [(datetime.datetime.fromisoformat(r["updated_at"]), r["id"]) for r in records]
    assert keys == sorted(keys)


def test_appeals_follow_the_contract_with_a_realistic_mix_and_no_personal_data(cnap_simulator, code):
    records = CnapSimulator(
        service_codes=[s.code for s in cnap_simulator.services], cnap_codes=[code], appeals_per_day=200
    ).records(code, START, END)
    statuses = collections.Counter(record["status"] for record in records)
    closed = [r for r in records if r["decided_at"]]

    assert {key for record in records for key in record} == CONTRACT_KEYS
    assert set(statuses) >= {"in_progress", "ready", "issued", "refused", "returned", "cancelled"}
    assert 0.04 < statuses["refused"] / len(records) < 0.12
    assert {record["channel"] for record in records} == {"offline", "online", "remote", "mail"}
    assert any(r["deadline_at"] and r["decided_at"] > r["deadline_at"] for r in closed)  # some overdue
    assert 0.1 < sum(1 for r in records if r["deadline_at"] is None) / len(records) < 0.3
    assert 0.1 < sum(1 for r in records if r["feedback"]) / len(records) < 0.5
    assert all(r["decided_at"] >= r["registered_at"] for r in closed)


def test_every_simulated_appeal_passes_ingestion(cnap_simulator, code):
    from monitoring.models import Cnap

    system = CnapSystemFactory(cnap=Cnap.objects.get(code=code))

    result = appeals_ingest(system=system, run=None, records=cnap_simulator.records(code, START, END))

    assert result.quarantined == 0
    assert result.created == len(cnap_simulator.records(code, START, END))


def test_sent_deadlines_follow_the_registers_legal_terms(cnap_simulator, code):
    terms = {
        (service.code, variation): (days, working)
        for service in cnap_simulator.services
        for variation, days, working in service.variations
    }
    checked = 0
    for record in cnap_simulator.records(code, START, END):
        term = terms.get((record["service_code"], record["variation_code"]))
        if record["deadline_at"] and term:
            registered = datetime.datetime.fromisoformat(record["registered_at"]).astimezone(KYIV).date()
            # The simulator keeps whole seconds: it sends the last second of the term's last day.
            expected = deadline_for(registered, *term).replace(microsecond=0)
            assert datetime.datetime.fromisoformat(record["deadline_at"]) == expected
            checked += 1
    assert checked > 50


def test_an_appeal_registered_today_shows_only_what_has_happened(code):
    simulator = CnapSimulator(service_codes=["00145"], cnap_codes=[code], appeals_per_day=50)
    today = datetime.datetime.now(KYIV).date()
    now = datetime.datetime.now(KYIV)

    for record in simulator.records(code, today, today):
        assert datetime.datetime.fromisoformat(record["registered_at"]) <= now
        assert datetime.datetime.fromisoformat(record["updated_at"]) <= now
        for key in ("decided_at", "issued_at"):
            assert record[key] is None or datetime.datetime.fromisoformat(record[key]) <= now


# --- HTTP ---------------------------------------------------------------------------------------


def _cursor(record: dict) -> str:
    """The simulator's `after` cursor naming a record: its updated_at (epoch seconds) and id."""
    return f"{int(datetime.datetime.fromisoformat(record['updated_at']).timestamp())}%3A{record['id']}"


def test_pages_link_to_the_next_by_absolute_url_with_a_cursor(cnap_simulator, code):
    url = f"{cnap_simulator.url_for(code)}?start_date={START}&end_date={END}"
    records = cnap_simulator.records(code, START, END)

    status, headers, first = _get(url)
    _status, _headers, second = _get(first["next_page"])
    _status, _headers, past_the_end = _get(f"{url}&page=2&after={_cursor(records[-1])}")

    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert first["success"] is True
    assert first["count"] == len(records)
    assert first["data"] == records[: cnap_simulator.page_size]
    assert first["next_page"] == f"{url}&page=2&after={_cursor(records[cnap_simulator.page_size - 1])}"
    # The next page starts right after the last record sent, in (updated_at, id) order.
    assert second["data"] == records[cnap_simulator.page_size : 2 * cnap_simulator.page_size]
    assert (past_the_end["data"], past_the_end["next_page"]) == ([], None)


@pytest.mark.parametrize("cursor", ["", "&after=", "&after=soon%3AA-1", "&after=1790918914%3A"])
def test_a_next_page_without_its_cursor_is_refused(cnap_simulator, code, cursor):
    status, _headers, body = _get(
        f"{cnap_simulator.url_for(code)}?start_date={START}&end_date={END}&page=2{cursor}"
    )

    assert (status, body["success"], body["error"]["code"]) == (400, False, "invalid_page")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic " + base64.b64encode(b"erepository:no").decode()}]
)
def test_missing_or_wrong_credentials_get_401_with_a_basic_challenge(cnap_simulator, code, headers):
    status, response_headers, body = _get(
        f"{cnap_simulator.url_for(code)}?start_date={START}&end_date={END}", headers
    )

    assert status == 401
    assert response_headers["WWW-Authenticate"].startswith("Basic ")
    assert body["success"] is False


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("start_date=2026-10-01", "invalid_date"),
        ("start_date=2026-13-01&end_date=2026-13-02", "invalid_date"),
        ("start_date=20261001&end_date=20261002", "invalid_date"),
        ("start_date=2026-10-05&end_date=2026-10-01", "invalid_date"),
        ("start_date=2026-09-01&end_date=2026-10-02", "range_too_large"),
        ("start_date=2026-10-01&end_date=2026-10-02&page=0", "invalid_page"),
    ],
)
def test_bad_requests_get_400_with_an_error_code(cnap_simulator, code, query, error):
    status, _headers, body = _get(f"{cnap_simulator.url_for(code)}?{query}")

    assert status == 400
    assert body == {"success": False, "error": {"code": error, "message": body["error"]["message"]}}


def test_an_unknown_cnap_gets_404(cnap_simulator):
    status, _headers, body = _get(f"{cnap_simulator.url_for('999999')}?start_date={START}&end_date={END}")

    assert (status, body["error"]["code"]) == (404, "unknown_asc")


def test_faults_can_be_set_and_cleared_over_http_from_this_machine(cnap_simulator, code):
    url = f"{cnap_simulator.url_for(code)}?start_date={START}&end_date={END}"

    status, _headers, body = _get(
        f"{cnap_simulator.base_url}/_faults", {}, "POST", json.dumps({"kind": "500", "times": 2})
    )
    assert (status, body["faults"]) == (200, [{"kind": "500", "times": 2, "after_pages": 0}])
    assert _get(url)[0] == 500

    assert _get(f"{cnap_simulator.base_url}/_faults", {}, "DELETE")[0] == 200
    assert _get(url)[0] == 200

    status, _headers, body = _get(
        f"{cnap_simulator.base_url}/_faults", {}, "POST", json.dumps({"kind": "boom"})
    )
    assert (status, body["error"]["code"]) == (400, "invalid_fault")
    assert cnap_simulator.faults == []


def _local_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_faults_cannot_be_set_from_another_machine():
    address = _local_address()
    if address is None:
        pytest.skip("no non-loopback interface")
    simulator = CnapSimulator(host="0.0.0.0", service_codes=["00145"], cnap_codes=["4101"]).start()  # noqa: S104
    try:
        status, _headers, body = _get(
            f"http://{address}:{simulator.port}/_faults", {}, "POST", json.dumps({"kind": "500"})
        )
    finally:
        simulator.stop()

    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert simulator.faults == []


def test_the_command_refuses_a_public_address():
    with pytest.raises(CommandError, match="--allow-public"):
        call_command("cnap_simulator", "--host", "0.0.0.0")  # noqa: S104
