"""eHealth codes in words: facilities and people keep the codes ("OWNER", "MOBILE"); operators read
the dictionaries' labels."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from .. import selectors
from ..addresses import address_text


def code_label(dictionary: str, key) -> str:
    """The dictionary label of a code (the code itself when the dictionary does not know it)."""
    if key in (None, ""):
        return "—"
    return selectors.dictionary_value_label(name=dictionary, key=str(key)) or str(key)


def phones_text(phones) -> str:
    return (
        "; ".join(
            f"{code_label('PHONE_TYPE', phone.get('type'))}: {phone.get('number', '')}"
            for phone in phones or []
        )
        or "—"
    )


def addresses_html(addresses):
    if not addresses:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{}: {}</li>",
            (
                (code_label("ADDRESS_TYPE", address.get("type")), address_text([address]))
                for address in addresses
            ),
        ),
    )


def signer_html(signer: dict | None):
    """Who signed a document (a verified signature's signer): names, RNOKPP and EDRPOU."""
    if not signer:
        return "—"
    return format_html(
        "{} {} · {} {} · {} {}",
        signer.get("surname") or "",
        signer.get("given_names") or "",
        _("RNOKPP"),
        signer.get("drfo") or "—",
        _("EDRPOU"),
        signer.get("edrpou") or "—",
    )


def dictionary_filter(field: str, dictionary: str, title):
    """A list filter offering a dictionary's labels for a field that stores its codes."""

    class DictionaryFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return selectors.dictionary_choices(name=dictionary)

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    DictionaryFilter.title = title
    return DictionaryFilter
