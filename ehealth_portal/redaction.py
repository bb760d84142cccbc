"""Secret tokens in links (invitations, application status, password resets) kept out of logs and
the stored outbox: one function finds them, the log filter and the outbox purge apply it."""

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


def redact_token_urls(text: str) -> str:
    """`text` with the token of every token-bearing link replaced by `[redacted]`."""
    return _TOKEN_IN_URL.sub(rf"\1{REDACTED}", text)


class RedactTokensFilter(logging.Filter):
    """Attached to every log handler: the message, its traceback and stack lose their tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_token_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_token_urls(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_token_urls(record.stack_info)
        return True
