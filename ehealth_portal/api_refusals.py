"""How an API view answers a service's refusal (a Django ValidationError keyed by JSON paths).

A field's error stays the 422 of its paths (`ehealth_portal.api.exception_handler`); a refusal that is a
state conflict, a missing right or a rate limit is answered by its code, by the view's own `answer`:

    with refusals(answer):          # answer(error) raises Conflict, PermissionDenied, throttled(...)…
        thing = thing_change(...)   # …for the codes it knows; anything else goes on as 422
"""

from collections.abc import Callable
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from rest_framework.exceptions import Throttled


@contextmanager
def refusals(answer: Callable[[ValidationError], None]):
    """Run the block; a ValidationError raised in it goes to `answer` (which raises the API's refusal for
    the codes it knows) and, when `answer` returns, on as it is."""
    try:
        yield
    except ValidationError as error:
        answer(error)
        raise


def refusal_with_code(error: ValidationError, code: str) -> ValidationError | None:
    """The first item of `error` with `code`, wherever its path."""
    return next(
        (item for items in error.update_error_dict({}).values() for item in items if item.code == code),
        None,
    )


def throttled(error: ValidationError, code: str) -> Throttled:
    """The 429 of a service's rate limit: the message of its `code` item, Retry-After from its
    `retry_after` parameter (seconds)."""
    refusal = refusal_with_code(error, code) or error
    answer = Throttled(detail=refusal.messages[0])
    answer.wait = (getattr(refusal, "params", None) or {}).get("retry_after")
    return answer
