"""Declarations: patients (eHealth's MPI persons), their phone verifications and SMS, declaration
requests with their scans, and declarations with primary-care doctors (ehealth-api.md §4).

The app uses `registry` (facilities, divisions, employees) and nothing uses it: registry events that end
declarations (a dismissal, a facility closed) reach it through `registry.signals`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ehealth_portal import encryption
from ehealth_portal.history import recorded_history
from registry.models import Division, Employee, LegalEntity


class Person(models.Model):
    """A patient (eHealth's MPI person): identity, documents, addresses, contacts and how they confirm.

    Found only by an exact search (names and birth date with an RNOKPP, a document number or a phone);
    the register is never browsed.
    """

    class AuthenticationMethod(models.TextChoices):
        OTP = "OTP", _("SMS code")
        OFFLINE = "OFFLINE", _("documents")
        NA = "NA", _("not set")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    last_name = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    second_name = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"))
    birth_country = models.CharField(_("country of birth"), max_length=100)
    birth_settlement = models.CharField(_("place of birth"), max_length=100)
    gender = models.CharField(_("gender"), max_length=10)
    tax_id = models.CharField(_("RNOKPP"), max_length=10, blank=True)
    no_tax_id = models.BooleanField(_("refused an RNOKPP"), default=False)
    unzr = models.CharField(_("UNZR"), max_length=14, blank=True)
    email = models.EmailField(_("email"), blank=True)
    preferred_way_communication = models.CharField(_("preferred way of contact"), max_length=10, blank=True)
    documents = models.JSONField(_("identity documents"), default=list)
    addresses = models.JSONField(_("addresses"), default=list)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    emergency_contact = models.JSONField(_("emergency contact"), default=dict)
    confidant_person = models.JSONField(_("confidant persons"), default=list, blank=True)
    authentication_method = models.CharField(
        _("how the patient confirms"),
        max_length=10,
        choices=AuthenticationMethod.choices,
        default=AuthenticationMethod.NA,
    )
    authentication_phone = models.CharField(_("phone for SMS codes"), max_length=13, blank=True)
    # A Fernet token (ehealth_portal.encryption): the secret word is shown only to the patient's doctor.
    secret_encrypted = models.TextField(_("encrypted secret word"), editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    history = recorded_history(_("patient version"), _("patient versions"), excluded=["secret_encrypted"])

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            # The exact search: names (any letter case, as `iexact` compares) and birth date, then one of
            # RNOKPP, document or phone among the few found.
            models.Index(Upper("last_name"), Upper("first_name"), "birth_date", name="person_search_idx"),
            models.Index(fields=["tax_id"], name="person_tax_id_idx", condition=~Q(tax_id="")),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(filter(None, [self.last_name, self.first_name, self.second_name]))

    @property
    def secret(self) -> str:
        return encryption.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encryption.encrypt(value)


class VerifiedPhone(models.Model):
    """A phone whose owner proved it with an SMS code (eHealth's `verified_phones`)."""

    phone_number = models.CharField(_("phone"), max_length=13, unique=True)
    verified_at = models.DateTimeField(_("verified"))

    class Meta:
        verbose_name = _("verified phone")
        verbose_name_plural = _("verified phones")

    def __str__(self):
        return self.phone_number


class Verification(models.Model):
    """One SMS code sent to a phone (eHealth's OTP service, §4.8): 4 digits, stored hashed, valid
    `OTP_CODE_TTL`, at most `OTP_MAX_ATTEMPTS` wrong tries. A new code for the phone cancels this one."""

    class Status(models.TextChoices):
        NEW = "NEW", _("sent")
        VERIFIED = "VERIFIED", _("confirmed")
        UNVERIFIED = "UNVERIFIED", _("too many wrong codes")
        CANCELED = "CANCELED", _("replaced by a new code")
        EXPIRED = "EXPIRED", _("expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone_number = models.CharField(_("phone"), max_length=13, db_index=True)
    code_hash = models.CharField(max_length=128, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    code_expired_at = models.DateTimeField(_("code expires"))
    created_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    declaration_request = models.ForeignKey(
        "DeclarationRequest",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="verifications",
        verbose_name=_("declaration request"),
    )

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")

    def __str__(self):
        return f"{self.phone_number} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.NEW


class SmsMessage(models.Model):
    """An SMS in the outbox: sent by the configured backend (`SMS_BACKEND`) from a Celery task, retried."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("waiting")
        SENT = "SENT", _("sent")
        FAILED = "FAILED", _("failed")

    phone_number = models.CharField(_("phone"), max_length=13)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    body_redacted_at = models.DateTimeField(_("code redacted"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.phone_number}: {self.get_status_display()}"


class DeclarationRequest(models.Model):
    """A request for a declaration (§4.3–4.6): NEW → APPROVED (the patient confirmed) → SIGNED (the
    doctor signed; the declaration exists), or REJECTED, CANCELLED (a newer request), EXPIRED."""

    class Status(models.TextChoices):
        NEW = "NEW", _("waiting for the patient")
        APPROVED = "APPROVED", _("confirmed by the patient")
        SIGNED = "SIGNED", _("signed")
        REJECTED = "REJECTED", _("rejected")
        CANCELLED = "CANCELLED", _("replaced by a newer request")
        EXPIRED = "EXPIRED", _("expired")

    class Channel(models.TextChoices):
        CABINET = "CABINET", _("facility cabinet")
        MIS = "MIS", _("medical information system")

    PENDING = (Status.NEW, Status.APPROVED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    legal_entity = models.ForeignKey(
        LegalEntity,
        on_delete=models.PROTECT,
        related_name="declaration_requests",
        verbose_name=_("medical facility"),
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="declaration_requests", verbose_name=_("doctor")
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="declaration_requests", verbose_name=_("division")
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="declaration_requests",
        verbose_name=_("patient"),
        help_text=_("The registered patient; a new one is registered when the doctor signs."),
    )
    # Who the request is for, to find the same patient's other requests before the patient is
    # registered: "tax_id:<RNOKPP>" or "name:<surname>|<first name>|<birth date>" (eHealth's rule).
    person_key = models.CharField(max_length=300, editable=False)
    data = models.JSONField(_("request"), help_text=_("eHealth's declaration request with its snapshots."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.CABINET)
    authentication_method_current = models.JSONField(_("how the patient confirms"), default=dict)
    documents = models.JSONField(
        _("documents to upload"), default=list, blank=True, help_text=_("Scan types the patient must bring.")
    )
    printout_content = models.TextField(_("declaration form"), blank=True)
    declaration_id = models.UUIDField(_("declaration identifier"), default=uuid.uuid4, unique=True)
    declaration_number = models.CharField(_("declaration number"), max_length=14, unique=True)
    seed = models.CharField(
        _("nonce"), max_length=64, help_text=_("The server's nonce, part of the signed data.")
    )
    overlimit = models.BooleanField(_("over the doctor's limit"), default=False)
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    signed_envelope = models.BinaryField(_("signature (evidence)"), null=True, blank=True)
    signed_content = models.BinaryField(_("signed document"), null=True, blank=True)
    signer = models.JSONField(_("signer"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )
    history = recorded_history(
        _("declaration request version"),
        _("declaration request versions"),
        excluded=["data", "printout_content", "signed_envelope", "signed_content"],
    )

    class Meta:
        verbose_name = _("declaration request")
        verbose_name_plural = _("declaration requests")
        indexes = [
            models.Index(fields=["employee", "status"], name="declreq_employee_status_idx"),
            models.Index(fields=["legal_entity", "status", "-created_at"], name="declreq_list_idx"),
            models.Index(fields=["person_key", "status"], name="declreq_person_key_idx"),
        ]

    def __str__(self):
        return self.declaration_number


class DeclarationRequestDocument(models.Model):
    """A scan the patient brought for an OFFLINE request (JPEG, PNG or PDF, checked by content)."""

    declaration_request = models.ForeignKey(
        DeclarationRequest,
        on_delete=models.CASCADE,
        related_name="uploads",
        verbose_name=_("declaration request"),
    )
    type = models.CharField(_("document"), max_length=100)
    file = models.FileField(_("file"), upload_to="declaration_requests/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size, bytes"))
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        constraints = [
            models.UniqueConstraint(
                fields=["declaration_request", "type"], name="declreq_document_type_unique"
            )
        ]

    def __str__(self):
        return self.type


class Declaration(models.Model):
    """A patient's declaration with a primary-care doctor (§4.7). At most one active or pending one per
    patient: signing a new one terminates the others in the same transaction (and a constraint holds it)."""

    class Status(models.TextChoices):
        # "a declaration is …": Ukrainian agrees with декларація (feminine), not with the other statuses.
        ACTIVE = "active", pgettext_lazy("declaration", "active")
        PENDING_VERIFICATION = (
            "pending_verification",
            pgettext_lazy("declaration", "waiting for verification"),
        )
        TERMINATED = "terminated", pgettext_lazy("declaration", "terminated")
        CLOSED = "closed", pgettext_lazy("declaration", "closed")
        REJECTED = "rejected", pgettext_lazy("declaration", "rejected")

    CURRENT = (Status.ACTIVE, Status.PENDING_VERIFICATION)

    class Reason(models.TextChoices):
        """Why a declaration ended or waits (eHealth's `reason` codes)."""

        MANUAL_EMPLOYEE = "manual_employee", _("at the doctor's request")
        MANUAL_PERSON = "manual_person", _("at the patient's request")
        AUTO_NEW_DECLARATION = "auto_new_declaration", _("the patient chose another doctor")
        AUTO_EMPLOYEE_DISMISSED = "auto_employee_dismissed", _("the doctor was dismissed")
        AUTO_LEGAL_ENTITY_CLOSED = "auto_legal_entity_closed", _("the facility was closed")
        OFFLINE = "offline", _("the patient confirmed with documents")
        NO_TAX_ID = "no_tax_id", _("the patient has no RNOKPP")

    id = models.UUIDField(primary_key=True, editable=False)  # the request's declaration_id
    declaration_number = models.CharField(_("number"), max_length=14, unique=True)
    declaration_request = models.OneToOneField(
        DeclarationRequest, on_delete=models.PROTECT, related_name="declaration", verbose_name=_("request")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("patient")
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("doctor")
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("division")
    )
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("medical facility")
    )
    scope = models.CharField(_("scope"), max_length=20, default="family_doctor")
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    reason = models.CharField(_("reason"), max_length=50, choices=Reason.choices, blank=True)
    reason_description = models.CharField(_("reason in words"), max_length=500, blank=True)
    overlimit = models.BooleanField(_("over the doctor's limit"), default=False)
    signed_at = models.DateTimeField(_("signed"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )
    history = recorded_history(_("declaration version"), _("declaration versions"))

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        indexes = [
            # The doctor's count against the limit (the first two columns) and their lists, newest first,
            # by status or all; the facility's lists likewise. The lists order by (-created_at, -id).
            models.Index(
                fields=["employee", "status", "-created_at", "-id"], name="declaration_employee_idx"
            ),
            models.Index(fields=["employee", "-created_at", "-id"], name="declaration_doctor_newest_idx"),
            models.Index(
                fields=["legal_entity", "status", "-created_at", "-id"], name="declaration_list_idx"
            ),
            models.Index(fields=["legal_entity", "-created_at", "-id"], name="declaration_newest_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=["active", "pending_verification"]),
                name="declaration_one_current_per_person",
            )
        ]

    def __str__(self):
        return self.declaration_number
