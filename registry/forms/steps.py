"""The base of every wizard step form (registration now; staff and declarations next) and its review.

A step form shows its fields in titled groups, builds its part of an eHealth payload (`payload_part`)
and checks that part with the matching serializer of `registry.payloads`, so a rule lives in one place
and its error shows next to the field it concerns. Every error of a step shows at once: the payload
checks run on the part built from the fields that passed, and a field that failed its own check keeps
that error only.
"""

import datetime
import re

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .. import payloads


class StepForm(forms.Form):
    """A wizard step: its fields shown in titled groups, its part of the payload checked by `payloads`.

    `groups`: [(title, [field names], {options})]. `payload_checks()`: [(payload key, serializer,
    {path: field})] — the part under that key (the whole part for the key None) is validated by the
    serializer and its errors are put on the fields (a path not in the map becomes an error of the whole
    form); `add_payload_error` puts an error found later (by a service) the same way. `payload_keys`:
    the top-level payload members the step builds, so an error found later (on the review, in a rejected
    application) leads back to this step. `required_unless`: {field: (controlling field, values)} — the
    field is required once the controlling field holds a value other than these; its label says so, and
    static/js/conditional-fields.js hides it for those values and drops the marker for the others.
    """

    groups: list[tuple] = []
    template_name = "registry/wizard/step_form.html"
    payload_keys: tuple[str, ...] = ()
    required_unless: dict[str, tuple[str, tuple[str, ...]]] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (controller, values) in self.required_unless.items():
            labels = [str(label) for key, label in self.fields[controller].choices if key in values]
            self.fields[name].required_unless = {
                "input": self[controller].id_for_label,
                "values": " ".join(values),
                "marker": _("(required unless “%(values)s”)") % {"values": " / ".join(labels)},
            }

    def field_groups(self) -> list[dict]:
        """The groups for the template: title, fields, and the options of the group's third element —
        `toggle` (a checkbox that hides the other fields when ticked), `grid` (fields side by side),
        `map` (the location picker under the fields), `wide` (fields across the whole grid)."""
        result = []
        for title, names, *options in self.groups:
            options = options[0] if options else {}
            toggle = options.get("toggle")
            result.append(
                {
                    "title": title,
                    "toggle": self[toggle] if toggle else None,
                    "fields": [self[name] for name in names if name != toggle],
                    "grid": options.get("grid", False),
                    "wide": options.get("wide", ()),
                    "map": options.get("map", False),
                }
            )
        return result

    @property
    def media(self):
        # The widgets' scripts (a checkbox list's filter), and the one that applies `required_unless`.
        media = super().media
        return media + forms.Media(js=["js/conditional-fields.js"]) if self.required_unless else media

    @property
    def map_settings(self) -> dict:
        return {"tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}

    def payload_part(self) -> dict:
        """This step's part of the payload from `cleaned_data`, which may lack the fields that failed:
        their members are left out (the payload check then skips those fields)."""
        raise NotImplementedError

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        """The form's values (as `cleaned_data` holds them) that produce this part of `payload`."""
        raise NotImplementedError

    def payload_checks(self) -> list[tuple[str | None, type[serializers.Serializer], dict[str, str]]]:
        return []

    def clean(self):
        # Before the subclasses' own cross-field checks, which then skip the fields found wrong here.
        cleaned = super().clean()
        for name, (controller, values) in self.required_unless.items():
            chosen = cleaned.get(controller)
            if (
                chosen not in (None, "", *values)
                and cleaned.get(name) in (None, "")
                and name not in self.errors
            ):
                self.add_error(
                    name, ValidationError(self.fields[name].error_messages["required"], code="required")
                )
        self._payload_check()
        return cleaned

    def _payload_check(self) -> None:
        checks = self.payload_checks()
        if not checks:
            return
        failed = set(self.errors) - {NON_FIELD_ERRORS}
        part = self.payload_part()
        for key, serializer_class, field_map in checks:
            value = part if key is None else part.get(key)
            if value is None:
                continue
            serializer = serializer_class(data=value, many=isinstance(value, list))
            if serializer.is_valid():
                continue
            for path, errors in payloads.payload_errors_flatten(serializer.errors).items():
                field = _field_for_path(path, field_map)
                field = field if field in self.fields else None
                # A field's own error says more; a form-wide one may only reflect a member left out.
                if field in failed or (field is None and failed):
                    continue
                for error in errors:
                    if error.message not in self.errors.get(field or NON_FIELD_ERRORS, []):
                        self.add_error(field, error)

    def add_payload_error(self, path: str, error: ValidationError) -> None:
        """An error at a payload path ("party.email"), found after the form was validated (by a
        service), put on the field the path maps to, or on the whole form."""
        field = None
        for key, _serializer, field_map in self.payload_checks():
            if key is None:
                field = _field_for_path(path, field_map)
            elif path == key or path.startswith((f"{key}.", f"{key}[")):
                field = _field_for_path(path[len(key) :].lstrip("."), field_map)
            if field is not None:
                break
        self.add_error(field if field in self.fields else None, error)


def _field_for_path(path: str, field_map: dict[str, str]) -> str | None:
    """The field of a payload path, or of its nearest mapped parent ("phones[0].number" → "phones")."""
    while path:
        if path in field_map:
            return field_map[path]
        parent = re.sub(r"(\.[^.\[]*|\[[0-9]+\])\Z", "", path)
        if parent == path:
            return None
        path = parent
    return None


def raw_step_data(form_class: type[forms.Form], prefix: str, values: dict) -> dict[str, list[str]]:
    """A wizard's stored step data (as if typed in) for a step form's `values`."""
    data = {}
    for name, value in values.items():
        if value in (None, "", False, []):
            continue
        if value is True:
            value = ["on"]
        elif isinstance(value, list):
            value = [str(item) for item in value]
        else:
            value = [str(value)]
        data[f"{prefix}-{name}"] = value
    for name in form_class.base_fields:
        data.setdefault(f"{prefix}-{name}", [])  # unticked boxes stay unticked, not their initial value
    return data


# --- Review -----------------------------------------------------------------------------------------


def review_sections(forms_by_step: dict[str, StepForm]) -> list[dict]:
    """What the forms hold, by step and group: [{step, groups: [(title, [(label, text)])]}].

    Empty optional fields are left out; ticked boxes say "Yes", chosen codes show their labels (the
    dictionaries' names), dates are written out.
    """
    sections = []
    for step, form in forms_by_step.items():
        if not form.is_valid():
            sections.append({"step": step, "groups": [], "incomplete": True})
            continue
        groups = []
        for group in form.field_groups():
            fields = [group["toggle"], *group["fields"]] if group["toggle"] else group["fields"]
            if group["toggle"] and form.cleaned_data.get(group["toggle"].name):
                fields = [group["toggle"]]  # "same as …": the hidden fields are not used
            rows = [(field.label, text) for field in fields if (text := _display(field)) is not None]
            if rows:
                groups.append((group["title"], rows))
        sections.append({"step": step, "groups": groups, "incomplete": False})
    return sections


def _display(bound_field) -> str | None:
    field, value = bound_field.field, bound_field.form.cleaned_data.get(bound_field.name)
    if value in (None, "", []) or value is False:
        return None
    if isinstance(field, forms.BooleanField):
        return str(_("Yes"))
    if isinstance(field, forms.MultipleChoiceField):
        labels = dict(field.choices)
        return "; ".join(str(labels.get(code, code)) for code in value)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)
