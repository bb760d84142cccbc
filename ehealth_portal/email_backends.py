import logging

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("ehealth_portal.email")


class OutboxLogBackend(BaseEmailBackend):
    """The default without EMAIL_URL: one log line per message instead of the console backend's dump
    (raw MIME, base64 subjects, and links that would put invitation and reset tokens in the log). The
    message stays in the outbox; in development the line links to it at /dev/outbox/<id>/."""

    def send_messages(self, email_messages):
        base_url = settings.PORTAL_BASE_URL.rstrip("/")
        for message in email_messages:
            outbox_id = getattr(message, "outbox_id", None)  # set by services.email_send
            if settings.DEV_OUTBOX_ENABLED:
                where = f"{base_url}/dev/outbox/{outbox_id}/" if outbox_id else f"{base_url}/dev/outbox/"
                logger.info("Email to %s: %r, read it at %s", ", ".join(message.to), message.subject, where)
            else:
                logger.info(
                    "Email to %s: %r not delivered (no EMAIL_URL), kept in the outbox table",
                    ", ".join(message.to),
                    message.subject,
                )
        return len(email_messages)
