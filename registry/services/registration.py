"""Writes of facility registration: applications, their checks, approval, operators' decisions."""

import base64
import datetime
import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ehealth_portal.json_depth import json_too_deep
from ehealth_portal.services import email_queue
from ehealth_portal.signatures import ERROR_MESSAGES as SIGNATURE_ERROR_MESSAGES
from ehealth_portal.tasking import enqueue_on_commit

from ..edr import name_key, person_names_match, state_register
from ..models import (
    ApplicationCheck,
    Division,
    EmployeeRequest,
    LegalEntity,
    RegistrationApplication,
)
from ..payloads import (
    SOLE_PROPRIETOR_LEGAL_FORM,
    legal_entity_payload_canonical,
    legal_entity_payload_validate,
    payload_full_name,
)
from ..selectors import (
    OWNER,
    dictionary_choices,
    dictionary_has_key,
    dictionary_value_label,
    token_hash,
)
from .people import party_get_or_create
from .reference_data import KVEDS, KVEDS_ALLOWED_MSP
from .signing import signed_document_verify
from .staff import employee_request_expiry

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
    submission_key: str = "",
) -> tuple[RegistrationApplication, str]:
    """Store a signed application and return it with its status-page token (shown once).

    Nothing is stored, and nobody is mailed, unless the signature is valid, over exactly the document,
    and made by the head (ValidationError otherwise, at the failing path): a refusal by signer identity
    never reaches the address the payload names. Web: `data` is the reviewed payload, whose canonical
    JSON the head had to sign; its remaining checks run in a task after commit. API: `data` is None, the
    payload is the signature's content, and the checks run here, in the same transaction.

    Submissions of one code are serialised (`_registration_lock`), and a code that already has an
    ACTIVE facility is refused ("legal_entity_exists") before anything is stored, so a burst of
    duplicates stores one application. `submission_key` (the wizard run) makes a double submit return
    the application already stored.
    """
    if len(signed_envelope) > settings.SIGNATURE_MAX_BYTES:
        raise _validation_error(ENVELOPE_FIELD, "too_large", SIGNATURE_ERROR_MESSAGES["too_large"])
    if channel == RegistrationApplication.Channel.API:
        if data is not None:
            raise ValueError("API applications carry their data in the signature")
        document = _signature_verify(signed_envelope, None)
        if json_too_deep(document.content):  # the json module would recurse once per level
            raise _validation_error(ENVELOPE_FIELD, "content_not_json")
        try:
            payload = json.loads(document.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            raise _validation_error(ENVELOPE_FIELD, "content_not_json") from error
        data = legal_entity_payload_validate(payload)
    elif channel == RegistrationApplication.Channel.WEB:
        data = legal_entity_payload_validate(data)
        document = _signature_verify(signed_envelope, legal_entity_payload_canonical(data))
    else:
        raise ValueError(f"unknown channel {channel!r}")
    if reasons := _signer_reasons(document.signer, data):
        raise reasons_validation_error(reasons)

    with transaction.atomic():
        _registration_lock(edrpou=data["edrpou"])
        if submission_key and (
            stored := RegistrationApplication.objects.filter(submission_key=submission_key).first()
        ):
            return stored, registration_status_token(application=stored)
        if _active_legal_entity_exists(edrpou=data["edrpou"], type=data["type"]):
            raise _validation_error("edrpou", "legal_entity_exists")
        application = RegistrationApplication(
            channel=channel,
            submission_key=submission_key or None,
            edrpou=data["edrpou"],
            name=data["name"],
            email=data["owner"]["email"],
            data=data,
            signed_envelope=signed_envelope,
            signed_content=document.content,
            signer=document.signer.as_dict(),
            submitted_by=submitted_by,
        )
        token = registration_status_token(application=application)
        application.status_token_hash = token_hash(token)
        application.save()
        ApplicationCheck.objects.create(
            application=application,
            step=Step.SIGNATURE,
            outcome=Outcome.PASSED,
            details=[{"code": "signature_valid", "signer": application.signer}],
            created_by=submitted_by,
        )
        if channel == RegistrationApplication.Channel.API:  # checked here, under the same locks
            with translation.override(settings.LANGUAGE_CODE):
                _application_check(application, actor=None, signature_passed=True, code_checked=True)
            return application, token
        _email(
            to=application.email,
            subject=_("Your application to register %(name)s has been received"),
            name=application.name,
            template="application_submitted",
            context={"application": application, "status_url": _status_url(application)},
        )
        from ..tasks import registration_application_check_task  # tasks import services

        enqueue_on_commit(registration_application_check_task, str(application.pk))
    return application, token


def _registration_lock(*, edrpou: str) -> None:
    """Serialise, until the transaction ends, the registrations of one code (PostgreSQL advisory lock).

    SQLite needs none: it runs one write transaction at a time.
    """
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"registry.legal_entity:{edrpou}".encode()).digest()[:8], "big")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key - 2**63])


def registration_applications_resume(
    *, older_than: datetime.timedelta = datetime.timedelta(minutes=5)
) -> int:
    """Queue again the checks of web applications still SUBMITTED after `older_than` (a lost message).

    The beat sweep of `registration_application_check_task`: together with `enqueue_on_commit` it makes
    a broker outage at submission delay the checks instead of losing them. Returns how many.
    """
    from ..tasks import registration_application_check_task  # tasks import services

    stale = RegistrationApplication.objects.filter(
        status=RegistrationApplication.Status.SUBMITTED,
        channel=RegistrationApplication.Channel.WEB,
        submitted_at__lt=timezone.now() - older_than,
    ).values_list("pk", flat=True)[:500]
    ids = [str(pk) for pk in stale]
    for application_id in ids:
        registration_application_check_task.delay(application_id)
    return len(ids)


def registration_application_check(*, application_id, actor=None) -> RegistrationApplication:
    """Run the checks of a SUBMITTED application in order; anything else is returned unchanged.

    Each step records an ApplicationCheck; the first failure rejects (reasons + email), a ФОП the
    register cannot identify waits for an operator, success registers the facility. The signature
    step is skipped when it is the application's last check (passed at submission); a re-check runs it
    again (certificates may have been revoked since).
    """
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        application = RegistrationApplication.objects.select_for_update().get(pk=application_id)
        if application.status != RegistrationApplication.Status.SUBMITTED:
            return application
        _registration_lock(edrpou=application.edrpou)
        last = application.checks.order_by("-created_at", "-pk").first()
        signature_passed = last is not None and last.step == Step.SIGNATURE and last.outcome == Outcome.PASSED
        _application_check(application, actor=actor, signature_passed=signature_passed)
    return application


def _application_check(
    application: RegistrationApplication, *, actor, signature_passed: bool, code_checked: bool = False
) -> None:
    """The checks of a SUBMITTED application whose row and code the caller has locked.

    `code_checked`: the caller found no ACTIVE facility with the code under the same lock (submission).
    """
    steps = [
        (Step.SIGNATURE, _signature_check),
        (Step.KVEDS, _kveds_check),
        (Step.STATE_REGISTER, functools.partial(_state_register_check, code_checked=code_checked)),
    ]
    for step, check in steps[1:] if signature_passed else steps:
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
            return
        if result.outcome == Outcome.WAITING:
            _application_wait(application)
            return
    _application_approve(application, actor=actor)


def _signature_verify(envelope: bytes, expected: bytes | None):
    """The verified document of an envelope (signing.signed_document_verify at the envelope's path)."""
    return signed_document_verify(
        envelope=envelope,
        expected=expected,
        field=ENVELOPE_FIELD,
        differs_message=REASON_MESSAGES["signed_content_differs"],
    )


def reasons_validation_error(reasons: list[dict]) -> ValidationError:
    """Stored refusal reasons as a ValidationError keyed by their payload paths (API: `invalid[]`)."""
    errors: dict[str, list] = {}
    for reason in reasons:
        errors.setdefault(reason["field"] or NON_FIELD_ERRORS, []).append(
            ValidationError(reason["message"], code=reason["code"])
        )
    return ValidationError(errors)


def _signature_check(application: RegistrationApplication) -> _StepResult:
    """A re-check: valid signature over exactly the stored document, made by the head (ФОП: proprietor)."""
    try:
        document = _signature_verify(bytes(application.signed_envelope), bytes(application.signed_content))
    except ValidationError as error:
        item = error.error_dict[ENVELOPE_FIELD][0]
        return _failed(_reason(Step.SIGNATURE, item.code, ENVELOPE_FIELD, item.messages[0]))
    application.signer = document.signer.as_dict()
    application.save(update_fields=["signer"])
    if reasons := _signer_reasons(document.signer, application.data):
        return _failed(*reasons)
    return _StepResult(Outcome.PASSED, [{"code": "signature_valid", "signer": application.signer}])


def _signer_reasons(signer, data: dict) -> list[dict]:
    """Why the signer is not the head named in `data` (RNOKPP, organisation, names); empty if they are."""
    owner, edrpou = data["owner"], data["edrpou"]
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
    return reasons


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


def _state_register_check(application: RegistrationApplication, *, code_checked: bool = False) -> _StepResult:
    data = application.data
    edrpou, head = data["edrpou"], payload_full_name(data["owner"])
    if not code_checked and _active_legal_entity_exists(edrpou=edrpou, type=data["type"]):
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
    data, creator_id = application.data, application.submitted_by_id
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
        created_by_id=creator_id,
        updated_by_id=creator_id,
    )
    # The unique ACTIVE (edrpou, type) constraint is left to the database: see _application_approve.
    # (The creator's row needs no check: it is the submitting user's.)
    legal_entity.full_clean(
        exclude=["created_by", "updated_by"], validate_unique=False, validate_constraints=False
    )
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
    party = {name: value for name, value in owner.items() if name != "position"}
    party_get_or_create(person=party)
    token = secrets.token_urlsafe(32)
    request = EmployeeRequest.objects.create(
        legal_entity=legal_entity,
        division=division,
        employee_type=OWNER,
        position=owner["position"],
        email=owner["email"],
        # eHealth's owner request (ehealth-api.md §2.4 step 5): the owner block is its party.
        data={
            "legal_entity_id": str(legal_entity.pk),
            "employee_type": OWNER,
            "position": owner["position"],
            "start_date": timezone.localdate().isoformat(),
            "status": "NEW",
            "party": party,
        },
        token_hash=token_hash(token),
        expires_at=employee_request_expiry(),
        created_by_id=creator_id,
    )
    return legal_entity, request, token


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


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
