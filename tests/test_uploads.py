"""Request bodies above REQUEST_BODY_MAX_BYTES are refused with 413 before they are read, the view never runs."""

import io
import socket
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import load_handler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import translation
from django.utils.translation import gettext

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

THIRTY_MB = 30 * 1024 * 1024


def upload(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("doc.p7s", b"0" * size, content_type="application/octet-stream")


def too_large_heading() -> str:
    with translation.override("uk"):
        return gettext("The file is too large")


def test_a_30_mb_form_upload_is_refused_with_413_and_the_view_never_runs(client, settings):
    """Content-Length says 30 MB while only a little is sent: reading the body would fail the test."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signature_check": "1/m/ip"}

    response = client.post("/signatures/check/", {"signature": upload(100)}, CONTENT_LENGTH=str(THIRTY_MB))

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert too_large_heading() in html and "Файл завеликий" in html
    # The view counts every check against the rate limit first: the next check is still allowed.
    assert client.post("/signatures/check/", {"signature": upload(100)}).status_code == 200


def test_a_30_mb_upload_over_http_is_answered_before_it_is_sent(live_server):
    """What a browser sees: the 413 arrives after the first 64 KB, the rest is never waited for."""
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(
            b"POST /signatures/check/ HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: %d\r\n\r\n--x\r\n" % THIRTY_MB
        )
        connection.sendall(b"0" * 65536)
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413 ")


def test_an_upload_just_over_the_limit_is_refused_and_one_under_it_reaches_the_form(client, settings):
    settings.REQUEST_BODY_MAX_BYTES = 20_000
    assert client.post("/signatures/check/", {"signature": upload(21_000)}).status_code == 413
    response = client.post("/signatures/check/", {"signature": upload(15_000)})
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["signature"][0].code == "not_a_signature"


def test_the_api_refuses_a_large_body_with_the_envelope_413(client):
    client.force_login(UserFactory())
    response = client.post(
        "/api/digital_signatures", b"{}", content_type="application/json", CONTENT_LENGTH=str(THIRTY_MB)
    )
    assert response.status_code == 413
    body = response.json()
    assert body["meta"]["code"] == 413
    assert body["error"]["type"] == "request_too_large"
    with translation.override("uk"):
        assert body["error"]["message"] == gettext("The request body is too large.")


def test_form_fields_over_djangos_own_limit_are_a_413_page_too(client, settings):
    """DATA_UPLOAD_MAX_MEMORY_SIZE (non-file fields) used to end in a bare 400."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/signatures/check/", {"signature_base64": "A" * 5000})
    assert response.status_code == 413
    assert too_large_heading() in response.content.decode()


def test_files_are_stopped_as_they_arrive_when_the_declared_length_understates_them(settings):
    """A body whose Content-Length is absent or wrong (chunked, a server that does not cap the stream):
    the upload handler counts what actually arrives."""
    settings.REQUEST_BODY_MAX_BYTES = 10_000
    body = encode_multipart(BOUNDARY, {"signature": upload(1024 * 1024)})
    stream = io.BytesIO(body)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": "1000"}  # understated
    handlers = [load_handler(path) for path in settings.FILE_UPLOAD_HANDLERS]

    with pytest.raises(RequestDataTooBig):
        MultiPartParser(meta, stream, handlers).parse()

    assert stream.tell() < len(body) // 4  # stopped early, not read to the end
