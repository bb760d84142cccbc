"""A guarded HTTP client for a CNAP system's appeals endpoint (`GET {base}?start_date&end_date`).

The base URL is typed in by an operator and the `next_page` links come from the remote system, so
every request is bounded: one origin, a resolved and checked address the connection is pinned to
(no DNS rebinding into our network), timeouts, a body size limit enforced while reading, a page cap,
and no redirects off the origin. Failures are PullError with a code the pull run records.
"""

import base64
import ipaddress
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 3  # same-origin redirects only
CHUNK_BYTES = 64 * 1024
USER_AGENT = "eHealth-portal-CNAP-monitoring/1.0"


class PullError(Exception):
    """A pull failed; `code` is stored on the run, `message` is for the operator (no secrets)."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.retryable = retryable


@dataclass
class Page:
    number: int
    url: str
    http_status: int
    records: list
    elapsed: float  # seconds


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> "_Origin":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PullError("forbidden_target", _("Only http:// and https:// addresses can be pulled."))
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise PullError("forbidden_target", _("The address has an invalid port.")) from error
        return cls(parts.scheme, parts.hostname.lower(), port)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


# IPv6 forms that carry an IPv4 address and reach it through a translator or a tunnel where one is
# routed: the IPv4 address inside is the one to check.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Never a CNAP's: the local-use NAT64 prefix, the deprecated IPv4-compatible, IPv4-translated (SIIT)
# and site-local ranges (Python's is_global still calls some of them global).
_REFUSED_IPV6 = [
    ipaddress.ip_network(net) for net in ("64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96", "fec0::/10")
]


def _address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _REFUSED_IPV6):
            return False
        if address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        else:
            address = address.ipv4_mapped or address.sixtofour or address
    # is_global is False for private, loopback, link-local, reserved, shared and documentation ranges.
    return address.is_global and not address.is_multicast


def _resolve(origin: _Origin) -> str:
    """The one address this pull connects to, checked against the target policy."""
    try:
        infos = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise PullError(
            "network", _("The host name %(host)s cannot be resolved.") % {"host": origin.host}, retryable=True
        ) from error
    ip = infos[0][4][0]
    if not settings.MONITORING_ALLOW_PRIVATE_TARGETS and not _address_allowed(ipaddress.ip_address(ip)):
        raise PullError(
            "forbidden_target",
            _("%(host)s resolves to a private or reserved address (%(ip)s); pulling from it is not allowed.")
            % {"host": origin.host, "ip": ip},
        )
    return ip


def _pool(origin: _Origin, ip: str) -> urllib3.HTTPConnectionPool:
    """A keep-alive pool connected to the checked IP; TLS still verifies the certificate for the name."""
    timeout = urllib3.Timeout(
        connect=settings.MONITORING_PULL_CONNECT_TIMEOUT, read=settings.MONITORING_PULL_READ_TIMEOUT
    )
    if origin.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            ip,
            origin.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=origin.host,
            assert_hostname=origin.host,
        )
    return urllib3.HTTPConnectionPool(ip, origin.port, timeout=timeout, retries=False, maxsize=1)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _first_url(base_url: str, start: date, end: date) -> str:
    query = urlencode({"start_date": start.isoformat(), "end_date": end.isoformat()})
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


def _read_limited(response: urllib3.BaseHTTPResponse, limit: int, deadline: float) -> bytes:
    """The body, up to `limit` bytes and until the `deadline` (time.monotonic()).

    The read timeout bounds each socket read only: a server trickling a byte at a time would never
    trip it, so the whole page also has a deadline.
    """
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(response.status, limit)
    body = bytearray()
    # read1: whatever has arrived (stream() would wait for a whole chunk and never see the deadline).
    while chunk := response.read1(CHUNK_BYTES):
        body += chunk
        if len(body) > limit:  # stop reading: the rest never reaches memory
            raise _too_large(response.status, limit)
        if time.monotonic() > deadline:
            raise urllib3.exceptions.ReadTimeoutError(None, None, "page deadline passed")
    return bytes(body)


def _too_large(status: int, limit: int) -> PullError:
    return PullError(
        "too_large",
        _("A page is larger than %(limit)d bytes.") % {"limit": limit},
        http_status=status,
    )


def _remote_error(payload) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return ""
    return f"{str(error.get('code', ''))[:100]}: {str(error.get('message', ''))[:500]}".strip(": ")


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _status_error(status: int, body: bytes) -> PullError:
    remote = _remote_error(_json(body))
    detail = f" ({remote})" if remote else ""
    if status in (401, 403):
        return PullError(
            "auth",
            _("The system refused the login and password (HTTP %(status)d).") % {"status": status} + detail,
            http_status=status,
        )
    if status == 429:
        return PullError(
            "rate_limited",
            _("The system asked us to slow down (HTTP 429).") + detail,
            http_status=status,
            retryable=True,
        )
    if status >= 500:
        return PullError(
            "server_error",
            _("The system answered with a server error (HTTP %(status)d).") % {"status": status} + detail,
            http_status=status,
            retryable=True,
        )
    if remote:
        return PullError(
            "remote_error",
            _("The system reported an error: %(error)s") % {"error": remote},
            http_status=status,
        )
    return PullError(
        "http_error", _("The system answered HTTP %(status)d.") % {"status": status}, http_status=status
    )


def _envelope(body: bytes, status: int) -> tuple[list, str | None]:
    payload = _json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("success"), bool):
        raise PullError("malformed", _("The answer is not a JSON object with “success”."), http_status=status)
    if payload["success"] is not True:
        raise PullError(
            "remote_error",
            _("The system reported an error: %(error)s") % {"error": _remote_error(payload) or "—"},
            http_status=status,
        )
    records, next_page = payload.get("data"), payload.get("next_page")
    if not isinstance(records, list):
        raise PullError("malformed", _("The answer's “data” is not a list."), http_status=status)
    if next_page is not None and not isinstance(next_page, str):
        raise PullError(
            "malformed", _("The answer's “next_page” is neither an address nor null."), http_status=status
        )
    return records, next_page or None


class _Session:
    """Requests on one origin through one pinned keep-alive connection."""

    def __init__(self, origin: _Origin, login: str, password: str):
        self.origin = origin
        credentials = base64.b64encode(f"{login}:{password}".encode()).decode("ascii")
        self.headers = {
            "Host": origin.host_header,
            "Authorization": f"Basic {credentials}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self.pool = _pool(origin, _resolve(origin))

    def get(self, url: str) -> tuple[int, bytes]:
        """(status, body) of a 2xx/4xx/5xx answer, following same-origin redirects only."""
        for _hop in range(MAX_REDIRECTS + 1):
            status, body, location = self._request(url)
            if location is None:
                return status, body
            target = urljoin(url, location)
            try:
                same_origin = _Origin.of(target) == self.origin
            except PullError:
                same_origin = False
            if not same_origin:
                raise PullError(
                    "redirect",
                    _("The system redirects to another address (%(location)s); redirects are not followed.")
                    % {"location": target[:300]},
                    http_status=status,
                )
            url = target
        raise PullError("redirect", _("Too many redirects."), http_status=status)

    def _request(self, url: str) -> tuple[int, bytes, str | None]:
        deadline = time.monotonic() + settings.MONITORING_PULL_PAGE_DEADLINE
        try:
            response = self.pool.urlopen(
                "GET", _path(url), headers=self.headers, redirect=False, retries=False, preload_content=False
            )
        except urllib3.exceptions.SSLError as error:
            raise PullError("tls", _("The TLS connection failed: %(error)s") % {"error": error}) from error
        except urllib3.exceptions.NewConnectionError as error:  # a ConnectTimeoutError subclass: first
            raise PullError(
                "network", _("The connection to the system could not be opened."), retryable=True
            ) from error
        except urllib3.exceptions.TimeoutError as error:
            raise PullError("timeout", _("The system did not answer in time."), retryable=True) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise PullError(
                "network",
                _("The connection failed: %(error)s") % {"error": type(error).__name__},
                retryable=True,
            ) from error
        try:
            if 300 <= response.status < 400:
                # Not read: the connection is dropped. A 3xx without Location (304…) is just a bad status.
                response.close()
                return response.status, b"", response.headers.get("Location") or None
            body = _read_limited(response, settings.MONITORING_PULL_MAX_PAGE_BYTES, deadline)
        except PullError:
            response.close()  # unread bytes left: the connection cannot be reused
            raise
        except urllib3.exceptions.TimeoutError as error:
            response.close()
            raise PullError(
                "timeout",
                _("The system did not answer in time."),
                http_status=response.status,
                retryable=True,
            ) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            response.close()
            raise PullError(
                "network",
                _("The connection broke while reading: %(error)s") % {"error": type(error).__name__},
                http_status=response.status,
                retryable=True,
            ) from error
        response.release_conn()
        return response.status, body, None

    def close(self) -> None:
        self.pool.close()


def fetch_pages(
    *, base_url: str, login: str, password: str, start: date, end: date, page_cap: int | None = None
) -> Iterator[Page]:
    """Every page of the system's appeals for start..end (both days included), in order.

    Raises PullError at the first failure; pages yielded before it were complete.
    """
    page_cap = page_cap or settings.MONITORING_PULL_PAGE_CAP
    origin = _Origin.of(base_url)
    session = _Session(origin, login, password)
    try:
        url, number = _first_url(base_url, start, end), 1
        while True:
            began = time.monotonic()
            status, body = session.get(url)
            if not 200 <= status < 300:
                raise _status_error(status, body)
            records, next_page = _envelope(body, status)
            yield Page(number, url, status, records, time.monotonic() - began)
            if next_page is None:
                return
            try:
                same_origin = _Origin.of(next_page) == origin
            except PullError:
                same_origin = False
            if not same_origin:
                raise PullError(
                    "foreign_next_page",
                    _("The next page is on another host (%(url)s); it is not followed.")
                    % {"url": next_page[:300]},
                    http_status=status,
                )
            if number >= page_cap:
                raise PullError(
                    "page_cap",
                    _("The system sent more than %(cap)d pages; the pull stopped.") % {"cap": page_cap},
                    http_status=status,
                )
            url, number = next_page, number + 1
    finally:
        session.close()
