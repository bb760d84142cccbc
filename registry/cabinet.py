"""Sections other apps add to the facility cabinet (`registry.views.cabinet`).

The registry knows nothing of the apps that use it (docs/architecture.md): an app registers a section
in its `AppConfig.ready()` — a template and a function `context(request, legal_entity, scopes)` giving
the template's `section` (a dict), or None when the person has nothing to see there. Sections show in
the order they were registered, below the cabinet's own links.

    cabinet.section_register(
        key="declarations", template="declarations/declarations/cabinet_section.html", context=section
    )
"""

from collections.abc import Callable
from dataclasses import dataclass

from .models import LegalEntity


@dataclass(frozen=True)
class CabinetSection:
    key: str  # unique: registering the same key again replaces the section (a reloaded app)
    template: str
    context: Callable[..., dict | None]  # (request, legal_entity, scopes: frozenset[str]) → dict | None


_SECTIONS: dict[str, CabinetSection] = {}


def section_register(*, key: str, template: str, context: Callable[..., dict | None]) -> None:
    _SECTIONS[key] = CabinetSection(key=key, template=template, context=context)


def sections_for(request, legal_entity: LegalEntity, scopes: frozenset[str]) -> list[dict]:
    """The sections this person sees: [{"key", "template", "section": the context's dict}]."""
    shown = []
    for section in _SECTIONS.values():
        context = section.context(request, legal_entity, scopes)
        if context is not None:
            shown.append({"key": section.key, "template": section.template, "section": context})
    return shown
