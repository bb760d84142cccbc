"""CNAP monitoring: the Register of administrative services and the CNAP registry (Diia reference data)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ehealth_portal import encryption


class AdministrativeService(models.Model):
    """A service of the Register of administrative services, as in the Diia dump (`/register/download/json/`).

    Appeals refer to it by `identifier`, an opaque string: leading zeros matter.
    """

    identifier = models.CharField(_("identifier"), max_length=50, unique=True)
    register_id = models.CharField(
        _("register ID"),
        max_length=100,
        blank=True,
        help_text=_("The Register's internal ID of the service."),
    )
    name = models.CharField(_("name"), max_length=1000)
    owner_name = models.CharField(
        _("responsible authority"),
        max_length=1000,
        blank=True,
        help_text=_("The body responsible for the service (the Register's owner)."),
    )
    owner_code = models.CharField(_("responsible authority code"), max_length=50, blank=True)
    provider_names = models.TextField(
        _("service providers"), blank=True, help_text=_("The bodies that provide the service, one a line.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Kept by operators: imports never change it.")
    )
    raw = models.JSONField(
        _("register entry"), default=dict, blank=True, help_text=_("The entry as last imported.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("administrative service")
        verbose_name_plural = _("administrative services")

    def __str__(self):
        return f"{self.identifier} {self.name}"


class ServiceVariation(models.Model):
    """One variation of a service with its legal term: what timeliness is measured against."""

    service = models.ForeignKey(
        AdministrativeService,
        on_delete=models.CASCADE,
        related_name="variations",
        verbose_name=_("service"),
    )
    identifier = models.CharField(_("identifier"), max_length=50)
    name = models.CharField(_("name"), max_length=1000, blank=True)
    legal_term_days = models.PositiveIntegerField(
        _("legal term, days"),
        null=True,
        blank=True,
        help_text=_("Empty when the Register gives the term in other units or not at all."),
    )
    legal_term_working_days = models.BooleanField(
        _("working days"),
        default=False,
        help_text=_("The legal term counts working days, not calendar days."),
    )
    legal_term_text = models.CharField(_("legal term as written"), max_length=1000, blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Switched off when the Register no longer lists the variation."),
    )
    raw = models.JSONField(_("register entry"), default=dict, blank=True)

    class Meta:
        ordering = ["service", "identifier"]
        verbose_name = _("service variation")
        verbose_name_plural = _("service variations")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "identifier"], name="monitoring_service_variation_unique_identifier"
            ),
        ]

    def __str__(self):
        return f"{self.service.identifier}/{self.identifier}"


class Cnap(models.Model):
    """An administrative service centre (ЦНАП) of the CNAP registry (`/asc/download/json/`)."""

    code = models.CharField(
        _("code"), max_length=20, unique=True, help_text=_("The CNAP registry code; appeals carry it.")
    )
    name = models.CharField(_("name"), max_length=1000)
    address = models.CharField(_("address"), max_length=1000, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    region = models.CharField(_("region"), max_length=200, blank=True, db_index=True)
    state = models.CharField(
        _("registry state"),
        max_length=100,
        blank=True,
        help_text=_("As the registry writes it, e.g. «Діючий»."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Follows the registry state on import: only «Діючий» is active."),
    )
    raw = models.JSONField(
        _("registry entry"), default=dict, blank=True, help_text=_("The entry as last imported.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("CNAP")
        verbose_name_plural = _("CNAPs")

    def __str__(self):
        return f"{self.code} {self.name}"


# --- Connecting CNAP information systems ----------------------------------------------------------


class JoiningApplication(models.Model):
    """A CNAP's signed application to join the monitoring: the evidence an operator connects it on."""

    class Status(models.TextChoices):
        SUBMITTED = "SUBMITTED", _("submitted")
        CONNECTED = "CONNECTED", _("connected")
        REJECTED = "REJECTED", _("rejected")

    cnap = models.ForeignKey(
        Cnap, on_delete=models.PROTECT, related_name="joining_applications", verbose_name=_("CNAP")
    )
    organisation_edrpou = models.CharField(_("EDRPOU of the body running the CNAP"), max_length=8)
    contact_email = models.EmailField(_("contact email"))
    proposed_base_url = models.URLField(_("address of the appeals endpoint"), max_length=500)
    signed_content = models.TextField(_("signed application text"))
    signature = models.BinaryField(_("qualified electronic signature (CMS)"))
    signer_name = models.CharField(_("signer"), max_length=500)
    signer_drfo = models.CharField(_("signer RNOKPP"), max_length=20, blank=True)
    signer_edrpou = models.CharField(_("signer EDRPOU"), max_length=20, blank=True)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("joining application")
        verbose_name_plural = _("joining applications")

    def __str__(self):
        return f"{self.cnap.code}: {self.signer_name}"


class CnapSystem(models.Model):
    """A CNAP's information system the portal pulls appeals from (`GET {base_url}?start_date&end_date`)."""

    cnap = models.ForeignKey(Cnap, on_delete=models.PROTECT, related_name="systems", verbose_name=_("CNAP"))
    application = models.ForeignKey(
        JoiningApplication,
        on_delete=models.PROTECT,
        related_name="systems",
        verbose_name=_("joining application"),
    )
    name = models.CharField(_("system name"), max_length=200, blank=True)
    base_url = models.URLField(_("base URL"), max_length=500)
    login = models.CharField(_("Basic Auth login"), max_length=200)
    # A Fernet token (ehealth_portal.encryption); the password itself is never stored or shown.
    password_encrypted = models.TextField(_("encrypted password"), editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failed pulls in a row"), default=0)
    is_failing = models.BooleanField(
        _("failing"),
        default=False,
        db_index=True,
        help_text=_("Set after several failed pulls in a row; cleared by the next successful pull."),
    )
    last_pull_at = models.DateTimeField(_("last pull"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful pull"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("connected by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last changed by"),
    )
    created_at = models.DateTimeField(_("connected"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["cnap__code"]
        verbose_name = _("CNAP data system")
        verbose_name_plural = _("CNAP data systems")
        constraints = [
            models.UniqueConstraint(
                fields=["cnap"],
                condition=models.Q(is_active=True),
                name="monitoring_cnap_system_one_active_per_cnap",
            ),
        ]

    def __str__(self):
        return f"{self.cnap.code} {self.name or self.base_url}"

    @property
    def password(self) -> str:
        return encryption.decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = encryption.encrypt(value)


class PullRun(models.Model):
    """One pull of a system's window: what was asked, what came back and how it ended."""

    class Trigger(models.TextChoices):
        SCHEDULE = "SCHEDULE", _("schedule")
        MANUAL = "MANUAL", _("operator")
        TEST = "TEST", _("connection test")

    class Status(models.TextChoices):
        QUEUED = "QUEUED", _("queued")
        RUNNING = "RUNNING", _("running")
        RETRYING = "RETRYING", _("waiting to retry")
        SUCCEEDED = "SUCCEEDED", _("succeeded")
        FAILED = "FAILED", pgettext_lazy("pull run status", "failed")

    class ErrorCode(models.TextChoices):
        """Why a run failed, as `client.PullError` and `pulling` name it."""

        AUTH = "auth", _("login or password refused")
        RATE_LIMITED = "rate_limited", _("too many requests")
        SERVER_ERROR = "server_error", _("server error of the system")
        REMOTE_ERROR = "remote_error", _("the system reported an error")
        HTTP_ERROR = "http_error", _("unexpected HTTP answer")
        MALFORMED = "malformed", _("answer not in the contract's format")
        TOO_LARGE = "too_large", _("page too large")
        REDIRECT = "redirect", _("redirect to another address")
        FOREIGN_NEXT_PAGE = "foreign_next_page", _("next page on another host")
        PAGE_CAP = "page_cap", _("too many pages")
        NETWORK = "network", _("network error")
        TLS = "tls", _("TLS connection failed")
        TIMEOUT = "timeout", _("no answer in time")
        RUN_TIME_LIMIT = "run_time_limit", _("the run took too long")
        FORBIDDEN_TARGET = "forbidden_target", _("address not allowed")
        SECRET_UNREADABLE = "secret_unreadable", _("stored password cannot be decrypted")
        SYSTEM_INACTIVE = "system_inactive", _("system not active")
        WORKER_LOST = "worker_lost", _("the worker stopped")
        DATABASE_ERROR = "database_error", _("database error")
        INTERNAL_ERROR = "internal_error", _("internal error of the portal")

    system = models.ForeignKey(
        CnapSystem, on_delete=models.CASCADE, related_name="pull_runs", verbose_name=_("system")
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    window_start = models.DateField(_("first day"))
    window_end = models.DateField(_("last day"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    records_received = models.PositiveIntegerField(_("records received"), default=0)
    records_created = models.PositiveIntegerField(_("appeals created"), default=0)
    records_updated = models.PositiveIntegerField(_("appeals updated"), default=0)
    records_quarantined = models.PositiveIntegerField(_("records quarantined"), default=0)
    http_status = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    error_code = models.CharField(_("error"), max_length=50, blank=True, choices=ErrorCode.choices)
    error_message = models.TextField(_("error details"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # When its task was last queued: the recovery sweep tells a lost message from a run waiting its turn.
    queued_at = models.DateTimeField(_("last queued"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # The running attempt renews this while it lives; once it has passed, the worker is taken for dead
    # and another worker may take the run over.
    lease_expires_at = models.DateTimeField(_("held until"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pull run")
        verbose_name_plural = _("pull runs")
        indexes = [models.Index(fields=["system", "-created_at"], name="monitoring_pullrun_recent")]

    def __str__(self):
        return f"{self.system.cnap.code} {self.window_start}…{self.window_end} {self.get_status_display()}"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Appeal(models.Model):
    """An appeal (заява) as a CNAP system reported it; unique by (CNAP code, appeal id).

    The record carries no personal data: monitoring needs none.
    """

    class Channel(models.TextChoices):
        OFFLINE = "offline", _("in person")
        REMOTE = "remote", _("remote workplace")
        ONLINE = "online", _("online")
        MAIL = "mail", _("by post")

    class ApplicantType(models.TextChoices):
        INDIVIDUAL = "individual", _("individual")
        ENTREPRENEUR = "entrepreneur", _("entrepreneur")
        LEGAL_ENTITY = "legal_entity", _("legal entity")

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        IN_PROGRESS = "in_progress", _("in progress")
        READY = "ready", _("ready")
        ISSUED = "issued", _("issued")
        REFUSED = "refused", _("refused")
        RETURNED = "returned", _("returned")
        CANCELLED = "cancelled", _("cancelled")

    class Result(models.TextChoices):
        POSITIVE = "positive", _("positive")
        REFUSAL = "refusal", _("refusal")

    # No single-column indexes on the codes: the unique (cnap, appeal_id) and the (service,
    # registered_at) indexes lead with them, and each extra index slows every ingested page.
    cnap = models.ForeignKey(
        Cnap,
        to_field="code",
        db_column="cnap_code",
        db_index=False,
        # No database constraint on either code: ingestion checks both against the registers, the ORM
        # keeps PROTECT, and codes never change (read-only in the admin, the imports' keys). A checked
        # text key per row cost ingestion a third of its speed (docs/benchmarks.md).
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name=_("CNAP"),
    )
    appeal_id = models.CharField(_("appeal ID"), max_length=100)
    service = models.ForeignKey(
        AdministrativeService,
        to_field="identifier",
        db_column="service_code",
        db_index=False,
        db_constraint=False,
        on_delete=models.PROTECT,
        related_name="appeals",
        verbose_name=_("service"),
    )
    variation_code = models.CharField(_("variation"), max_length=50, blank=True)
    system = models.ForeignKey(
        CnapSystem, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("reported by")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    applicant_type = models.CharField(
        _("applicant"), max_length=20, choices=ApplicantType.choices, blank=True
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    result = models.CharField(_("result"), max_length=20, choices=Result.choices, blank=True)
    registered_at = models.DateTimeField(_("registered"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("legal deadline"), null=True, blank=True)
    deadline_from_register = models.BooleanField(
        _("deadline from the Register"),
        default=False,
        help_text=_("The system sent no deadline; it was computed from the service's legal term."),
    )
    processing_seconds = models.BigIntegerField(
        _("processing time, s"),
        null=True,
        blank=True,
        help_text=_(
            "From registration to the decision (to the issue when the system sent no decision time)."
        ),
    )
    source_updated_at = models.DateTimeField(_("updated in the CNAP system"))
    is_test = models.BooleanField(_("test"), default=False)
    is_consultation = models.BooleanField(_("consultation"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("satisfaction, 1–5"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    loyalty = models.PositiveSmallIntegerField(
        _("would recommend, 0–10"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    feedback_at = models.DateTimeField(_("feedback given"), null=True, blank=True)
    first_pulled_at = models.DateTimeField(_("first pulled"), auto_now_add=True)
    pulled_at = models.DateTimeField(_("last changed by a pull"), auto_now=True)

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.UniqueConstraint(fields=["cnap", "appeal_id"], name="monitoring_appeal_unique_per_cnap"),
        ]
        indexes = [
            models.Index(fields=["registered_at"], name="monitoring_appeal_registered"),
            models.Index(fields=["service", "registered_at"], name="monitoring_appeal_service"),
        ]

    def __str__(self):
        return f"{self.cnap_id}/{self.appeal_id}"


class QuarantinedRecord(models.Model):
    """A record a system sent that failed validation: kept whole with the reasons, never dropped.

    One row per (system, record key); a later valid version of the same appeal removes it.
    """

    system = models.ForeignKey(
        CnapSystem, on_delete=models.CASCADE, related_name="quarantined", verbose_name=_("system")
    )
    run = models.ForeignKey(
        PullRun,
        on_delete=models.SET_NULL,
        null=True,
        related_name="quarantined",
        verbose_name=_("last seen in"),
    )
    record_key = models.CharField(
        _("record key"),
        max_length=100,
        help_text=_("The appeal ID, or a hash of the record when it has none."),
    )
    appeal_id = models.CharField(_("appeal ID"), max_length=100, blank=True)
    record = models.JSONField(_("record as received"))
    reasons = models.JSONField(_("reasons"), help_text=_("Each failing field path with its message."))
    times_seen = models.PositiveIntegerField(_("times seen"), default=1)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("quarantined record")
        verbose_name_plural = _("quarantined records")
        constraints = [
            models.UniqueConstraint(
                fields=["system", "record_key"], name="monitoring_quarantine_unique_per_system"
            ),
        ]

    def __str__(self):
        return f"{self.system.cnap.code}: {self.record_key}"
