"""Writes of the monitoring app: imports of the Diia reference dumps ({"entries": [...]})."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from .models import AdministrativeService, Cnap, ServiceVariation

# The registry's `state` of a working CNAP; "Тимчасово закритий" and "Закритий назавжди" are not.
CNAP_STATE_ACTIVE = "діючий"
# Units of `variations[].duration.type` that count days. The official enum was not published, so
# other units leave the term in days empty (the text is kept) rather than guessing a conversion.
CALENDAR_DAY_UNITS = {"day", "days", "calendar", "calendar_day", "calendar_days", "календарних днів"}
WORKING_DAY_UNITS = {"working", "working_day", "working_days", "work_days", "business_days", "робочих днів"}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)  # one reason per skipped entry

    def __str__(self):
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.skipped} skipped"


class _EntrySkipped(Exception):
    """An entry that cannot be imported; the message is the reason shown to the operator."""


# --- Services ---------------------------------------------------------------------------------------


@dataclass
class _VariationSpec:
    identifier: str
    fields: dict[str, Any]


@transaction.atomic
def services_import(*, entries: list) -> ImportReport:
    """Upsert the Register of administrative services by `identifier`; all or nothing.

    An entry with any malformed part (its variations included) is skipped whole, with the reason.
    Services missing from the dump are kept; variations missing from their service's entry are
    switched off, not deleted (appeals may refer to them).
    """
    _require_entries(entries)
    report = ImportReport()
    existing = {s.identifier: s for s in AdministrativeService.objects.prefetch_related("variations")}
    seen: set[str] = set()
    for position, entry in enumerate(entries, 1):
        try:
            identifier, fields, variations = _service_entry_parse(entry)
            if identifier in seen:
                raise _EntrySkipped(f'identifier "{identifier}" appears earlier in the file')
        except _EntrySkipped as reason:
            _skip(report, position, entry, "identifier", reason)
            continue
        seen.add(identifier)
        service = existing.get(identifier)
        if service is None:
            service = AdministrativeService.objects.create(identifier=identifier, **fields)
            _variations_sync(service=service, specs=variations, current={})
            report.created += 1
            continue
        changed = _changed_save(service, fields)
        current = {v.identifier: v for v in service.variations.all()}
        changed = _variations_sync(service=service, specs=variations, current=current) or changed
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _service_entry_parse(entry: Any) -> tuple[str, dict[str, Any], list[_VariationSpec]]:
    entry = _object(entry, "the entry")
    identifier = _code(entry.get("identifier"), "identifier", AdministrativeService)
    translations = entry.get("translations")
    if isinstance(translations, list) and translations and isinstance(translations[0], dict):
        name = translations[0].get("name")
    else:
        name = entry.get("name")
    owner = _object(entry.get("owner") or {}, "owner")
    providers = entry.get("service_provider") or []
    if not isinstance(providers, list) or not all(isinstance(p, dict) for p in providers):
        raise _EntrySkipped("service_provider must be a list of objects")
    provider_names = [_text(p.get("name"), "service_provider name", 1000) for p in providers]
    fields = {
        "register_id": _text(entry.get("id"), "id", _max_length(AdministrativeService, "register_id")),
        "name": _text(name, "name", _max_length(AdministrativeService, "name"), required=True),
        "owner_name": _text(
            owner.get("name"), "owner name", _max_length(AdministrativeService, "owner_name")
        ),
        "owner_code": _text(
            owner.get("code"), "owner code", _max_length(AdministrativeService, "owner_code")
        ),
        "provider_names": "\n".join(name for name in provider_names if name),
        "raw": entry,
    }
    variations = entry.get("variations") or []
    if not isinstance(variations, list):
        raise _EntrySkipped("variations must be a list")
    specs = [_variation_parse(variation, number) for number, variation in enumerate(variations, 1)]
    identifiers = [spec.identifier for spec in specs]
    if len(set(identifiers)) != len(identifiers):
        raise _EntrySkipped("two variations have the same identifier")
    return identifier, fields, specs


def _variation_parse(variation: Any, number: int) -> _VariationSpec:
    try:
        variation = _object(variation, "the variation")
        identifier = _code(variation.get("identifier"), "identifier", ServiceVariation)
        duration = _object(variation.get("duration") or {}, "duration")
        unit = str(duration.get("type") or "").strip().casefold()
        value = duration.get("value")
        if value in (None, ""):
            days = None
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            days = value
        elif isinstance(value, str) and value.strip().isdigit():
            days = int(value)
        else:
            raise _EntrySkipped(f"duration value must be a whole number, not {value!r}")
        known_unit = unit in CALENDAR_DAY_UNITS or unit in WORKING_DAY_UNITS
        fields = {
            "name": _text(variation.get("name"), "name", _max_length(ServiceVariation, "name")),
            "legal_term_days": days if known_unit else None,
            "legal_term_working_days": unit in WORKING_DAY_UNITS,
            "legal_term_text": _text(
                duration.get("verbose"), "duration verbose", _max_length(ServiceVariation, "legal_term_text")
            ),
            "is_active": True,
            "raw": variation,
        }
    except _EntrySkipped as reason:
        raise _EntrySkipped(f"variation {number}: {reason}") from None
    return _VariationSpec(identifier=identifier, fields=fields)


def _variations_sync(
    *, service: AdministrativeService, specs: list[_VariationSpec], current: dict[str, ServiceVariation]
) -> bool:
    """Bring the service's variations to the entry's; True when anything was written."""
    changed = False
    for spec in specs:
        variation = current.pop(spec.identifier, None)
        if variation is None:
            ServiceVariation.objects.create(service=service, identifier=spec.identifier, **spec.fields)
            changed = True
        else:
            changed = _changed_save(variation, spec.fields) or changed
    for variation in current.values():
        changed = _changed_save(variation, {"is_active": False}) or changed
    return changed


# --- CNAPs ------------------------------------------------------------------------------------------


@transaction.atomic
def cnaps_import(*, entries: list) -> ImportReport:
    """Upsert the CNAP registry by `code`; all or nothing. Malformed entries are skipped with the reason.

    `is_active` follows the registry `state` when the entry has one; without it the operators' flag stays.
    CNAPs missing from the dump are kept.
    """
    _require_entries(entries)
    report = ImportReport()
    existing = {c.code: c for c in Cnap.objects.all()}
    seen: set[str] = set()
    for position, entry in enumerate(entries, 1):
        try:
            code, fields = _cnap_entry_parse(entry)
            if code in seen:
                raise _EntrySkipped(f'code "{code}" appears earlier in the file')
        except _EntrySkipped as reason:
            _skip(report, position, entry, "code", reason)
            continue
        seen.add(code)
        cnap = existing.get(code)
        if cnap is None:
            Cnap.objects.create(code=code, **fields)
            report.created += 1
        elif _changed_save(cnap, fields):
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _cnap_entry_parse(entry: Any) -> tuple[str, dict[str, Any]]:
    entry = _object(entry, "the entry")
    code = _code(entry.get("code"), "code", Cnap)
    address = entry.get("address") or {}
    if isinstance(address, str):
        address = {"address_full": address}
    address = _object(address, "address")
    latitude = _coordinate(address.get("lat"), "latitude", 90)
    longitude = _coordinate(address.get("lon"), "longitude", 180)
    if (latitude is None) != (longitude is None):
        raise _EntrySkipped("address has only one of lat and lon")
    state = _text(entry.get("state"), "state", _max_length(Cnap, "state"))
    fields = {
        "name": _text(entry.get("name"), "name", _max_length(Cnap, "name"), required=True),
        "address": _text(address.get("address_full"), "address_full", _max_length(Cnap, "address")),
        "latitude": latitude,
        "longitude": longitude,
        # The dump's region key is not confirmed: top level first, then inside the address.
        "region": _text(entry.get("region") or address.get("region"), "region", _max_length(Cnap, "region")),
        "state": state,
        "raw": entry,
    }
    if state:
        fields["is_active"] = state.casefold() == CNAP_STATE_ACTIVE
    return code, fields


def _coordinate(value: Any, what: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _EntrySkipped(f"{what} must be a number, not {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _EntrySkipped(f"{what} must be a number, not {value!r}") from None
    if not number.is_finite() or abs(number) > limit:
        raise _EntrySkipped(f"{what} {value!r} is outside -{limit}…{limit}")
    return number.quantize(Decimal("0.000001"))


# --- Shared parsing and saving ------------------------------------------------------------------------


def _require_entries(entries: Any) -> None:
    if not isinstance(entries, list):
        raise ValidationError('Expected "entries" to be a list of objects.')


def _skip(report: ImportReport, position: int, entry: Any, key: str, reason: Exception) -> None:
    label = f"entry {position}"
    if isinstance(entry, dict) and isinstance(entry.get(key), str | int):
        label += f' ({key} "{entry[key]}")'
    report.skipped += 1
    report.problems.append(f"{label}: {reason}")


def _object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise _EntrySkipped(f"{what} must be an object, not {type(value).__name__}")
    return value


def _code(value: Any, what: str, model: type[models.Model]) -> str:
    """An opaque code: a string kept as written (leading zeros matter) or a whole number."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _EntrySkipped(f"{what} is missing")
    if not isinstance(value, str):
        raise _EntrySkipped(f"{what} must be a string or a whole number, not {value!r}")
    return _text(value, what, _max_length(model, what), required=True)


def _text(value: Any, what: str, max_length: int | None, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _EntrySkipped(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise _EntrySkipped(f"{what} is missing")
    if max_length and len(value) > max_length:
        raise _EntrySkipped(f"{what} is longer than {max_length} characters")
    return value


def _max_length(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _changed_save(instance: models.Model, fields: dict[str, Any]) -> bool:
    """Write only the fields whose values differ; True when something was written."""
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, fields[name])
    if changed:
        if any(f.name == "updated_at" for f in instance._meta.fields):
            changed.append("updated_at")
        instance.save(update_fields=changed)
    return bool(changed)
