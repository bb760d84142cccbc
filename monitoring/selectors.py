"""Reads of the monitoring app."""

from .models import Cnap, ServiceVariation


def service_variation_for_appeal(
    *, service_identifier: str, variation_identifier: str = ""
) -> ServiceVariation | None:
    """The variation whose legal term an appeal is measured against.

    The named active variation, or, when the appeal names none, the service's only active variation;
    None when the service is unknown or inactive, or the choice is ambiguous.
    """
    variations = ServiceVariation.objects.filter(
        service__identifier=service_identifier, service__is_active=True, is_active=True
    ).select_related("service")
    if variation_identifier:
        return variations.filter(identifier=variation_identifier).first()
    candidates = list(variations[:2])
    return candidates[0] if len(candidates) == 1 else None


def cnap_regions() -> list[str]:
    """Regions of active CNAPs, for filters and the regional summary."""
    return list(
        Cnap.objects.filter(is_active=True)
        .exclude(region="")
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    )
