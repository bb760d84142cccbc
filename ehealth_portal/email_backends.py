import logging

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("ehealth_portal.email")


class OutboxLogBackend(BaseEmailBackend):
    """The default without EMAIL_URL: one log line per message instead of the console backend's dump,
    whose links would put invitation and reset tokens in the log. The body stays in the outbox
    (/dev/outbox/ in development)."""

    def send_messages(self, email_messages):
        base_url = settings.PORTAL_BASE_URL.rstrip("/")
        where = f"{base_url}/dev/outbox/" if settings.DEV_OUTBOX_ENABLED else "the outbox table"
        for message in email_messages:
            logger.info(
                "Email to %s: %r (not delivered; read it in %s)",
                ", ".join(message.to),
                message.subject,
                where,
            )
        return len(email_messages)
