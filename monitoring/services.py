"""Writes of the monitoring app: imports of the Diia reference dumps ({"entries": [...]}), CNAPs'
signed joining applications, and the CNAP systems operators connect."""

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ehealth_portal import encryption
from ehealth_portal.services import email_queue
from ehealth_portal.signatures import SignatureError, verify_signature
from ehealth_portal.validators import validate_edrpou

from .models import AdministrativeService, Cnap, CnapSystem, JoiningApplication, ServiceVariation

logger = logging.getLogger(__name__)

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


# --- Joining: a CNAP's signed application ----------------------------------------------------------

# The signed document is the same for every reader and every UI language, so it stays in Ukrainian.
JOINING_TEXT_TEMPLATE = (
    "Заява про приєднання інформаційної системи ЦНАП до системи онлайн-моніторингу та оцінки якості "
    "надання адміністративних послуг\n"
    "\n"
    "ЦНАП: {cnap_code} — {cnap_name}\n"
    "Код ЄДРПОУ органу, що утворив ЦНАП: {edrpou}\n"
    "Адреса точки доступу до даних про звернення: {base_url}\n"
    "Електронна пошта для зв'язку: {email}\n"
    "\n"
    "Просимо підключити інформаційну систему ЦНАП до системи онлайн-моніторингу: вона віддаватиме дані "
    "про звернення за вказаною адресою (GET ?start_date=РРРР-ММ-ДД&end_date=РРРР-ММ-ДД, HTTP Basic Auth). "
    "Логін і пароль доступу передамо оператору окремо. Звернення не містять персональних даних "
    "заявників.\n"
    "\n"
    "Дата: {day}\n"
)
# A text dated this many days back is still accepted: signing may take a while after it is shown.
JOINING_TEXT_VALID_DAYS = 7
SIGNATURE_FIELD = "signature"


def joining_application_text(
    *, cnap: Cnap, organisation_edrpou: str, contact_email: str, proposed_base_url: str, day: datetime.date
) -> str:
    """The exact application text the body's official signs (deterministic for the same input)."""
    return JOINING_TEXT_TEMPLATE.format(
        cnap_code=cnap.code,
        cnap_name=cnap.name,
        edrpou=organisation_edrpou,
        base_url=proposed_base_url,
        email=contact_email,
        day=day.strftime("%d.%m.%Y"),
    )


def endpoint_url_validate(value: str) -> None:
    """A CNAP endpoint: an absolute https URL (plain http only in development, for the simulator).

    Basic Auth credentials travel with every request, so production never sends them unencrypted.
    """
    URLValidator(schemes=["http", "https"])(value)
    parts = urlsplit(value)
    if parts.scheme != "https" and not settings.DEBUG:
        raise ValidationError(_("Use an https:// address: the login and password travel with every request."))
    if parts.username or parts.password:
        raise ValidationError(_("Do not put the login or password into the address."))


def _field_error(field_name: str, message, code: str, **params) -> ValidationError:
    return ValidationError({field_name: [ValidationError(message, code=code, params=params or None)]})


def _joining_fields_validate(
    *, cnap: Cnap, organisation_edrpou: str, contact_email: str, proposed_base_url: str
) -> None:
    errors: dict[str, list] = {}
    if not cnap.is_active:
        errors["cnap"] = [
            ValidationError(_("This CNAP is not active in the CNAP registry."), code="cnap_inactive")
        ]
    for name, validator, value in (
        ("organisation_edrpou", validate_edrpou, organisation_edrpou),
        ("contact_email", validate_email, contact_email),
        ("proposed_base_url", endpoint_url_validate, proposed_base_url),
    ):
        try:
            validator(value)
        except ValidationError as error:
            errors[name] = error.error_list
    if errors:
        raise ValidationError(errors)


def _signed_text_is_the_application(*, signed_content: str, **fields) -> bool:
    today = timezone.localdate()
    return any(
        signed_content == joining_application_text(**fields, day=today - datetime.timedelta(days=back))
        for back in range(JOINING_TEXT_VALID_DAYS + 1)
    )


def joining_application_submit(
    *,
    cnap: Cnap,
    organisation_edrpou: str,
    contact_email: str,
    proposed_base_url: str,
    signed_content: str,
    signature: bytes,
) -> JoiningApplication:
    """Store a CNAP's signed application (SUBMITTED) and email the contact a receipt.

    The signature must verify over exactly `signed_content`, which must be the application text for
    these fields (dated within JOINING_TEXT_VALID_DAYS), signed by an official of the body whose
    EDRPOU is given. Any refusal is a ValidationError by field; nothing is stored then.
    """
    _joining_fields_validate(
        cnap=cnap,
        organisation_edrpou=organisation_edrpou,
        contact_email=contact_email,
        proposed_base_url=proposed_base_url,
    )
    if len(signature) > settings.SIGNATURE_MAX_BYTES:
        raise _field_error(SIGNATURE_FIELD, SignatureError("too_large").message, "too_large")
    try:
        document = verify_signature(signature, content=signed_content.encode("utf-8"))
    except SignatureError as error:
        raise _field_error(SIGNATURE_FIELD, error.message, error.code) from error
    if not _signed_text_is_the_application(
        signed_content=signed_content,
        cnap=cnap,
        organisation_edrpou=organisation_edrpou,
        contact_email=contact_email,
        proposed_base_url=proposed_base_url,
    ):
        raise _field_error(
            SIGNATURE_FIELD,
            _(
                "The signed text is not this application's text. Download the text again and sign it unchanged."
            ),
            "text_mismatch",
        )
    signer = document.signer
    if signer.is_stamp:
        raise _field_error(
            SIGNATURE_FIELD,
            _("The application is signed with a seal. An official of the body must sign it personally."),
            "signer_is_stamp",
        )
    if signer.edrpou != organisation_edrpou:
        raise _field_error(
            SIGNATURE_FIELD,
            _(
                "The signer's certificate belongs to the body with EDRPOU %(signer)s, not %(given)s. "
                "An official of the body that runs the CNAP must sign."
            ),
            "edrpou_mismatch",
            signer=signer.edrpou or "—",
            given=organisation_edrpou,
        )
    with transaction.atomic():
        application = JoiningApplication.objects.create(
            cnap=cnap,
            organisation_edrpou=organisation_edrpou,
            contact_email=contact_email.strip().lower(),
            proposed_base_url=proposed_base_url,
            signed_content=signed_content,
            signature=signature,
            signer_name=_signer_name(signer),
            signer_drfo=signer.drfo or "",
            signer_edrpou=signer.edrpou or "",
            signed_at=signer.signing_time,
        )
        _joining_email(
            application=application,
            subject=_("Your application to join the CNAP monitoring has been received"),
            template="joining_submitted",
        )
    return application


def _joining_email(
    *, application: JoiningApplication, subject, template: str, context=None, actor=None
) -> None:
    """Queue one of the joining emails to the application's contact address."""
    # Outgoing mail is written in the portal's language, whatever the applicant's page language.
    with translation.override(settings.LANGUAGE_CODE):
        email_queue(
            to=application.contact_email,
            subject=str(subject),
            text_body=render_to_string(
                f"monitoring/emails/{template}.txt", {"application": application, **(context or {})}
            ),
            created_by=actor,
        )


def _signer_name(signer) -> str:
    parts = [part for part in (signer.surname, signer.given_names) if part]
    return " ".join(parts) or signer.common_name or ""


@transaction.atomic
def joining_application_reject(*, application: JoiningApplication, actor, comment: str) -> JoiningApplication:
    """Reject a submitted application with the reason (emailed to the contact address)."""
    comment = comment.strip()
    if not comment:
        raise _field_error("comment", _("Write the reason: the CNAP receives it."), "required")
    application = JoiningApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != JoiningApplication.Status.SUBMITTED:
        raise ValidationError(
            _("Only a submitted application can be rejected; this one is %(status)s."),
            code="not_submitted",
            params={"status": application.get_status_display()},
        )
    application.status = JoiningApplication.Status.REJECTED
    application.decided_by = actor
    application.decided_at = timezone.now()
    application.decision_comment = comment
    application.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    _joining_email(
        application=application,
        subject=_("Your application to join the CNAP monitoring was rejected"),
        template="joining_rejected",
        actor=actor,
    )
    return application


# --- CNAP systems ------------------------------------------------------------------------------------

SYSTEM_UPDATABLE_FIELDS = {"name", "base_url", "login", "is_active"}


def _system_fields_validate(*, base_url: str | None = None, login: str | None = None) -> None:
    errors: dict[str, list] = {}
    if base_url is not None:
        try:
            endpoint_url_validate(base_url)
        except ValidationError as error:
            errors["base_url"] = error.error_list
    if login is not None and (not login or ":" in login):
        errors["login"] = [
            ValidationError(_("Enter the Basic Auth login (without a colon)."), code="invalid_login")
        ]
    if errors:
        raise ValidationError(errors)


def _password_validate(password: str) -> None:
    if not password:
        raise _field_error("password", _("Enter the Basic Auth password."), "required")


def _active_system_exists(*, cnap: Cnap, exclude_pk=None) -> bool:
    return CnapSystem.objects.filter(cnap=cnap, is_active=True).exclude(pk=exclude_pk).exists()


@transaction.atomic
def cnap_system_connect(
    *, application: JoiningApplication, name: str, base_url: str, login: str, password: str, actor
) -> CnapSystem:
    """Connect the CNAP's system on its application (which becomes CONNECTED); the password is encrypted."""
    application = JoiningApplication.objects.select_for_update().select_related("cnap").get(pk=application.pk)
    if application.status == JoiningApplication.Status.REJECTED:
        raise _field_error(
            "application", _("This application was rejected: a system cannot be connected on it."), "rejected"
        )
    _system_fields_validate(base_url=base_url, login=login)
    _password_validate(password)
    if _active_system_exists(cnap=application.cnap):
        raise _field_error(
            "cnap",
            _("This CNAP already has an active system. Deactivate it first or change it."),
            "system_exists",
        )
    system = CnapSystem(
        cnap=application.cnap,
        application=application,
        name=name,
        base_url=base_url,
        login=login,
        created_by=actor,
    )
    system.password = password
    system.save()
    if application.status != JoiningApplication.Status.CONNECTED:
        application.status = JoiningApplication.Status.CONNECTED
        application.decided_by = actor
        application.decided_at = timezone.now()
        application.save(update_fields=["status", "decided_by", "decided_at"])
        _joining_email(
            application=application,
            subject=_("Your CNAP's system is connected to the monitoring"),
            template="joining_connected",
            context={"system": system},
            actor=actor,
        )
    logger.info("CNAP %s: system %s connected by %s", application.cnap.code, system.pk, actor)
    return system


@transaction.atomic
def cnap_system_update(*, system: CnapSystem, actor, password: str | None = None, **fields) -> CnapSystem:
    """Change a system's name, base URL, login or activity; a non-empty `password` replaces the stored one.

    An empty or None password keeps the stored one (the admin never shows it back).
    """
    unknown = set(fields) - SYSTEM_UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"cnap_system_update cannot change {sorted(unknown)}")
    system = CnapSystem.objects.select_for_update().get(pk=system.pk)
    _system_fields_validate(base_url=fields.get("base_url"), login=fields.get("login"))
    reactivated = fields.get("is_active") and not system.is_active
    if reactivated and _active_system_exists(cnap=system.cnap, exclude_pk=system.pk):
        raise _field_error("is_active", _("This CNAP already has another active system."), "system_exists")
    changed = [name for name, value in fields.items() if getattr(system, name) != value]
    for name in changed:
        setattr(system, name, fields[name])
    if password:
        system.password = password
        changed.append("password_encrypted")
    if changed:
        system.updated_by = actor
        system.save(update_fields=[*changed, "updated_by", "updated_at"])
        logger.info("CNAP system %s: %s changed by %s", system.pk, ", ".join(changed), actor)
    return system


@transaction.atomic
def cnap_system_passwords_rotate() -> int:
    """Re-encrypt every system's password with the newest FIELD_ENCRYPTION_KEYS key; all or nothing.

    Raises SecretUnreadable naming the first system whose password no configured key decrypts.
    """
    systems = list(CnapSystem.objects.select_for_update().select_related("cnap").order_by("pk"))
    for system in systems:
        try:
            system.password_encrypted = encryption.rotate(system.password_encrypted)
        except encryption.SecretUnreadable as error:
            raise encryption.SecretUnreadable(
                f"the password of system {system.pk} ({system}) cannot be decrypted with the configured keys"
            ) from error
    CnapSystem.objects.bulk_update(systems, ["password_encrypted"])
    return len(systems)
