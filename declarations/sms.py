"""SMS delivery: the adapter behind `declarations.services.otp.sms_send`.

Every SMS is an `SmsMessage` row first (the outbox); a backend only delivers it. `SMS_BACKEND` names the
class: `OutboxSmsBackend` without a gateway (development reads the row at /dev/outbox/sms/),
`HttpSmsBackend` with `SMS_GATEWAY_URL`. A backend raises `OSError` (or a subclass) when delivery
failed, so the task retries with backoff; it never logs the body (it holds a code), only the message id.
"""

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from .models import SmsMessage

logger = logging.getLogger("declarations.sms")


class SmsDeliveryError(OSError):
    """The gateway refused or failed the message; the text says how, never what the message said."""


class SmsBackend:
    """Delivers one stored message; raises OSError when it could not (the caller retries)."""

    def send(self, sms: SmsMessage) -> None:
        raise NotImplementedError


class OutboxSmsBackend(SmsBackend):
    """No gateway: the stored row is the outbox. One log line with the message id (and in development
    the outbox page's address), never the phone or the text."""

    def send(self, sms: SmsMessage) -> None:
        if settings.DEV_OUTBOX_ENABLED:
            base_url = settings.PORTAL_BASE_URL.rstrip("/")
            logger.info("SMS %s kept in the outbox, read it at %s/dev/outbox/sms/", sms.pk, base_url)
        else:
            logger.info("SMS %s not delivered (no SMS_GATEWAY_URL), kept in the outbox table", sms.pk)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway answers where it was asked: a redirect would resend the message as a GET elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpSmsBackend(SmsBackend):
    """POSTs `{"phone_number", "body"}` as JSON to `SMS_GATEWAY_URL` with `SMS_GATEWAY_TOKEN` as a bearer
    token; any answer but 2xx, a timeout or a refused connection raises (and the task retries)."""

    timeout = 10  # seconds: a code is valid 15 minutes, a hung gateway must not hold the worker

    def __init__(self):
        if not settings.SMS_GATEWAY_URL:
            raise SmsDeliveryError("SMS_GATEWAY_URL is not set")
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.opener = urllib.request.build_opener(_NoRedirects())

    def send(self, sms: SmsMessage) -> None:
        body = json.dumps({"phone_number": sms.phone_number, "body": sms.body}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            error.close()
            raise SmsDeliveryError(f"the SMS gateway answered HTTP {error.code}") from None
        except TimeoutError:
            raise SmsDeliveryError(f"the SMS gateway did not answer within {self.timeout} s") from None
        except urllib.error.URLError as error:
            raise SmsDeliveryError(f"the SMS gateway is unreachable: {error.reason}") from None
        if not 200 <= status < 300:
            raise SmsDeliveryError(f"the SMS gateway answered HTTP {status}")
        logger.info("SMS %s accepted by the gateway", sms.pk)


def sms_backend() -> SmsBackend:
    """The configured backend (`SMS_BACKEND`), built for each delivery so a settings change applies."""
    return import_string(settings.SMS_BACKEND)()


def sms_list_recent(*, limit: int = 100):
    """The development outbox's messages, newest first."""
    return SmsMessage.objects.order_by("-created_at")[:limit]
