"""Display helpers for the registry's pages: dictionary labels, addresses, coordinates and phones in words."""

import datetime
import json

from django import template
from django.utils.translation import gettext as _

from ..addresses import address_text
from ..places import coordinates_text
from ..selectors import dictionary_value_label

register = template.Library()


@register.filter
def dictionary_label(key, dictionary: str) -> str:
    """`{{ legal_entity.legal_form|dictionary_label:"LEGAL_FORM" }}`: the label, or the key if unknown."""
    if key in (None, ""):
        return ""
    return dictionary_value_label(name=dictionary, key=str(key)) or str(key)


@register.filter
def address_line(addresses, address_type: str = "") -> str:
    """The line of the first address (of `address_type`): `registry.addresses`, as everywhere else."""
    return address_text(addresses, address_type=address_type or None)


@register.filter
def has_address(addresses, address_type: str) -> bool:
    return any(address.get("type") == address_type for address in addresses or [])


@register.simple_tag
def coordinates(latitude, longitude) -> str:
    """`{% coordinates division.latitude division.longitude %}`: "50.450100, 30.523400"."""
    return coordinates_text(latitude, longitude)


@register.simple_tag
def map_labels() -> str:
    """The texts of Leaflet's own controls, for `data-map-labels="{% map_labels %}"` on a map element."""
    return json.dumps(
        {
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
            "closePopup": _("Close"),
            "leaflet": _("Leaflet, a JavaScript library for interactive maps"),
            "marker": _("Place of service"),
        },
        ensure_ascii=False,
    )


@register.filter
def phone_numbers(phones) -> str:
    return ", ".join(phone.get("number", "") for phone in phones or [])


@register.filter
def iso_date(value) -> datetime.date | None:
    """A payload's "YYYY-MM-DD" as a date, for the `date` filter; None when it is not one."""
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
