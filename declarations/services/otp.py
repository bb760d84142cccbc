"""The patient's SMS code (eHealth's OTP service, ehealth-api.md §4.8) and the SMS outbox.

A code is 4 digits from `secrets`, valid `OTP_CODE_TTL_SECONDS`, with at most `OTP_MAX_ATTEMPTS` wrong tries
(then UNVERIFIED: refused even with the right code). A new code for the phone cancels the active one
(CANCELED); at most `OTP_SENDS_PER_HOUR` codes go to one phone within an hour. A code used after its time
makes the verification EXPIRED. A right code makes it VERIFIED and the phone a `VerifiedPhone`.

The code is stored only as HMAC-SHA256 keyed with SECRET_KEY over the verification's id and the code
(Django's `salted_hmac`), compared in constant time. Why not a password hasher: there are only 10,000
codes, so a slow hash of a database dump is brute-forced in seconds anyway; what protects a leaked table
is the key it does not contain. A keyed hash does that at no cost per check, and binding the id means a
hash copied onto another row matches nothing. SECRET_KEY_FALLBACKS are accepted, so a key rotation does
not void codes already sent.

SMS: `sms_queue` stores the message and queues `sms_send_task` after commit; `sms_send` delivers it
through `declarations.sms` (retried with backoff by the task, failed after `MAX_SMS_ATTEMPTS`, or when its
code is no longer valid); a beat sweep re-queues messages whose task was lost; another redacts the code
in the bodies of finished messages after `SMS_BODY_RETENTION_HOURS`. Logs carry message ids, never a body.
"""

import hashlib
import logging
import math
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ehealth_portal.redaction import REDACTED, stored_bodies_redact
from ehealth_portal.tasking import enqueue_on_commit
from ehealth_portal.validators import validate_phone

from ..models import SmsMessage, Verification, VerifiedPhone
from ..sms import sms_backend

logger = logging.getLogger(__name__)

CODE_DIGITS = 4
MAX_SMS_ATTEMPTS = 5
RATE_WINDOW = timedelta(hours=1)
_HMAC_SALT = "declarations.otp.code"
_CODE_IN_BODY = re.compile(rf"\d{{{CODE_DIGITS},}}")

__all__ = [
    "phone_is_verified",
    "sms_bodies_redact",
    "sms_body_redact",
    "sms_pending_ids",
    "sms_queue",
    "sms_send",
    "verification_complete",
    "verification_start",
]


# --- Codes -------------------------------------------------------------------------------------------


def _code_new() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _code_hash(verification_id, code: str, *, secret=None) -> str:
    return salted_hmac(_HMAC_SALT, f"{verification_id}:{code}", secret=secret, algorithm="sha256").hexdigest()


def _code_matches(verification: Verification, code: str) -> bool:
    """Constant time per key; every key is tried, so the answer's timing does not tell which matched."""
    matched = False
    for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        matched |= constant_time_compare(
            _code_hash(verification.pk, code, secret=secret), verification.code_hash
        )
    return matched


def _sms_text(code: str) -> str:
    # Always Ukrainian (the patient's phone), whatever language the doctor's page is in.
    with translation.override(settings.LANGUAGE_CODE):
        return _("eHealth action authorisation code: %(code)s") % {"code": code}


def _phone_lock(phone_number: str) -> None:
    """Serialise, until the transaction ends, the codes of one phone (PostgreSQL advisory lock), so two
    parallel starts neither both stay active nor both slip under the hourly limit.

    SQLite needs none: it runs one write transaction at a time.
    """
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"declarations.otp:{phone_number}".encode()).digest()[:8], "big")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key - 2**63])


def _refusal(field: str, message: str, code: str, **params) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code, params=params or None)]})


# --- Verifications -----------------------------------------------------------------------------------


def verification_start(*, phone_number: str, declaration_request=None) -> Verification:
    """Send a new code to `phone_number`: the phone's active code is CANCELED, the SMS queued after commit.

    Refused (ValidationError at "phone_number") for a malformed number ("phone_format") and for the
    `OTP_SENDS_PER_HOUR`+1st code within an hour ("too_many_codes", with `retry_after` seconds in params).
    """
    try:
        validate_phone(phone_number)
    except ValidationError as error:
        raise ValidationError({"phone_number": error.error_list}) from None
    with transaction.atomic():
        _phone_lock(phone_number)
        now = timezone.now()
        window = list(
            Verification.objects.filter(phone_number=phone_number, created_at__gt=now - RATE_WINDOW)
            .order_by("created_at")
            .values_list("created_at", flat=True)[: settings.OTP_SENDS_PER_HOUR]
        )
        if len(window) >= settings.OTP_SENDS_PER_HOUR:
            retry_after = max(1, math.ceil((window[0] + RATE_WINDOW - now).total_seconds()))
            minutes = math.ceil(retry_after / 60)
            message = ngettext(
                "Too many codes were sent to this phone within an hour. Try again in %(minutes)d minute.",
                "Too many codes were sent to this phone within an hour. Try again in %(minutes)d minutes.",
                minutes,
            )
            raise _refusal(
                "phone_number", message, "too_many_codes", minutes=minutes, retry_after=retry_after
            )
        Verification.objects.filter(phone_number=phone_number, status=Verification.Status.NEW).update(
            status=Verification.Status.CANCELED
        )
        code = _code_new()
        verification = Verification(
            phone_number=phone_number,
            code_expired_at=now + timedelta(seconds=settings.OTP_CODE_TTL_SECONDS),
            declaration_request=declaration_request,
        )
        verification.code_hash = _code_hash(verification.pk, code)
        verification.save()
        sms = sms_queue(phone_number=phone_number, body=_sms_text(code))
        logger.info("Verification %s started, its code goes in SMS %s", verification.pk, sms.pk)
    return verification


def verification_complete(*, phone_number: str, code: str) -> Verification:
    """Check `code` against the phone's active code: VERIFIED (and the phone verified) or refused.

    Refusals, ValidationError at "code": "code_invalid" (a wrong try counted), "attempts_exceeded" (the
    try that used the last attempt, and every try after it, right code or not), "code_expired" (the code
    outlived OTP_CODE_TTL_SECONDS: the verification becomes EXPIRED), "no_active_code" (none was sent, or
    it was used or replaced).

    What a refusal records (a wrong try, the expiry) is committed before the error is raised. A caller
    must therefore not run this inside its own transaction that the refusal rolls back: that would undo
    the count of wrong tries and allow guessing without limit.
    """
    error = None
    with transaction.atomic():
        verification = (
            Verification.objects.select_for_update()
            .filter(phone_number=phone_number, status=Verification.Status.NEW)
            .order_by("-created_at")
            .first()
        )
        if verification is None:
            error = _inactive_refusal(phone_number)
        elif timezone.now() >= verification.code_expired_at:
            verification.status = Verification.Status.EXPIRED
            verification.save(update_fields=["status"])
            error = _refusal("code", _("The code has expired. Request a new one."), "code_expired")
        elif not (isinstance(code, str) and _code_matches(verification, code)):
            verification.attempts += 1
            if verification.attempts >= settings.OTP_MAX_ATTEMPTS:
                verification.status = Verification.Status.UNVERIFIED
                error = _attempts_exceeded()
            else:
                error = _refusal("code", _("Invalid verification code."), "code_invalid")
            verification.save(update_fields=["attempts", "status"])
        else:
            now = timezone.now()
            verification.status = Verification.Status.VERIFIED
            verification.verified_at = now
            verification.save(update_fields=["status", "verified_at"])
            VerifiedPhone.objects.update_or_create(phone_number=phone_number, defaults={"verified_at": now})
    if error is not None:
        logger.info("A code for verification %s was refused", getattr(verification, "pk", None))
        raise error
    logger.info("Verification %s completed", verification.pk)
    return verification


def _attempts_exceeded() -> ValidationError:
    return _refusal(
        "code",
        _("Maximum attempts exceeded: the code is no longer valid. Request a new one."),
        "attempts_exceeded",
    )


def _inactive_refusal(phone_number: str) -> ValidationError:
    """Why the phone has no active code, from its latest one."""
    latest = Verification.objects.filter(phone_number=phone_number).order_by("-created_at").first()
    status = latest.status if latest else None
    if status == Verification.Status.UNVERIFIED:
        return _attempts_exceeded()
    if status == Verification.Status.EXPIRED:
        return _refusal("code", _("The code has expired. Request a new one."), "code_expired")
    return _refusal(
        "code",
        _("No code is waiting for this phone (none was sent, or it was used). Request a new one."),
        "no_active_code",
    )


def phone_is_verified(phone_number: str) -> bool:
    """Whether the phone's owner ever confirmed it with a code (eHealth's `verified_phones`)."""
    return VerifiedPhone.objects.filter(phone_number=phone_number).exists()


# --- SMS -----------------------------------------------------------------------------------------------


def sms_queue(*, phone_number: str, body: str) -> SmsMessage:
    """Store a message and send it by a task once the surrounding transaction commits."""
    from ..tasks.sms import sms_send_task  # tasks import services; the cycle is broken here only

    sms = SmsMessage.objects.create(phone_number=phone_number, body=body)
    enqueue_on_commit(sms_send_task, sms.pk)
    return sms


def sms_send(*, sms_id: int) -> SmsMessage:
    """Deliver one pending message. Idempotent: a sent or failed message is left as it is.

    A delivery error is recorded (attempts, last error) and then raised, so the task can retry; the
    message fails after MAX_SMS_ATTEMPTS. A message older than a code's validity is failed unsent: the
    code in it could no longer be used.
    """
    with transaction.atomic():
        sms = SmsMessage.objects.select_for_update().get(pk=sms_id)
        if sms.status != SmsMessage.Status.PENDING:
            return sms
        failure = None
        if timezone.now() - sms.created_at > timedelta(seconds=settings.OTP_CODE_TTL_SECONDS):
            sms.status = SmsMessage.Status.FAILED
            sms.last_error = "not sent while its code was valid"
        else:
            sms.attempts += 1
            try:
                sms_backend().send(sms)
            except OSError as error:
                failure = error
                sms.last_error = str(error)[:2000]
                if sms.attempts >= MAX_SMS_ATTEMPTS:
                    sms.status = SmsMessage.Status.FAILED
            else:
                sms.status = SmsMessage.Status.SENT
                sms.sent_at = timezone.now()
                sms.last_error = ""
        sms.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    if failure:
        logger.warning("SMS %s not delivered (attempt %s): %s", sms.pk, sms.attempts, sms.last_error)
        raise failure
    return sms


def sms_pending_ids(*, older_than: timedelta = timedelta(minutes=5)) -> list[int]:
    """Messages whose task was lost (a worker died, the broker was down) and should be sent again."""
    cutoff = timezone.now() - older_than
    return list(
        SmsMessage.objects.filter(status=SmsMessage.Status.PENDING, created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def sms_body_redact(body: str) -> str:
    """`body` with its code (any run of CODE_DIGITS or more digits) replaced by `[redacted]`."""
    return _CODE_IN_BODY.sub(REDACTED, body)


def sms_bodies_redact(*, batch_size: int = 500) -> int:
    """Remove the codes from the bodies of sent and failed messages past SMS_BODY_RETENTION_HOURS.

    Phone, status and times stay for the audit; pending messages are never touched (they must go out with
    their code). Idempotent: a redacted message is marked and not selected again. Returns how many.
    """
    cutoff = timezone.now() - timedelta(hours=settings.SMS_BODY_RETENTION_HOURS)
    due = SmsMessage.objects.filter(
        status__in=[SmsMessage.Status.SENT, SmsMessage.Status.FAILED],
        created_at__lt=cutoff,
        body_redacted_at__isnull=True,
    ).order_by("pk")
    return stored_bodies_redact(due, fields=("body",), redact=sms_body_redact, batch_size=batch_size)
