"""Display helpers for the registry's pages: dictionary labels, addresses and phones in words."""

import datetime

from django import template

from ..forms import AREAS
from ..selectors import address_text, dictionary_value_label

register = template.Library()
AREA_LABELS = dict(AREAS)


@register.filter
def dictionary_label(key, dictionary: str) -> str:
    """`{{ legal_entity.legal_form|dictionary_label:"LEGAL_FORM" }}`: the label, or the key if unknown."""
    if key in (None, ""):
        return ""
    return dictionary_value_label(name=dictionary, key=str(key)) or str(key)


@register.filter
def address_line(addresses, address_type: str = "") -> str:
    """One line for the first address (of `address_type`), with the region's name written out."""
    addresses = [
        {**address, "area": AREA_LABELS.get(address.get("area"), address.get("area"))}
        for address in addresses or []
    ]
    return address_text(addresses, address_type=address_type or None)


@register.filter
def has_address(addresses, address_type: str) -> bool:
    return any(address.get("type") == address_type for address in addresses or [])


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
