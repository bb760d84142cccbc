"""The admin templates' Ukrainian phrases: a model's section and its name as the object of a verb."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext

from ..admin_site import model_accusative, model_section

register = template.Library()

# Django's titles that put a model's name after a verb ("Add %s", "Select %s to change"): the
# nominative reads wrong in Ukrainian ("Виберіть система даних…"), the accusative reads right.
GENERIC_TITLES = ("Select %s to change", "Select %s to view", "Select %s", "Add %s", "Change %s", "View %s")


@register.filter
def admin_accusative(opts) -> str:
    return model_accusative(opts)


@register.filter
def admin_section(opts) -> dict:
    """The breadcrumb of the model's section (the admin index groups models by what operators do)."""
    section = model_section(opts)
    return {"name": section.name, "url": reverse("admin:section", args=[section.key])}


@register.simple_tag(takes_context=True)
def admin_title(context) -> str:
    """The page's title, with Django's generic ones rephrased around the accusative."""
    title, opts = context.get("title"), context.get("opts")
    if opts is None or not title:
        return title or ""
    for phrase in GENERIC_TITLES:
        if title == gettext(phrase) % opts.verbose_name:
            return gettext(phrase) % model_accusative(opts)
    return title
