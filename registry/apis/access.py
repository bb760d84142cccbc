"""The API caller's facility and their right to act in it: the one way API endpoints ask.

Until MIS access (OAuth clients acting for a facility user) is built, the caller is the API key's user:
their facility is the one they work at (as the head first), or `?legal_entity_id=` among theirs.
"""

import uuid

from rest_framework.exceptions import NotFound, PermissionDenied

from .. import permissions, selectors
from ..models import LegalEntity


def api_facility(request, scope: str) -> LegalEntity:
    """The caller's facility if they may do `scope` there; 403 otherwise (eHealth's `forbidden`)."""
    chosen = request.query_params.get("legal_entity_id")
    try:
        chosen = uuid.UUID(chosen) if chosen else None
    except ValueError:
        raise NotFound from None
    legal_entity = selectors.legal_entity_for_user(user=request.user, legal_entity_id=chosen)
    if legal_entity is None or not permissions.can(request.user, legal_entity, scope):
        raise PermissionDenied
    return legal_entity
