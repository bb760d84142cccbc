"""Every version of a facility, place of service, person, employee or invitation: who made it, when,
and what changed (django-simple-history's admin, in words). Versions are shown, never restored:
a restored version would bypass the services that check every change."""

import json

from django.contrib.admin.utils import display_for_field, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject, ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from .labels import code_label

# Why a service changed many rows at once (`ehealth_portal.history.update_recorded(reason=…)`), in words;
# the reasons are stored as written, in English, whatever the operator's language.
CHANGE_REASONS = {
    "facility closed": _("the facility was closed"),
    "expired": _("the invitation expired"),
    "declined by link": _("declined through the emailed link"),
    "another head named": _("a newer change of the facility named another head"),
}

JSON_SHOWN_CHARACTERS = 160


def change_reason_text(reason: str | None):
    if not reason:
        return ""
    return CHANGE_REASONS.get(reason) or format_html("<code>{}</code>", reason)


def field_value_html(field, value, codes: dict[str, str]):
    """A stored value as an operator reads it: labels of codes and choices, dates, "—" for nothing."""
    if isinstance(value, DeletedObject):  # a related row gone, or none at all (the library says the same)
        return _("a deleted record") if value.pk is not None else "—"
    if value in (None, "", [], {}):
        return "—"
    if field.name in codes:
        return code_label(codes[field.name], value)
    if isinstance(field, models.JSONField):  # a document as stored: shown as code, shortened
        text = json.dumps(value, ensure_ascii=False, cls=field.encoder)
        return format_html("<code>{}</code>", Truncator(text).chars(JSON_SHOWN_CHARACTERS))
    return display_for_field(value, field, "—")


class VersionChanges(HistoricalRecordContextHelper):
    """What a version changed: field names and values in words (the library shows stored values)."""

    def __init__(self, model, historical_record, *, codes: dict[str, str]):
        super().__init__(model, historical_record)
        self.codes = codes

    def format_delta_change(self, change: ModelChange) -> ModelChange:
        field = self.model._meta.get_field(change.field)
        return ModelChange(
            field=capfirst(field.verbose_name),
            old=field_value_html(field, change.old, self.codes),
            new=field_value_html(field, change.new, self.codes),
        )


class HistoryAdmin(SimpleHistoryAdmin):
    """The "History" page lists the versions with who and when and what changed; each opens read-only."""

    object_history_list_template = "admin/history/versions.html"
    object_history_form_template = "admin/history/version.html"
    # Fields that keep a dictionary's codes, shown by its labels: {"employee_type": "EMPLOYEE_TYPE"}.
    history_codes: dict[str, str] = {}

    def revert_disabled(self, request, obj=None):
        return True

    def _pk_or_404(self, object_id):
        try:
            return self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError as error:
            raise Http404 from error

    def history_view(self, request, object_id, extra_context=None):
        self._pk_or_404(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # The library saves the shown version on a POST (a revert): refused, whoever asks.
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        self._pk_or_404(object_id)
        if not version_id.isdigit():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        return VersionChanges(self.model, historical_record, codes=self.history_codes)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        for record in historical_records:
            record.change_reason_text = change_reason_text(record.history_change_reason)
