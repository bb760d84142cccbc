"""Writes: reference data (dictionaries, global parameters) and facility registration (below).

The loaders upsert: a dictionary is matched by name, a value by (dictionary, key), a parameter by
name. Running a load twice changes nothing. Policy (also in `load_dictionaries --help`):

* labels, positions and parameter values/descriptions come from the file and are updated;
* `is_active` of an existing dictionary or value belongs to the operators: a load sets it only on
  creation, unless `reset_active=True`, so a value switched off in the admin stays off;
* rows that are not in the file (added by an operator or from the KVED classifier) are left alone;
* a dictionary marked `"seed_only": true` in the file (KVEDS) only gets its missing values created
  (and, with `reset_active`, its values reactivated):
  the official KVED classifier, loaded with `kveds_load_classifier`, owns those labels.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import (
    Dictionary,
    DictionaryValue,
    GlobalParameter,
)

KVEDS = "KVEDS"
KVEDS_ALLOWED_MSP = "KVEDS_ALLOWED_MSP"  # primary-care codes (86.10, 86.21)
DEFAULT_DICTIONARY_LABELS = ["SYSTEM", "EXTERNAL"]


@dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class LoadReport:
    dictionaries: LoadCounts = field(default_factory=LoadCounts)
    values: LoadCounts = field(default_factory=LoadCounts)
    global_parameters: LoadCounts = field(default_factory=LoadCounts)


@dataclass(frozen=True)
class ValueSpec:
    key: str
    label: str
    position: int = 0


@transaction.atomic
def reference_data_load(*, data: dict[str, Any], reset_active: bool = False) -> LoadReport:
    """Load the `registry/data/dictionaries.json` format, all or nothing.

    `{"dictionaries": [{"name", "labels", "is_active", "values": {key: label}, "order"?, "seed_only"?}],
    "global_parameters": [{"name", "value", "description"}]}`. `order` is "listed" (default: values
    keep the file's order) or "key" (sorted by key, e.g. KVED codes).
    """
    if not isinstance(data, dict) or set(data) - {"dictionaries", "global_parameters"}:
        raise ValidationError('Expected an object with "dictionaries" and "global_parameters".')
    report = LoadReport()
    for entry in _list(data.get("dictionaries", []), "dictionaries"):
        _dictionary_entry_load(entry=entry, reset_active=reset_active, report=report)
    for entry in _list(data.get("global_parameters", []), "global_parameters"):
        if not isinstance(entry, dict) or set(entry) - {"name", "value", "description"}:
            raise ValidationError(f"Bad global parameter entry: {entry!r}")
        outcome = _global_parameter_upsert(
            name=_text(entry.get("name"), "global parameter name"),
            value=_text(str(entry.get("value", "")), f"value of {entry.get('name')}"),
            description=str(entry.get("description", "")),
        )
        _count(report.global_parameters, outcome)
    return report


def _dictionary_entry_load(*, entry: Any, reset_active: bool, report: LoadReport) -> None:
    allowed = {"name", "labels", "is_active", "values", "order", "seed_only"}
    if not isinstance(entry, dict) or set(entry) - allowed or not isinstance(entry.get("values"), dict):
        raise ValidationError(f"Bad dictionary entry: {str(entry)[:200]}")
    name = _text(entry.get("name"), "dictionary name")
    order = entry.get("order", "listed")
    if order not in ("listed", "key"):
        raise ValidationError(f'{name}: "order" must be "listed" or "key".')
    values = [
        ValueSpec(
            key=_text(key, f"{name} key"),
            label=_text(label, f"{name}.{key} label"),
            position=0 if order == "key" else index,
        )
        for index, (key, label) in enumerate(entry["values"].items(), start=1)
    ]
    dictionary_upsert(
        name=name,
        labels=entry.get("labels", DEFAULT_DICTIONARY_LABELS),
        is_active=bool(entry.get("is_active", True)),
        values=values,
        reset_active=reset_active,
        seed_only=bool(entry.get("seed_only", False)),
        report=report,
    )


def dictionary_upsert(
    *,
    name: str,
    labels: list[str],
    is_active: bool = True,
    values: Iterable[ValueSpec],
    reset_active: bool = False,
    seed_only: bool = False,
    report: LoadReport | None = None,
) -> Dictionary:
    """Create or update one dictionary and the given values (other values are left as they are)."""
    report = report if report is not None else LoadReport()
    with transaction.atomic():
        dictionary = Dictionary.objects.select_for_update().filter(name=name).first()
        if dictionary is None:
            dictionary = Dictionary(name=name, labels=labels, is_active=is_active)
            dictionary.full_clean()
            dictionary.save()
            _count(report.dictionaries, "created")
        else:
            changes = {"labels": labels}
            if reset_active:
                changes["is_active"] = is_active
            changed = [attr for attr, new in changes.items() if getattr(dictionary, attr) != new]
            for attr in changed:
                setattr(dictionary, attr, changes[attr])
            if changed:
                dictionary.full_clean()
                dictionary.save(update_fields=[*changed, "updated_at"])
            _count(report.dictionaries, "updated" if changed else "unchanged")
        _values_upsert(
            dictionary=dictionary,
            values=values,
            reset_active=reset_active,
            seed_only=seed_only,
            counts=report.values,
        )
    return dictionary


def _values_upsert(
    *,
    dictionary: Dictionary,
    values: Iterable[ValueSpec],
    reset_active: bool,
    seed_only: bool,
    counts: LoadCounts,
) -> None:
    existing = {value.key: value for value in dictionary.values.all()}
    to_create: list[DictionaryValue] = []
    to_update: dict[str, DictionaryValue] = {}
    seen: set[str] = set()
    for spec in values:
        if spec.key in seen:
            raise ValidationError(f"{dictionary.name}: key {spec.key!r} is listed twice.")
        seen.add(spec.key)
        row = existing.get(spec.key)
        if row is None:
            row = DictionaryValue(
                dictionary=dictionary, key=spec.key, label=spec.label, position=spec.position
            )
            row.full_clean(exclude=["dictionary"], validate_unique=False, validate_constraints=False)
            to_create.append(row)
            continue
        changes = {} if seed_only else {"label": spec.label, "position": spec.position}
        if reset_active:
            changes["is_active"] = True  # the file lists values to offer
        changed = False
        for attr, new in changes.items():
            if getattr(row, attr) != new:
                setattr(row, attr, new)
                changed = True
        if changed:
            row.full_clean(exclude=["dictionary"], validate_unique=False, validate_constraints=False)
            to_update[spec.key] = row
        else:
            counts.unchanged += 1
    DictionaryValue.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        DictionaryValue.objects.bulk_update(
            to_update.values(), ["label", "position", "is_active"], batch_size=500
        )
    counts.created += len(to_create)
    counts.updated += len(to_update)


@transaction.atomic
def kveds_load_classifier(*, classifier: dict[str, Any], reset_active: bool = False) -> LoadReport:
    """Load the classes of the official KVED-2010 classifier (data.gov.ua JSON) into KVEDS.

    The file nests sections → divisions → groups → classes; only classes (`NN.NN`, 615 in KVED-2010)
    are dictionary keys, as in eHealth. Its labels replace ours; existing values' `is_active` is kept.
    """
    report = LoadReport()
    classes = sorted(_kved_classes(classifier))
    if not classes:
        raise ValidationError("The KVED file has no classes.")
    dictionary_upsert(
        name=KVEDS,
        labels=_existing_labels(KVEDS),
        is_active=True,
        values=[ValueSpec(key=code, label=name) for code, name in classes],
        reset_active=reset_active,
        report=report,
    )
    return report


def _existing_labels(name: str) -> list[str]:
    dictionary = Dictionary.objects.filter(name=name).only("labels").first()
    return dictionary.labels if dictionary else DEFAULT_DICTIONARY_LABELS


def _kved_classes(classifier: Any) -> Iterator[tuple[str, str]]:
    """(classCode, className) pairs. data.gov.ua wraps the sections in an extra list: both forms work."""
    if not isinstance(classifier, dict) or not isinstance(classifier.get("sections"), list):
        raise ValidationError('Expected a KVED classifier object with "sections".')
    for section in _flatten(classifier["sections"]):
        for division in _objects(section.get("divisions", []), "divisions"):
            for group in _objects(division.get("groups", []), "groups"):
                for kved_class in _objects(group.get("classes", []), "classes"):
                    code = _text(kved_class.get("classCode"), "classCode")
                    if not (len(code) == 5 and code[2] == "." and (code[:2] + code[3:]).isdigit()):
                        raise ValidationError(f"Bad KVED class code {code!r}.")
                    yield code, _text(kved_class.get("className"), f"className of {code}")


def _flatten(items: list) -> Iterator[dict]:
    for item in items:
        if isinstance(item, list):
            yield from _flatten(item)
        elif isinstance(item, dict):
            yield item
        else:
            raise ValidationError(f"Unexpected item in the KVED sections: {item!r}")


def global_parameter_set(*, name: str, value: str, description: str | None = None) -> GlobalParameter:
    """Create or change one parameter, validated like the admin form (whole numbers, term units)."""
    with transaction.atomic():
        parameter = GlobalParameter.objects.select_for_update().filter(name=name).first()
        if parameter is None:
            parameter = GlobalParameter(name=name, value=value, description=description or "")
            parameter.full_clean()
            parameter.save()
            return parameter
        parameter.value = value
        fields = ["value", "updated_at"]
        if description is not None:
            parameter.description = description
            fields.append("description")
        parameter.full_clean()
        parameter.save(update_fields=fields)
    return parameter


def _global_parameter_upsert(*, name: str, value: str, description: str) -> str:
    parameter = GlobalParameter.objects.filter(name=name).first()
    if parameter is None:
        global_parameter_set(name=name, value=value, description=description)
        return "created"
    if parameter.value == value and parameter.description == description:
        return "unchanged"
    global_parameter_set(name=name, value=value, description=description)
    return "updated"


def _count(counts: LoadCounts, outcome: str) -> None:
    setattr(counts, outcome, getattr(counts, outcome) + 1)


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise ValidationError(f'"{what}" must be a list.')
    return value


def _objects(value: Any, what: str) -> list[dict]:
    items = _list(value, what)
    if not all(isinstance(item, dict) for item in items):
        raise ValidationError(f'"{what}" must be a list of objects.')
    return items


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what}: expected a non-empty string, got {value!r}.")
    return value.strip()
