"""The appeals client against the simulated CNAP system: paging, the target policy and every refusal."""

import datetime
import ipaddress
import socket
import ssl
import threading
import time

import pytest

from monitoring.client import PullError, _address_allowed, fetch_pages
from monitoring.simulator import CnapSimulator
from tests.monitoring import simulator_fixtures
from tests.monitoring.simulator_fixtures import SIM_LOGIN, SIM_PASSWORD

cnap_simulator = simulator_fixtures.cnap_simulator

START, END = datetime.date(2026, 10, 1), datetime.date(2026, 10, 5)


@pytest.fixture
def code(cnap_simulator):
    return sorted(cnap_simulator.cnap_codes)[0]


def _pages(base_url, *, password=SIM_PASSWORD, start=START, end=END, **kwargs):
    return list(
        fetch_pages(base_url=base_url, login=SIM_LOGIN, password=password, start=start, end=end, **kwargs)
    )


def _error(base_url, **kwargs) -> PullError:
    with pytest.raises(PullError) as raised:
        _pages(base_url, **kwargs)
    assert SIM_PASSWORD not in str(raised.value.message)
    return raised.value


@pytest.fixture
def resolve_to(monkeypatch):
    """Make one host name resolve to the given address; counts the look-ups."""
    real = socket.getaddrinfo
    lookups = []

    def fake(host, port, *args, **kwargs):
        if host in names:
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    names: dict[str, str] = {}
    monkeypatch.setattr(socket, "getaddrinfo", fake)

    def add(host, address):
        names[host] = address
        return lookups

    return add


def test_every_page_is_fetched_in_order(cnap_simulator, code):
    expected = cnap_simulator.records(code, START, END)

    pages = _pages(cnap_simulator.url_for(code))

    assert [page.number for page in pages] == list(range(1, len(expected) // cnap_simulator.page_size + 2))
    assert [record for page in pages for record in page.records] == expected
    assert {page.http_status for page in pages} == {200}
    assert pages[0].url == f"{cnap_simulator.url_for(code)}?start_date=2026-10-01&end_date=2026-10-05"
    assert "&page=2&after=" in pages[1].url


def test_the_connection_is_pinned_to_the_address_resolved_once(cnap_simulator, code, resolve_to):
    # "cnap.test" exists nowhere but here: every page must go to the pinned address with its name as Host.
    lookups = resolve_to("cnap.test", "127.0.0.1")

    pages = _pages(f"http://cnap.test:{cnap_simulator.port}/asc/{code}/appeals/")

    assert len(pages) > 2
    assert pages[1].url.startswith(f"http://cnap.test:{cnap_simulator.port}/")  # next_page on the same name
    assert lookups == ["cnap.test"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
        "64:ff9b:1::1",  # local-use NAT64
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "fec0::1",  # site-local
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
    ],
)
def test_private_and_reserved_addresses_are_refused_before_connecting(
    cnap_simulator, code, resolve_to, settings, address
):
    settings.MONITORING_ALLOW_PRIVATE_TARGETS = False
    resolve_to("cnap.test", address)

    error = _error(f"http://cnap.test:{cnap_simulator.port}/asc/{code}/appeals/")

    assert (error.code, error.retryable) == ("forbidden_target", False)
    assert address in error.message
    assert cnap_simulator.requests == 0


@pytest.mark.parametrize("address", ["203.0.113.0", "8.8.8.8", "2a00:1450:4001::1", "64:ff9b::808:808"])
def test_public_addresses_pass_the_target_policy(address):
    expected = address != "203.0.113.0"  # a documentation range is not public
    assert _address_allowed(ipaddress.ip_address(address)) is expected


def test_only_http_and_https_are_pulled(cnap_simulator):
    error = _error("ftp://127.0.0.1/appeals/")

    assert (error.code, error.retryable) == ("forbidden_target", False)


def test_wrong_credentials_are_an_auth_error_that_is_not_retried(cnap_simulator, code):
    error = _error(cnap_simulator.url_for(code), password="wrong")

    assert (error.code, error.http_status, error.retryable) == ("auth", 401, False)


def test_a_range_the_system_refuses_is_a_remote_error_with_its_reason(cnap_simulator, code):
    error = _error(
        cnap_simulator.url_for(code), start=datetime.date(2026, 9, 1), end=datetime.date(2026, 10, 15)
    )

    assert (error.code, error.http_status, error.retryable) == ("remote_error", 400, False)
    assert "range_too_large" in error.message


def test_an_unknown_cnap_is_a_remote_error(cnap_simulator):
    error = _error(cnap_simulator.url_for("999999"))

    assert (error.code, error.http_status, error.retryable) == ("remote_error", 404, False)


def test_a_server_error_is_retryable(cnap_simulator, code):
    cnap_simulator.fault("500")

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.http_status, error.retryable) == ("server_error", 500, True)


def test_a_closed_port_is_a_retryable_network_error(cnap_simulator, code):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    error = _error(f"http://127.0.0.1:{closed_port}/asc/{code}/appeals/")

    assert (error.code, error.retryable) == ("network", True)


def test_a_slow_answer_is_a_retryable_timeout(cnap_simulator, code, settings):
    settings.MONITORING_PULL_READ_TIMEOUT = 0.2
    cnap_simulator.fault("slow", seconds=0.6)

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.retryable) == ("timeout", True)


def test_a_trickling_answer_is_stopped_at_the_page_deadline(settings):
    """Every read is quicker than the read timeout, yet the page never ends: the deadline stops it."""
    settings.MONITORING_PULL_READ_TIMEOUT = 1.0
    settings.MONITORING_PULL_PAGE_DEADLINE = 0.5
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        connection, _ = server.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
            while not stop.is_set():
                try:
                    connection.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        error = _error(f"http://127.0.0.1:{server.getsockname()[1]}/asc/1/appeals/")
    finally:
        stop.set()
        server.close()
    assert (error.code, error.retryable) == ("timeout", True)
    assert time.monotonic() - started < 3


def test_invalid_json_is_malformed(cnap_simulator, code):
    cnap_simulator.fault("malformed")

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.http_status, error.retryable) == ("malformed", 200, False)


@pytest.mark.parametrize("declared", [True, False])
def test_a_page_over_the_size_limit_is_refused(cnap_simulator, code, settings, declared):
    if declared:  # an ordinary page with its Content-Length over the limit
        settings.MONITORING_PULL_MAX_PAGE_BYTES = 2000
    else:  # no Content-Length: the client stops reading at the limit
        settings.MONITORING_PULL_MAX_PAGE_BYTES = 100_000
        cnap_simulator.fault("oversized", bytes=50_000_000)

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.retryable) == ("too_large", False)


def test_a_redirect_to_another_host_is_refused(cnap_simulator, code):
    cnap_simulator.fault("redirect")

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.http_status, error.retryable) == ("redirect", 302, False)
    assert "cnap-elsewhere.example" in error.message
    assert cnap_simulator.requests == 1


def test_a_redirect_on_the_same_origin_is_followed(cnap_simulator, code):
    target = f"{cnap_simulator.url_for(code)}?start_date={START}&end_date={END}"
    cnap_simulator.fault("redirect", location=target)

    pages = _pages(cnap_simulator.url_for(code))

    assert sum(len(page.records) for page in pages) == len(cnap_simulator.records(code, START, END))


def test_a_redirect_without_location_is_a_bad_status_not_a_loop(cnap_simulator, code):
    cnap_simulator.fault("redirect", location="")

    error = _error(cnap_simulator.url_for(code))

    assert (error.code, error.http_status, error.retryable) == ("http_error", 302, False)
    assert cnap_simulator.requests == 1


def test_a_next_page_on_another_host_is_refused(cnap_simulator, code):
    cnap_simulator.fault("next_page_other_host")

    with pytest.raises(PullError) as raised:
        for _page in fetch_pages(
            base_url=cnap_simulator.url_for(code),
            login=SIM_LOGIN,
            password=SIM_PASSWORD,
            start=START,
            end=END,
        ):
            pass

    assert (raised.value.code, raised.value.retryable) == ("foreign_next_page", False)
    assert cnap_simulator.requests == 1


def test_more_pages_than_the_cap_stop_the_pull(cnap_simulator, code):
    received = []
    with pytest.raises(PullError) as raised:
        for page in fetch_pages(
            base_url=cnap_simulator.url_for(code),
            login=SIM_LOGIN,
            password=SIM_PASSWORD,
            start=START,
            end=END,
            page_cap=2,
        ):
            received.append(page.number)

    assert received == [1, 2]
    assert (raised.value.code, raised.value.retryable) == ("page_cap", False)
    assert cnap_simulator.requests == 2


# --- TLS ----------------------------------------------------------------------------------------


def _certificates(tmp_path, name: str):
    """A CA file and a server context whose certificate the CA issued for `name`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, key, signing_key, *, ca: bool, dns: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
            )
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), False
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", "Test CA", ca_key, ca_key, ca=True)
    server = certificate(name, "Test CA", server_key, ca_key, ca=False, dns=name)
    ca_file, chain_file, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    return ca_file, context


@pytest.fixture
def tls_simulator(db, tmp_path, monkeypatch):
    """The simulator over https with a certificate for "cnap.test", trusted through SSL_CERT_FILE."""
    simulator_fixtures.simulator_registry()
    ca_file, context = _certificates(tmp_path, "cnap.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    simulator = CnapSimulator(login=SIM_LOGIN, password=SIM_PASSWORD, page_size=20, tls=context).start()
    yield simulator
    simulator.stop()


def test_https_connects_to_the_pinned_address_and_verifies_the_certificate_for_the_name(
    tls_simulator, resolve_to
):
    code = sorted(tls_simulator.cnap_codes)[0]
    lookups = resolve_to("cnap.test", "127.0.0.1")

    pages = _pages(f"https://cnap.test:{tls_simulator.port}/asc/{code}/appeals/")

    assert sum(len(page.records) for page in pages) == len(tls_simulator.records(code, START, END))
    assert len(pages) > 1
    assert lookups == ["cnap.test"]


def test_a_certificate_for_another_name_is_refused(tls_simulator, resolve_to):
    code = sorted(tls_simulator.cnap_codes)[0]
    resolve_to("other.test", "127.0.0.1")

    error = _error(f"https://other.test:{tls_simulator.port}/asc/{code}/appeals/")

    assert (error.code, error.retryable) == ("tls", False)
    assert tls_simulator.requests == 0
