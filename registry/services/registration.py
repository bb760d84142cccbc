"""Writes of facility registration: applications, their checks, approval, operators' decisions.

An application for a code whose facility is ACTIVE is a change of that facility's data, allowed to its
head only (eHealth's upsert, ehealth-api.md §2.4): the same checks, then the facility is updated.
"""

import base64
import datetime
import functools
import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from ehealth_portal.history import acting_as
from ehealth_portal.json_depth import json_too_deep
from ehealth_portal.services import email_queue
from ehealth_portal.signatures import ERROR_MESSAGES as SIGNATURE_ERROR_MESSAGES
from ehealth_portal.tasking import enqueue_on_commit

from ..models import ApplicationCheck, RegistrationApplication
from ..payloads import legal_entity_payload_canonical, legal_entity_payload_validate
from ..selectors import dictionary_value_label, token_hash
from .registration_checks import ENVELOPE_FIELD as ENVELOPE_FIELD  # the package exports these from here
from .registration_checks import REASON_MESSAGES as REASON_MESSAGES
from .registration_checks import (
    Outcome,
    Step,
    check_reason,
    kveds_check,
    reason_error,
    signature_check,
    signature_verify,
    signer_reasons,
    state_register_check,
)
from .registration_checks import reasons_validation_error as reasons_validation_error
from .registration_facility import (
    FacilityChange,
    change_signatory,
    facility_change_find,
    facility_change_of,
    facility_change_reason,
    legal_entity_locked,
    legal_entity_register,
    legal_entity_update,
)
from .registration_facility import registration_application_is_change as registration_application_is_change

STATUS_TOKEN_SALT = "registry.registration-application-status"

# --- Facility registration ------------------------------------------------------------------------
#
# registration_application_submit → (web) registration_application_check_task → registration_application_check:
# SIGNATURE → KVEDS → STATE_REGISTER, one ApplicationCheck per step, stopping at the first failure.
# Success creates the facility, its first division and the OWNER EmployeeRequest in one transaction and
# emails the invitation (the head's Party is made when they accept, as in eHealth); failure rejects with
# reasons; a ФОП the register cannot pin down waits for an operator (registration_application_decide).
#
# A change (the code has an ACTIVE facility; the application's `legal_entity` is set at submission):
# only the facility's current head may sign it; success updates the facility (its previous version is
# kept by its history) and, when the document names another head, invites them (a handover).


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


# Subjects of the applicant's emails: (a registration, a change of a registered facility's data).
SUBJECTS = {
    "application_submitted": (
        _("Your application to register %(name)s has been received"),
        _("Your application to change the data of %(name)s has been received"),
    ),
    "application_rejected": (
        _("Your application to register %(name)s has been rejected"),
        _("Your application to change the data of %(name)s has been rejected"),
    ),
    "application_waiting": (
        _("Your application to register %(name)s waits for an operator"),
        _("Your application to change the data of %(name)s waits for an operator"),
    ),
}


def _application_email(application: RegistrationApplication, template: str, *, created_by=None, **context):
    """One of the applicant's emails (received, rejected, waiting), worded for a registration or a change."""
    is_change = application.legal_entity_id is not None  # before approval: set for a change only
    _email(
        to=application.email,
        subject=SUBJECTS[template][is_change],
        name=application.name,
        template=template,
        context={
            "application": application,
            "is_change": is_change,
            "status_url": _status_url(application),
            **context,
        },
        created_by=created_by,
    )


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

    Submissions of one code are serialised (`_registration_lock`). A code that already has an ACTIVE
    facility makes the application a change of it, which only its current head may sign: anyone else is
    refused ("legal_entity_exists", 409 in the API) before anything is stored, so a burst of duplicate
    registrations stores one application; a code whose facility is CLOSED is refused
    ("legal_entity_closed"). `submission_key` (the wizard run) makes a double submit return the
    application already stored. An API application approved here carries the head's new invitation,
    if one was made, as `application.owner_request` (on the returned instance only).
    """
    if len(signed_envelope) > settings.SIGNATURE_MAX_BYTES:
        raise reason_error(ENVELOPE_FIELD, "too_large", SIGNATURE_ERROR_MESSAGES["too_large"])
    if channel == RegistrationApplication.Channel.API:
        if data is not None:
            raise ValueError("API applications carry their data in the signature")
        document = signature_verify(signed_envelope, None)
        if json_too_deep(document.content):  # the json module would recurse once per level
            raise reason_error(ENVELOPE_FIELD, "content_not_json")
        try:
            payload = json.loads(document.content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            raise reason_error(ENVELOPE_FIELD, "content_not_json") from error
        data = legal_entity_payload_validate(payload)
    elif channel == RegistrationApplication.Channel.WEB:
        data = legal_entity_payload_validate(data)
        document = signature_verify(signed_envelope, legal_entity_payload_canonical(data))
    else:
        raise ValueError(f"unknown channel {channel!r}")

    with transaction.atomic():
        _registration_lock(edrpou=data["edrpou"])
        if submission_key and (
            stored := RegistrationApplication.objects.filter(submission_key=submission_key).first()
        ):
            return stored, registration_status_token(application=stored)
        change = facility_change_find(edrpou=data["edrpou"], type=data["type"])
        if change is not None and (code := facility_change_reason(change, document.signer.drfo)):
            raise reason_error("edrpou", code)
        if reasons := signer_reasons(document.signer, data, change_signatory(data, change)):
            raise reasons_validation_error(reasons)
        head_user = change.head.party.user if change and change.head else None
        application = RegistrationApplication(
            channel=channel,
            submission_key=submission_key or None,
            edrpou=data["edrpou"],
            name=data["name"],
            # The applicant: the head who signs (a change is reported to the current head's login).
            email=head_user.email if head_user else data["owner"]["email"],
            legal_entity=change.legal_entity if change else None,
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
                _application_check(
                    application, actor=None, signature_passed=True, code_checked=True, change=change
                )
            return application, token
        _application_email(application, "application_submitted")
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
    register cannot identify waits for an operator, success registers the facility (or, for a change,
    updates it). The signature step is skipped when it is the application's last check (passed at
    submission); a re-check runs it again (certificates may have been revoked since).
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
    application: RegistrationApplication,
    *,
    actor,
    signature_passed: bool,
    code_checked: bool = False,
    change: FacilityChange | None = None,
) -> None:
    """The checks of a SUBMITTED application whose row and code the caller has locked.

    `code_checked`: the caller looked the code up under the same lock (submission) and found `change`,
    the facility the application changes and its head (None: a registration).
    """
    if not code_checked:
        change = facility_change_of(legal_entity_locked(application.legal_entity_id))
    steps = [
        (Step.SIGNATURE, functools.partial(signature_check, change=change)),
        (Step.KVEDS, kveds_check),
        (
            Step.STATE_REGISTER,
            functools.partial(state_register_check, code_checked=code_checked, change=change),
        ),
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
    _application_approve(application, actor=actor, change=change)


def _application_reject(application: RegistrationApplication, *, reasons: list[dict], actor=None) -> None:
    application.status = RegistrationApplication.Status.REJECTED
    application.reasons = reasons
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["status", "reasons", "decided_at", "decided_by"])
    _application_email(application, "application_rejected", created_by=actor, reasons=reasons)


def _application_wait(application: RegistrationApplication) -> None:
    application.status = RegistrationApplication.Status.WAITING_OPERATOR
    application.save(update_fields=["status"])
    _application_email(application, "application_waiting")


def _application_approve(
    application: RegistrationApplication, *, actor=None, change: FacilityChange | None = None
):
    """Register the facility, or update the one the application changes.

    A facility registered meanwhile for the same code rejects a registration instead; a change is
    refused when its facility was closed, or its head changed, since the checks (an operator's decision).
    The history records the operator who decided, else the head who submitted.
    """
    with acting_as(actor or application.submitted_by):
        _application_approve_as_actor(application, actor=actor, change=change)


def _application_approve_as_actor(
    application: RegistrationApplication, *, actor=None, change: FacilityChange | None = None
):
    if application.legal_entity_id is not None:
        change = change or facility_change_of(legal_entity_locked(application.legal_entity_id))
        if code := facility_change_reason(change, application.signer.get("drfo")):
            _application_reject_late(application, code, actor=actor)
            return
        legal_entity, request, token = legal_entity_update(application, change)
    else:
        try:
            with transaction.atomic():
                legal_entity, request, token = legal_entity_register(application)
        except IntegrityError:  # the unique ACTIVE (edrpou, type) constraint: another application won
            _application_reject_late(application, "legal_entity_exists", actor=actor)
            return
    application.status = RegistrationApplication.Status.APPROVED
    application.legal_entity = legal_entity
    application.reasons = []
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["status", "legal_entity", "reasons", "decided_at", "decided_by"])
    application.owner_request = request  # for the API's answer (urgent.employee_request_id)
    status_url = _status_url(application)
    if change is not None:
        _email(
            to=application.email,
            subject=_("The data of %(name)s has been changed"),
            name=legal_entity.name,
            template="application_changed",
            context={
                "application": application,
                "legal_entity": legal_entity,
                "request": request,
                "status_url": status_url,
                "cabinet_url": _absolute_url(reverse("registry:cabinet")),
            },
            created_by=actor,
        )
    if request is None:
        return
    _email(
        to=request.email,
        subject=_("%(name)s: you are named its new head")
        if change is not None
        else _("%(name)s is registered: confirm your account"),
        name=legal_entity.name,
        template="application_head_invitation" if change is not None else "invitation",
        context={
            "application": application,
            "legal_entity": legal_entity,
            "request": request,
            "head": change.head.party if change is not None else None,
            "position": dictionary_value_label(name="POSITION", key=request.position) or request.position,
            "invitation_url": _absolute_url(reverse("registry:invitation", args=[token])),
            "status_url": status_url,
        },
        created_by=actor,
    )


def _application_reject_late(application: RegistrationApplication, code: str, *, actor) -> None:
    """Reject at approval for what changed after the checks: recorded as a failed state-register step."""
    reason = check_reason(Step.STATE_REGISTER, code, "edrpou")
    ApplicationCheck.objects.create(
        application=application,
        step=Step.STATE_REGISTER,
        outcome=Outcome.FAILED,
        details=[reason],
        created_by=actor,
    )
    _application_reject(application, reasons=[reason], actor=actor)


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
            reason = check_reason(Step.OPERATOR, "operator_rejected", "", comment=comment)
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
