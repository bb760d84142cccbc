"""A service's refusal (a ValidationError keyed by JSON paths) on a cabinet page: at the form's fields it
concerns, the rest said above the form."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_errors(
    form: forms.Form,
    error: ValidationError,
    fields_by_path: dict[str, str | None],
    *,
    fields_by_code: dict[str, str] | None = None,
) -> list[str]:
    """Put a service's refusal at the form's fields: an error whose code is in `fields_by_code`, or whose
    path is in `fields_by_path` (a key ending in "." matches the paths under it), goes to that field
    (None: above the form); returns the messages of the other paths, for the page to show apart (the
    patient's data or the request's state, which this form cannot change)."""
    others: list[str] = []
    items = (
        error.error_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, error.error_list)]
    )
    for path, errors in items:
        for item in errors:
            target = (fields_by_code or {}).get(item.code or "", _field_for(path, fields_by_path))
            if target is _ELSEWHERE:
                others += item.messages
            else:
                form.add_error(target, item)
    return others


_ELSEWHERE = object()


def _field_for(path: str, fields_by_path: dict[str, str | None]):
    for prefix, field_name in fields_by_path.items():
        if path == prefix or (prefix.endswith(".") and path.startswith(prefix)):
            return field_name
    return _ELSEWHERE
