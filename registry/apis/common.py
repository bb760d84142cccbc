"""What the registry's API views share: a facility's filtered, paged list, and a refusal's codes."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from ehealth_portal.api import PagePagination


def facility_list_page(view, request, legal_entity, *, filters, select, serializer):
    """A page of `select(legal_entity=…, **filters)` as eHealth's paged list, its rows serialized.

    `filters` (a serializer class) validates the query; its `legal_entity_id`, if any, only chose the
    facility (`api_facility`), so it is not passed on.
    """
    query = filters(data=request.query_params)
    query.is_valid(raise_exception=True)
    criteria = {key: value for key, value in query.validated_data.items() if key != "legal_entity_id"}
    paginator = PagePagination()
    page = paginator.paginate_queryset(select(legal_entity=legal_entity, **criteria), request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def error_codes(error: DjangoValidationError) -> set[str]:
    """The codes of a service's refusal (keyed by paths or not), to tell a conflict from a bad payload."""
    return {item.code for items in error.update_error_dict({}).values() for item in items}


# The `legal_entity_id` query parameter of a facility's lists (read by `api_facility`).
class LegalEntityChoiceSerializer(serializers.Serializer):
    legal_entity_id = serializers.UUIDField(
        required=False, help_text="The caller's facility, when they work at several (default: their own)."
    )
