"""Who made a recorded change (django-simple-history): the service's actor, else the signed-in user.

Services run their writes inside `acting_as(actor)`, so a change made for someone — by a Celery task, by
an API key's user, by an invitee who has just set a password — is recorded with that person, not with
whoever (if anyone) is signed in on the request; without an actor it is the request's signed-in user,
and a change nobody made (the expiry job) has none.
"""

import contextlib
import contextvars

from django.utils import timezone

_actor: contextvars.ContextVar = contextvars.ContextVar("history_actor", default=None)


@contextlib.contextmanager
def acting_as(user):
    """Record the changes made inside the block as made by `user` (None: keep the request's user)."""
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def history_user(request=None, **kwargs):
    """simple-history's `get_user` hook."""
    actor = _actor.get()
    if actor is not None:
        return actor
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def update_recorded(queryset, *, reason: str = "", **changes) -> int:
    """`queryset.update(**changes)` that also records a version of each row, by the current actor.

    For the bulk changes of a state (closing a facility dismisses its staff; the expiry job), which
    `QuerySet.update` would leave out of the history. Returns how many rows changed.
    """
    from simple_history.utils import bulk_update_with_history

    rows = list(queryset)
    now = timezone.now()
    for row in rows:
        for name, value in changes.items():
            setattr(row, name, value)
        if hasattr(row, "updated_at"):
            row.updated_at = now  # bulk_update skips auto_now; cached renderings key on it
    if rows:
        fields = [*changes, *(["updated_at"] if hasattr(rows[0], "updated_at") else [])]
        bulk_update_with_history(
            rows,
            type(rows[0]),
            fields,
            default_user=history_user(),
            default_change_reason=reason or None,
        )
    return len(rows)


def recorded_history(verbose_name, verbose_name_plural, *, excluded=()):
    """Every change of the row kept with who made it and when (django-simple-history), for operators."""
    from simple_history.models import HistoricalRecords

    return HistoricalRecords(
        get_user=history_user,
        excluded_fields=["updated_at", *excluded],
        verbose_name=verbose_name,
        verbose_name_plural=verbose_name_plural,
    )
