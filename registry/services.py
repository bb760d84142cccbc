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

import base64
import datetime
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ehealth_portal.services import email_queue
from ehealth_portal.signatures import ERROR_MESSAGES as SIGNATURE_ERROR_MESSAGES
from ehealth_portal.signatures import SignatureError, verify_signature

from .edr import name_key, person_names_match, state_register
from .models import (
    ApplicationCheck,
    Dictionary,
    DictionaryValue,
    Division,
    Employee,
    EmployeeRequest,
    GlobalParameter,
    LegalEntity,
    Party,
    RegistrationApplication,
)
from .payloads import (
    SOLE_PROPRIETOR_LEGAL_FORM,
    legal_entity_payload_canonical,
    legal_entity_payload_validate,
    payload_full_name,
)
from .selectors import (
    OWNER,
    dictionary_choices,
    dictionary_has_key,
    dictionary_value_label,
    employee_request_by_token,
    global_parameter_term,
    token_hash,
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


# --- Facility registration ------------------------------------------------------------------------
#
# registration_application_submit → (web) registration_application_check_task → registration_application_check:
# SIGNATURE → KVEDS → STATE_REGISTER, one ApplicationCheck per step, stopping at the first failure.
# Success creates the facility, its first division, the head's Party and the OWNER EmployeeRequest in
# one transaction and emails the invitation; failure rejects with reasons; a ФОП the register cannot
# pin down waits for an operator (registration_application_decide).

ENVELOPE_FIELD = "signed_legal_entity_request"  # the JSON path of signature problems, as in eHealth
STATUS_TOKEN_SALT = "registry.registration-application-status"

Step = ApplicationCheck.Step
Outcome = ApplicationCheck.Outcome

REASON_MESSAGES = {
    "signed_content_differs": _(
        "The signed document is not the submitted application: sign the document shown for review."
    ),
    "content_not_json": _("The signed document is not a JSON object."),
    "signer_drfo_missing": _("The signer's certificate has no RNOKPP."),
    "signer_not_head": _("The application is signed by someone else: the signer's RNOKPP is not the head's."),
    "signer_edrpou_mismatch": _(
        "The signer's certificate belongs to another organisation (EDRPOU %(signer)s, not %(edrpou)s)."
    ),
    "signer_surname_mismatch": _("The signer's surname “%(signer)s” differs from the head's “%(head)s”."),
    "signer_given_names_mismatch": _(
        "The signer's first name and patronymic “%(signer)s” differ from the head's “%(head)s”."
    ),
    "signer_name_mismatch": _("The signer “%(signer)s” is not the head “%(head)s”."),
    "kved_unknown": _("Unknown KVED codes: %(codes)s."),
    "kved_primary_care_missing": _("At least one KVED code must be a primary-care code: %(codes)s."),
    "legal_entity_exists": _("A facility with this code is already registered."),
    "edr_not_found": _("The code %(edrpou)s is not in the state register."),
    "edr_not_registered": _("In the state register the entity is “%(state)s”, not registered."),
    "edr_ambiguous": _("The state register lists several registered entities with the code %(edrpou)s."),
    "edr_head_mismatch": _("%(head)s is not a head or signatory of this entity in the state register."),
    "edr_name_mismatch": _("The name differs from the state register: “%(register_name)s”."),
    "fop_not_found": _("No registered sole proprietor named %(head)s was found in the state register."),
    "fop_ambiguous": _("Several registered sole proprietors are named %(head)s in the state register."),
    "operator_rejected": _("Rejected by an operator: %(comment)s"),
}


@dataclass
class _StepResult:
    outcome: str
    details: list[dict]


def _reason(step: str, code: str, field: str, message=None, **params) -> dict:
    """One refusal reason as stored and shown: {step, code, field, message} (message rendered now)."""
    text = message if message is not None else REASON_MESSAGES[code]
    return {
        "step": step,
        "code": code,
        "field": field,
        "message": str(text) % params if params else str(text),
    }


def _validation_error(field: str, code: str, message=None, **params) -> ValidationError:
    text = message if message is not None else REASON_MESSAGES[code]
    return ValidationError({field: [ValidationError(text, code=code, params=params or None)]})


def registration_status_token(*, application: RegistrationApplication) -> str:
    """The status-page token of an application.

    An HMAC of its id under SECRET_KEY: unguessable, and every later email (rejection, invitation) can
    carry the link again, while the database keeps only its SHA-256. Rotating SECRET_KEY (without
    SECRET_KEY_FALLBACKS) invalidates the links of pending applications.
    """
    digest = salted_hmac(STATUS_TOKEN_SALT, str(application.pk), algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _absolute_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _status_url(application: RegistrationApplication) -> str:
    return _absolute_url(
        reverse("registry:application-status", args=[registration_status_token(application=application)])
    )


def _email(*, to: str, subject, name: str, template: str, context: dict, created_by=None) -> None:
    """Queue one of the registration emails; `subject` is a lazy text with %(name)s."""
    # Outgoing mail is written in the portal's language (Ukrainian), whoever triggered it.
    with translation.override(settings.LANGUAGE_CODE):
        email_queue(
            to=to,
            subject=str(subject) % {"name": name},
            text_body=render_to_string(f"registry/emails/{template}.txt", context),
            created_by=created_by,
        )


def _active_legal_entity_exists(*, edrpou: str, type: str) -> bool:  # noqa: A002
    return LegalEntity.objects.filter(edrpou=edrpou, type=type, status=LegalEntity.Status.ACTIVE).exists()


def registration_application_submit(
    *,
    signed_envelope: bytes,
    data: dict | None = None,
    channel: str = RegistrationApplication.Channel.WEB,
    submitted_by=None,
) -> tuple[RegistrationApplication, str]:
    """Store a signed application (SUBMITTED) and return it with its status-page token (shown once).

    Web: `data` is the reviewed payload; its canonical JSON is what the head had to sign (checked by
    registration_application_check, queued after commit). API: `data` is None and the payload is the
    signature's content — the signature must verify and the payload be valid before anything is
    stored; the caller runs registration_application_check itself and answers with the outcome.
    A code that already has an ACTIVE facility is refused here (ValidationError on "edrpou", code
    "legal_entity_exists") and again at the state-register step, for applications already waiting.
    """
    if len(signed_envelope) > settings.SIGNATURE_MAX_BYTES:
        raise _validation_error(ENVELOPE_FIELD, "too_large", SIGNATURE_ERROR_MESSAGES["too_large"])
    if channel == RegistrationApplication.Channel.API:
        if data is not None:
            raise ValueError("API applications carry their data in the signature")
        try:
            document = verify_signature(signed_envelope)
        except SignatureError as error:
            raise _validation_error(ENVELOPE_FIELD, error.code, error.message) from error
        signed_content = document.content
        try:
            payload = json.loads(signed_content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            raise _validation_error(ENVELOPE_FIELD, "content_not_json") from error
        data = legal_entity_payload_validate(payload)
        signer = document.signer.as_dict()
    elif channel == RegistrationApplication.Channel.WEB:
        data = legal_entity_payload_validate(data)
        signed_content = legal_entity_payload_canonical(data)
        signer = {}
    else:
        raise ValueError(f"unknown channel {channel!r}")
    if _active_legal_entity_exists(edrpou=data["edrpou"], type=data["type"]):
        raise _validation_error("edrpou", "legal_entity_exists")

    with transaction.atomic():
        application = RegistrationApplication(
            channel=channel,
            edrpou=data["edrpou"],
            name=data["name"],
            email=data["owner"]["email"],
            data=data,
            signed_envelope=signed_envelope,
            signed_content=signed_content,
            signer=signer,
            submitted_by=submitted_by,
        )
        token = registration_status_token(application=application)
        application.status_token_hash = token_hash(token)
        application.save()
        if channel == RegistrationApplication.Channel.WEB:
            _email(
                to=application.email,
                subject=_("Your application to register %(name)s has been received"),
                name=application.name,
                template="application_submitted",
                context={"application": application, "status_url": _status_url(application)},
            )
            from .tasks import registration_application_check_task  # tasks import services

            registration_application_check_task.delay_on_commit(str(application.pk))
    return application, token


def registration_application_check(*, application_id, actor=None) -> RegistrationApplication:
    """Run the checks of a SUBMITTED application in order; anything else is returned unchanged.

    Each step records an ApplicationCheck; the first failure rejects (reasons + email), a ФОП the
    register cannot identify waits for an operator, success registers the facility.
    """
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        application = RegistrationApplication.objects.select_for_update().get(pk=application_id)
        if application.status != RegistrationApplication.Status.SUBMITTED:
            return application
        for step, check in (
            (Step.SIGNATURE, _signature_check),
            (Step.KVEDS, _kveds_check),
            (Step.STATE_REGISTER, _state_register_check),
        ):
            result = check(application)
            ApplicationCheck.objects.create(
                application=application,
                step=step,
                outcome=result.outcome,
                details=result.details,
                created_by=actor,
            )
            if result.outcome == Outcome.FAILED:
                _application_reject(application, reasons=result.details, actor=actor)
                return application
            if result.outcome == Outcome.WAITING:
                _application_wait(application)
                return application
        _application_approve(application, actor=actor)
    return application


def _signature_check(application: RegistrationApplication) -> _StepResult:
    """Valid signature over exactly the submitted document, made by the head (ФОП: by the proprietor)."""
    envelope, expected = bytes(application.signed_envelope), bytes(application.signed_content)
    try:
        try:
            document = verify_signature(envelope)
        except SignatureError as error:
            if error.code != "content_missing":
                raise
            try:  # a detached signature: of the submitted document?
                document = verify_signature(envelope, expected)
            except SignatureError as detached_error:
                if detached_error.code == "content_mismatch":
                    return _failed(_reason(Step.SIGNATURE, "signed_content_differs", ENVELOPE_FIELD))
                raise
    except SignatureError as error:
        return _failed(_reason(Step.SIGNATURE, error.code, ENVELOPE_FIELD, error.message))
    if document.content != expected:
        return _failed(_reason(Step.SIGNATURE, "signed_content_differs", ENVELOPE_FIELD))

    signer, data = document.signer, application.data
    owner, edrpou = data["owner"], data["edrpou"]
    application.signer = signer.as_dict()
    application.save(update_fields=["signer"])
    reasons = []
    drfo = (signer.drfo or "").strip().upper()
    if not drfo:
        reasons.append(_reason(Step.SIGNATURE, "signer_drfo_missing", "owner.tax_id"))
    elif drfo != owner["tax_id"]:
        reasons.append(_reason(Step.SIGNATURE, "signer_not_head", "owner.tax_id"))
    # A ФОП's code is the head's RNOKPP (the payload rules tie the two), so the DRFO check above covers
    # "signer DRFO = edrpou"; the certificate's EDRPOU is compared for legal entities only.
    if data["legal_form"] != SOLE_PROPRIETOR_LEGAL_FORM and signer.edrpou and signer.edrpou.strip() != edrpou:
        reasons.append(
            _reason(Step.SIGNATURE, "signer_edrpou_mismatch", "edrpou", signer=signer.edrpou, edrpou=edrpou)
        )
    given_names = " ".join(filter(None, [owner["first_name"], owner.get("second_name")]))
    if signer.surname or signer.given_names:
        if not person_names_match(signer.surname or "", owner["last_name"]):
            reasons.append(
                _reason(
                    Step.SIGNATURE,
                    "signer_surname_mismatch",
                    "owner.last_name",
                    signer=signer.surname or "",
                    head=owner["last_name"],
                )
            )
        if not person_names_match(signer.given_names or "", given_names):
            reasons.append(
                _reason(
                    Step.SIGNATURE,
                    "signer_given_names_mismatch",
                    "owner.first_name",
                    signer=signer.given_names or "",
                    head=given_names,
                )
            )
    elif not person_names_match(signer.common_name or "", payload_full_name(owner)):
        reasons.append(
            _reason(
                Step.SIGNATURE,
                "signer_name_mismatch",
                "owner.last_name",
                signer=signer.common_name or "",
                head=payload_full_name(owner),
            )
        )
    if reasons:
        return _failed(*reasons)
    return _StepResult(Outcome.PASSED, [{"code": "signature_valid", "signer": application.signer}])


def _kveds_check(application: RegistrationApplication) -> _StepResult:
    kveds = application.data["kveds"]
    reasons = []
    unknown = [code for code in kveds if not dictionary_has_key(name=KVEDS, key=code)]
    if unknown:
        reasons.append(_reason(Step.KVEDS, "kved_unknown", "kveds", codes=", ".join(unknown)))
    if not any(dictionary_has_key(name=KVEDS_ALLOWED_MSP, key=code) for code in kveds):
        allowed = ", ".join(key for key, _label in dictionary_choices(name=KVEDS_ALLOWED_MSP))
        reasons.append(_reason(Step.KVEDS, "kved_primary_care_missing", "kveds", codes=allowed))
    if reasons:
        return _failed(*reasons)
    return _StepResult(Outcome.PASSED, [{"code": "kveds_valid", "kveds": kveds}])


def _subject_dict(subject) -> dict:
    return {
        "kind": subject.kind,
        "code": subject.code,
        "name": subject.name,
        "short_name": subject.short_name,
        "address": subject.address,
        "state": subject.state,
        "is_registered": subject.is_registered,
        "heads": list(subject.heads),
    }


def _state_register_check(application: RegistrationApplication) -> _StepResult:
    data = application.data
    edrpou, head = data["edrpou"], payload_full_name(data["owner"])
    if _active_legal_entity_exists(edrpou=edrpou, type=data["type"]):
        return _failed(_reason(Step.STATE_REGISTER, "legal_entity_exists", "edrpou"))
    register = state_register()
    if data["legal_form"] == SOLE_PROPRIETOR_LEGAL_FORM:
        # The open data of sole proprietors has no RNOKPP: match the full name among registered ones.
        candidates = register.find_sole_proprietors(head)
        registered = [subject for subject in candidates if subject.is_registered]
        if len(registered) == 1:
            return _StepResult(
                Outcome.PASSED, [{"code": "edr_found", "subject": _subject_dict(registered[0])}]
            )
        code = "fop_not_found" if not registered else "fop_ambiguous"
        detail = _reason(Step.STATE_REGISTER, code, "owner", head=head)
        return _StepResult(
            Outcome.WAITING, [{**detail, "candidates": [_subject_dict(s) for s in candidates]}]
        )

    subjects = register.find_by_code(edrpou)
    if not subjects:
        return _failed(_reason(Step.STATE_REGISTER, "edr_not_found", "edrpou", edrpou=edrpou))
    registered = [subject for subject in subjects if subject.is_registered]
    if not registered:
        return _failed(_reason(Step.STATE_REGISTER, "edr_not_registered", "edrpou", state=subjects[0].state))
    if len(registered) > 1:
        return _failed(_reason(Step.STATE_REGISTER, "edr_ambiguous", "edrpou", edrpou=edrpou))
    subject = registered[0]
    reasons = []
    if not any(person_names_match(head, name) for name in subject.heads):
        reasons.append(_reason(Step.STATE_REGISTER, "edr_head_mismatch", "owner", head=head))
    register_names = {name_key(subject.name), name_key(subject.short_name)} - {""}
    if name_key(data["name"]) not in register_names:
        reasons.append(_reason(Step.STATE_REGISTER, "edr_name_mismatch", "name", register_name=subject.name))
    if reasons:
        return _failed(*reasons)
    return _StepResult(Outcome.PASSED, [{"code": "edr_found", "subject": _subject_dict(subject)}])


def _failed(*reasons: dict) -> _StepResult:
    return _StepResult(Outcome.FAILED, list(reasons))


def _application_reject(application: RegistrationApplication, *, reasons: list[dict], actor=None) -> None:
    application.status = RegistrationApplication.Status.REJECTED
    application.reasons = reasons
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["status", "reasons", "decided_at", "decided_by"])
    _email(
        to=application.email,
        subject=_("Your application to register %(name)s has been rejected"),
        name=application.name,
        template="application_rejected",
        context={"application": application, "reasons": reasons, "status_url": _status_url(application)},
        created_by=actor,
    )


def _application_wait(application: RegistrationApplication) -> None:
    application.status = RegistrationApplication.Status.WAITING_OPERATOR
    application.save(update_fields=["status"])
    _email(
        to=application.email,
        subject=_("Your application to register %(name)s waits for an operator"),
        name=application.name,
        template="application_waiting",
        context={"application": application, "status_url": _status_url(application)},
    )


def _application_approve(application: RegistrationApplication, *, actor=None) -> None:
    """Register the facility; a facility registered meanwhile for the same code rejects instead."""
    try:
        with transaction.atomic():
            legal_entity, request, token = _legal_entity_register(application)
    except IntegrityError:  # the unique ACTIVE (edrpou, type) constraint: another application won
        reason = _reason(Step.STATE_REGISTER, "legal_entity_exists", "edrpou")
        ApplicationCheck.objects.create(
            application=application,
            step=Step.STATE_REGISTER,
            outcome=Outcome.FAILED,
            details=[reason],
            created_by=actor,
        )
        _application_reject(application, reasons=[reason], actor=actor)
        return
    application.status = RegistrationApplication.Status.APPROVED
    application.legal_entity = legal_entity
    application.reasons = []
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["status", "legal_entity", "reasons", "decided_at", "decided_by"])
    _email(
        to=request.email,
        subject=_("%(name)s is registered: confirm your account"),
        name=legal_entity.name,
        template="invitation",
        context={
            "application": application,
            "legal_entity": legal_entity,
            "request": request,
            "position": dictionary_value_label(name="POSITION", key=request.position) or request.position,
            "invitation_url": _absolute_url(reverse("registry:invitation", args=[token])),
            "status_url": _status_url(application),
        },
        created_by=actor,
    )


def _legal_entity_register(application: RegistrationApplication) -> tuple[LegalEntity, EmployeeRequest, str]:
    """The facility, its first division, the head as a Party and the OWNER invitation (one transaction)."""
    data, creator = application.data, application.submitted_by
    provider = data["medical_service_provider"]
    legal_entity = LegalEntity(
        type=data["type"],
        edrpou=data["edrpou"],
        name=data["name"],
        short_name=data.get("short_name", ""),
        public_name=data.get("public_name", ""),
        legal_form=data["legal_form"],
        owner_property_type=data["owner_property_type"],
        kveds=data["kveds"],
        email=data["email"],
        phones=data["phones"],
        website=data.get("website", ""),
        addresses=data["addresses"],
        license=provider["licenses"][0],
        accreditation=provider.get("accreditation", {}),
        status=LegalEntity.Status.ACTIVE,
        is_active=True,
        nhs_verified=False,
        created_by=creator,
        updated_by=creator,
    )
    # The unique ACTIVE (edrpou, type) constraint is left to the database: see _application_approve.
    legal_entity.full_clean(validate_unique=False, validate_constraints=False)
    legal_entity.save()
    division = None
    if data.get("division"):
        block = data["division"]
        location = block.get("location") or {}
        division = Division.objects.create(
            legal_entity=legal_entity,
            name=block["name"],
            type=block["type"],
            addresses=block["addresses"],
            phones=block["phones"],
            email=block["email"],
            latitude=_decimal(location.get("latitude")),
            longitude=_decimal(location.get("longitude")),
        )
    owner = data["owner"]
    _party_get_or_create(person=owner)
    token = secrets.token_urlsafe(32)
    request = EmployeeRequest.objects.create(
        legal_entity=legal_entity,
        division=division,
        employee_type=OWNER,
        position=owner["position"],
        email=owner["email"],
        data=owner,
        token_hash=token_hash(token),
        expires_at=_employee_request_expiry(),
        created_by=creator,
    )
    return legal_entity, request, token


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def _employee_request_expiry() -> datetime.datetime:
    term = global_parameter_term(name="employee_request_expiration", unit_name="employee_request_term_unit")
    return term.after(timezone.now())


def _party_get_or_create(*, person: dict) -> Party:
    """The person by (tax_id, birth_date), created from an eHealth party block when new."""
    party, _created = Party.objects.get_or_create(
        tax_id=person["tax_id"],
        birth_date=datetime.date.fromisoformat(person["birth_date"]),
        defaults={
            "last_name": person["last_name"],
            "first_name": person["first_name"],
            "second_name": person.get("second_name", ""),
            "gender": person["gender"],
            "no_tax_id": person.get("no_tax_id", False),
            "documents": person.get("documents", []),
            "phones": person.get("phones", []),
        },
    )
    return party


def registration_application_decide(
    *, application: RegistrationApplication, approve: bool, actor, comment: str = ""
) -> RegistrationApplication:
    """An operator's decision on a WAITING_OPERATOR application (a ФОП the register could not pin down).

    Approve registers the facility as a passed check would; reject needs a comment, which the applicant
    gets as the reason. Both are recorded as an OPERATOR check with the operator.
    """
    comment = comment.strip()
    if not approve and not comment:
        raise ValidationError(
            {"comment": [ValidationError(_("Say why the application is rejected."), code="required")]}
        )
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        application = RegistrationApplication.objects.select_for_update().get(pk=application.pk)
        if application.status != RegistrationApplication.Status.WAITING_OPERATOR:
            raise ValidationError(
                _("Only an application waiting for an operator can be decided; this one is %(status)s.")
                % {"status": application.get_status_display()},
                code="application_not_waiting",
            )
        ApplicationCheck.objects.create(
            application=application,
            step=Step.OPERATOR,
            outcome=Outcome.PASSED if approve else Outcome.FAILED,
            details=[{"code": "operator_approved" if approve else "operator_rejected", "comment": comment}],
            created_by=actor,
        )
        if approve:
            _application_approve(application, actor=actor)
        else:
            reason = _reason(Step.OPERATOR, "operator_rejected", "", comment=comment)
            _application_reject(application, reasons=[reason], actor=actor)
    return application


def registration_application_recheck(
    *, application: RegistrationApplication, actor
) -> RegistrationApplication:
    """Run the checks again (e.g. after a register import): back to SUBMITTED, new check rows appended."""
    with transaction.atomic():
        application = RegistrationApplication.objects.select_for_update().get(pk=application.pk)
        if application.status == RegistrationApplication.Status.APPROVED:
            raise ValidationError(
                _("The facility of this application is already registered."), code="application_approved"
            )
        application.status = RegistrationApplication.Status.SUBMITTED
        application.reasons = []
        application.decided_at = None
        application.decided_by = None
        application.save(update_fields=["status", "reasons", "decided_at", "decided_by"])
        return registration_application_check(application_id=application.pk, actor=actor)


# --- Invitations and facilities -------------------------------------------------------------------

INVITATION_PROBLEMS = {
    "invalid": _("This invitation link is not valid. Check that you copied the whole link from the email."),
    "used": _("This invitation has already been used or withdrawn."),
    "expired": _("This invitation has expired. Ask the facility (or, for a head, support) for a new one."),
}


def employee_request_accept(*, token: str, password: str):
    """Accept an invitation: the account (email fixed by the request), the person, the employee.

    Single use and atomic: a bad, used or expired link or a weak password changes nothing (an expired
    request is marked EXPIRED). Returns the user, who may then sign in.
    """
    request, problem = employee_request_by_token(token=token)
    if problem == "expired" and request.status == EmployeeRequest.Status.NEW:
        EmployeeRequest.objects.filter(pk=request.pk, status=EmployeeRequest.Status.NEW).update(
            status=EmployeeRequest.Status.EXPIRED, decided_at=timezone.now()
        )
    if problem:
        raise ValidationError(INVITATION_PROBLEMS[problem], code=f"invitation_{problem}")
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        request = (
            EmployeeRequest.objects.select_for_update().select_related("legal_entity").get(pk=request.pk)
        )
        if request.status != EmployeeRequest.Status.NEW:  # accepted meanwhile
            raise ValidationError(INVITATION_PROBLEMS["used"], code="invitation_used")
        person = request.data
        user = User.objects.filter(email__iexact=request.email).first()
        try:
            validate_password(
                password,
                user=user
                or User(email=request.email, first_name=person["first_name"], last_name=person["last_name"]),
            )
        except ValidationError as error:
            raise ValidationError({"password": error.error_list}) from error
        if user is None:
            user = User.objects.create_user(
                email=request.email,
                password=password,
                first_name=person["first_name"],
                last_name=person["last_name"],
            )
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
        # The link came to this address: it is verified.
        EmailAddress.objects.filter(user=user).exclude(email__iexact=request.email).update(primary=False)
        EmailAddress.objects.update_or_create(
            user=user, email=request.email, defaults={"verified": True, "primary": True}
        )
        party = _party_get_or_create(person=person)
        if (
            party.user_id not in (None, user.pk)
            or Party.objects.filter(user=user).exclude(pk=party.pk).exists()
        ):
            raise ValidationError(
                _("This email address already belongs to another person's account."),
                code="email_other_person",
            )
        if party.user_id is None:
            party.user = user
            party.save(update_fields=["user"])
        today = timezone.localdate()
        if request.employee_type == OWNER:  # one head at a time
            Employee.objects.filter(
                legal_entity=request.legal_entity, employee_type=OWNER, is_active=True
            ).update(is_active=False, status=Employee.Status.DISMISSED, end_date=today)
        employee = Employee.objects.create(
            legal_entity=request.legal_entity,
            division=request.division,
            party=party,
            employee_type=request.employee_type,
            position=request.position,
            start_date=today,
            status=Employee.Status.APPROVED,
            is_active=True,
        )
        request.status = EmployeeRequest.Status.APPROVED
        request.employee = employee
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "employee", "decided_at"])
    return user


def employee_request_expire() -> int:
    """Mark NEW requests past their term EXPIRED (the periodic job); returns how many."""
    return EmployeeRequest.objects.filter(
        status=EmployeeRequest.Status.NEW, expires_at__lte=timezone.now()
    ).update(status=EmployeeRequest.Status.EXPIRED, decided_at=timezone.now())


def _legal_entity_lock_active(legal_entity: LegalEntity) -> LegalEntity:
    legal_entity = LegalEntity.objects.select_for_update().get(pk=legal_entity.pk)
    if legal_entity.status != LegalEntity.Status.ACTIVE or not legal_entity.is_active:
        raise ValidationError(
            _("The facility is not active and cannot be changed."), code="legal_entity_not_active"
        )
    return legal_entity


def legal_entity_nhs_verify(*, legal_entity: LegalEntity, actor) -> LegalEntity:
    """The NHS has checked the facility's documents: nhs_verified false → true (once)."""
    with transaction.atomic():
        legal_entity = _legal_entity_lock_active(legal_entity)
        if legal_entity.nhs_verified:
            raise ValidationError(_("The facility is already verified by the NHS."), code="already_verified")
        legal_entity.nhs_verified = True
        legal_entity.updated_by = actor
        legal_entity.save(update_fields=["nhs_verified", "updated_by", "updated_at"])
    return legal_entity


def legal_entity_deactivate(*, legal_entity: LegalEntity, actor) -> LegalEntity:
    """Close the facility: its staff are dismissed (and lose the cabinet), pending invitations rejected."""
    with transaction.atomic():
        legal_entity = _legal_entity_lock_active(legal_entity)
        today, now = timezone.localdate(), timezone.now()
        legal_entity.status = LegalEntity.Status.CLOSED
        legal_entity.is_active = False
        legal_entity.end_date = today
        legal_entity.updated_by = actor
        legal_entity.save(update_fields=["status", "is_active", "end_date", "updated_by", "updated_at"])
        legal_entity.employees.filter(is_active=True).update(
            is_active=False, status=Employee.Status.DISMISSED, end_date=today
        )
        legal_entity.employee_requests.filter(status=EmployeeRequest.Status.NEW).update(
            status=EmployeeRequest.Status.REJECTED, decided_at=now
        )
    return legal_entity
