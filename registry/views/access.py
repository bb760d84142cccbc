"""The cabinet's facility and the person's right to act in it: the one way cabinet pages ask."""

import uuid

from django.core.exceptions import PermissionDenied

from .. import permissions, selectors
from ..models import LegalEntity

SESSION_KEY = "registry:facility"  # the facility a person working at several last chose


def cabinet_facility(request, scope: str) -> LegalEntity:
    """The facility the signed-in person works in now (chosen with ?facility=<id>, remembered in the
    session), if they may do `scope` there; otherwise 403 (no facility, or no such right).

    A foreign or unknown ?facility= is refused (403), never silently replaced by another facility.
    """
    asked = _uuid(request.GET.get("facility"))  # a malformed id is as if none was given
    chosen = asked or _uuid(request.session.get(SESSION_KEY))
    legal_entity = selectors.legal_entity_for_user(user=request.user, legal_entity_id=chosen)
    if legal_entity is None and chosen is not None and asked is None:
        # The remembered facility is no longer theirs (dismissed, closed): fall back to another.
        request.session.pop(SESSION_KEY, None)
        legal_entity = selectors.legal_entity_for_user(user=request.user)
    if legal_entity is None or not permissions.can(request.user, legal_entity, scope):
        raise PermissionDenied
    if request.session.get(SESSION_KEY) != str(legal_entity.pk):
        request.session[SESSION_KEY] = str(legal_entity.pk)
    return legal_entity


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
