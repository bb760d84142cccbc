"""Secret tokens in links (invitations, application status, password resets) kept out of logs and
the stored outbox: one function finds them, the log filter and the outbox purge apply it. The log filter
also drops a patient's identifiers from any URL's query string (eHealth's person search, GET /api/persons)."""

import logging
import re

REDACTED = "[redacted]"

# Every URL that carries a secret: the path segment after these prefixes, and the wizard's
# `?correct=<status token>`. tests/test_redaction.py checks that every URL with a token is listed.
_TOKEN_IN_URL = re.compile(
    r"((?:/(?:register/status|invite|accounts/confirm-email|accounts/password/reset/key)/(?!done/))"
    r"|[?&]correct=)"
    r"[^/?&#\s\"'<>]+"
)


# Query parameters that identify a patient: eHealth's person search (GET /api/persons) and any other URL
# (also HTML-escaped, `&amp;name=`); the names compared in any letter case.
IDENTIFIER_PARAMETERS = ("tax_id", "phone_number", "document_number", "birth_certificate")
_IDENTIFIER_IN_QUERY = re.compile(
    rf"([?&;](?:{'|'.join(IDENTIFIER_PARAMETERS)})=)[^&#\s\"'<>]+", re.IGNORECASE
)


def redact_token_urls(text: str) -> str:
    """`text` with the token of every token-bearing link replaced by `[redacted]`."""
    return _TOKEN_IN_URL.sub(rf"\1{REDACTED}", text)


def redact_identifier_parameters(text: str) -> str:
    """`text` with the value of every patient-identifying query parameter replaced by `[redacted]`."""
    return _IDENTIFIER_IN_QUERY.sub(rf"\1{REDACTED}", text)


def redact_log_text(text: str) -> str:
    """What a log line may keep: no token of a link, no patient's identifier in a query string."""
    return redact_identifier_parameters(redact_token_urls(text))


class RedactTokensFilter(logging.Filter):
    """Attached to every log handler: the message, its traceback and stack lose their tokens and the
    patients' identifiers of their URLs (`redact_log_text`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_log_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        return True


def stored_bodies_redact(due, *, fields: tuple[str, ...], redact, batch_size: int = 500) -> int:
    """Rewrite `fields` of every row of `due` (a queryset in a stable order, of rows not yet redacted) with
    `redact`, stamping `body_redacted_at`, in batches of `batch_size`, each its own transaction; rows
    another worker holds are left to it. Returns how many. The outboxes' hourly purges (emails, SMS)."""
    from django.db import transaction
    from django.utils import timezone

    redacted = 0
    while True:
        with transaction.atomic():
            batch = list(due.select_for_update(skip_locked=True).only(*fields)[:batch_size])
            now = timezone.now()
            for row in batch:
                for name in fields:
                    setattr(row, name, redact(getattr(row, name)))
                row.body_redacted_at = now
            due.model.objects.bulk_update(batch, [*fields, "body_redacted_at"])
        redacted += len(batch)
        if len(batch) < batch_size:
            return redacted
