"""The registry: reference data, the state-register copy, facilities, their people and applications."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ehealth_portal.caching import DataVersion, VersionedModel
from ehealth_portal.history import recorded_history

# Versions of what is cached from these tables (ehealth_portal.caching): every write replaces them.
REFERENCE_DATA = DataVersion("reference-data")  # dictionaries and global parameters
PUBLIC_REGISTRY = DataVersion("public-registry")  # what the public list and the map show

dictionary_name_validator = RegexValidator(
    r"\A[A-Z][A-Z0-9_]*\Z", _("Use capital Latin letters, digits and underscores, e.g. LEGAL_FORM.")
)
parameter_name_validator = RegexValidator(
    r"\A[a-z][a-z0-9_]*\Z", _("Use small Latin letters, digits and underscores, e.g. adult_age.")
)


def validate_dictionary_labels(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValidationError(
            _('Labels must be a list of words, e.g. ["SYSTEM", "EXTERNAL"].'), code="labels"
        )


class TermUnit(models.TextChoices):
    """The TERM_UNIT dictionary: units of the *_term_unit global parameters."""

    SECONDS = "SECONDS", _("seconds")
    HOURS = "HOURS", _("hours")
    DAYS = "DAYS", _("days")
    MONTHS = "MONTHS", _("months")
    YEARS = "YEARS", _("years")


class Dictionary(VersionedModel):
    """A named list of coded values, as eHealth's `GET /api/dictionaries` returns it."""

    data_version = REFERENCE_DATA

    name = models.CharField(_("name"), max_length=100, unique=True, validators=[dictionary_name_validator])
    labels = models.JSONField(
        _("labels"),
        default=list,
        blank=True,
        validators=[validate_dictionary_labels],
        help_text=_('Tags such as ["SYSTEM", "EXTERNAL"]: who owns the dictionary and who may read it.'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")

    def __str__(self):
        return self.name


class DictionaryValue(VersionedModel):
    """One key of a dictionary with its Ukrainian label. Deactivated values are no longer offered."""

    data_version = REFERENCE_DATA

    dictionary = models.ForeignKey(
        Dictionary, on_delete=models.CASCADE, related_name="values", verbose_name=_("dictionary")
    )
    key = models.CharField(_("key"), max_length=100)
    label = models.CharField(_("label"), max_length=500)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Values are listed by position, then by key.")
    )

    class Meta:
        ordering = ["dictionary", "position", "key"]
        verbose_name = _("dictionary value")
        verbose_name_plural = _("dictionary values")
        constraints = [
            models.UniqueConstraint(
                fields=["dictionary", "key"], name="registry_dictionary_value_unique_key"
            ),
        ]

    def __str__(self):
        return f"{self.key} — {self.label}"


class GlobalParameter(VersionedModel):
    """A system-wide setting kept as text, as in eHealth (`GET /api/global_parameters`).

    Read it through the typed selectors (`global_parameter_int`, `global_parameter_term`, …).
    """

    data_version = REFERENCE_DATA

    name = models.CharField(_("name"), max_length=100, unique=True, validators=[parameter_name_validator])
    value = models.CharField(_("value"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("global parameter")
        verbose_name_plural = _("global parameters")

    def __str__(self):
        return f"{self.name} = {self.value}"

    def clean(self):
        # Guard the typed readers: an operator's typo in the admin must not break declarations later.
        if self.name in INTEGER_PARAMETERS and not (self.value.isascii() and self.value.isdigit()):
            raise ValidationError({"value": _("This parameter must be a whole number.")}, code="integer")
        if self.name.endswith("_unit") and self.value not in TermUnit.values:
            raise ValidationError(
                {"value": _("Use one of: %(units)s.") % {"units": ", ".join(TermUnit.values)}},
                code="term_unit",
            )


# Parameters read as whole numbers (see registry/data/dictionaries.json for their meaning).
INTEGER_PARAMETERS = frozenset(
    {
        "adult_age",
        "declaration_term",
        "declaration_request_expiration",
        "employee_request_expiration",
        "declaration_limit_therapist",
        "declaration_limit_pediatrician",
        "declaration_limit_family_doctor",
    }
)


# --- The state register (ЄДР): a local copy of the Ministry of Justice open data ------------------


class EdrRecord(models.Model):
    """One subject of the state register, as loaded by `import_edr` (read-only for everybody else).

    Legal entities (UO) are keyed by their EDRPOU; the open data of sole proprietors (FOP) carries
    no tax number, so they are keyed by a digest of their name and registration details.
    """

    class Kind(models.TextChoices):
        LEGAL_ENTITY = "UO", _("legal entity")
        SOLE_PROPRIETOR = "FOP", _("sole proprietor")

    record_key = models.CharField(_("record key"), max_length=64)
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    code = models.CharField(_("EDRPOU"), max_length=10, blank=True)
    name = models.TextField(_("name"))
    short_name = models.TextField(_("short name"), blank=True)
    name_key = models.CharField(
        _("normalised name"),
        max_length=255,
        db_index=True,
        help_text=_("Upper case, one kind of apostrophe."),
    )
    legal_form = models.CharField(_("legal form"), max_length=255, blank=True)
    address = models.TextField(_("address"), blank=True)
    state = models.CharField(_("state"), max_length=255, blank=True)
    is_registered = models.BooleanField(_("registered (active)"), default=False)
    heads = models.JSONField(_("heads and signatories"), default=list, blank=True)
    kveds = models.JSONField(_("KVED codes"), default=list, blank=True)
    content_hash = models.CharField(_("content digest"), max_length=64)
    imported_at = models.DateTimeField(_("imported"), auto_now=True)

    class Meta:
        verbose_name = _("state register record")
        verbose_name_plural = _("state register records")
        ordering = ["name"]
        # Only the indexes the lookups use: every extra index slows the import of millions of rows.
        constraints = [models.UniqueConstraint(fields=["record_key"], name="edr_record_key_unique")]
        indexes = [
            models.Index(fields=["code"], name="edr_record_code"),
            models.Index(fields=["name_key"], name="edr_record_name_key"),
        ]

    def __str__(self):
        return f"{self.code or self.kind} {self.name}"


# --- Facilities and people --------------------------------------------------------------------------


class LegalEntity(VersionedModel):
    """A medical facility (legal entity or sole proprietor) registered by its head."""

    data_version = PUBLIC_REGISTRY

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("active")
        CLOSED = "CLOSED", _("closed")

    id = models.UUIDField(_("identifier"), primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=20, default="MSP")
    edrpou = models.CharField(_("EDRPOU or RNOKPP"), max_length=10, db_index=True)
    name = models.CharField(_("full name"), max_length=500)
    short_name = models.CharField(_("short name"), max_length=255, blank=True)
    public_name = models.CharField(_("public name"), max_length=255, blank=True)
    legal_form = models.CharField(_("legal form"), max_length=10)
    owner_property_type = models.CharField(_("ownership"), max_length=10)
    kveds = models.JSONField(_("KVED codes"), default=list)
    email = models.EmailField(_("email"))
    phones = models.JSONField(_("phones"), default=list)
    website = models.CharField(_("website"), max_length=255, blank=True)
    addresses = models.JSONField(_("addresses"), default=list)
    license = models.JSONField(_("licence"), default=dict)
    accreditation = models.JSONField(_("accreditation"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_active = models.BooleanField(_("active"), default=True)
    nhs_verified = models.BooleanField(_("verified by the NHS"), default=False)
    end_date = models.DateField(_("closed on"), null=True, blank=True)
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
        verbose_name=_("last changed by"),
    )
    history = recorded_history(_("facility version"), _("facility versions"))

    class Meta:
        verbose_name = _("medical facility")
        verbose_name_plural = _("medical facilities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["edrpou", "type"],
                condition=models.Q(status="ACTIVE"),
                name="legal_entity_active_edrpou_type_unique",
            )
        ]
        indexes = [
            # The API's list (newest first) and the public list (by name) read a page from an index.
            models.Index(F("created_at").desc(), "id", name="legal_entity_newest_idx"),
            models.Index(fields=["name", "id"], name="legal_entity_name_idx"),
        ]

    def __str__(self):
        return self.public_name or self.short_name or self.name


class Division(VersionedModel):
    """A place of service of a facility; those with coordinates are shown on the public map."""

    data_version = PUBLIC_REGISTRY

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("active")
        INACTIVE = "INACTIVE", _("inactive")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="divisions", verbose_name=_("medical facility")
    )
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=20, default="CLINIC")
    addresses = models.JSONField(_("addresses"), default=list)
    phones = models.JSONField(_("phones"), default=list)
    email = models.EmailField(_("email"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    external_id = models.CharField(_("identifier in the facility's system"), max_length=100, blank=True)
    working_hours = models.JSONField(
        _("working hours"),
        default=dict,
        blank=True,
        help_text=_('Per weekday, as in eHealth: {"mon": [["08.00", "12.00"], ["13.00", "17.00"]], ...}.'),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = recorded_history(_("division version"), _("division versions"))

    class Meta:
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["latitude", "longitude"]),
            models.Index(fields=["legal_entity", "status", "name"], name="division_list_idx"),
        ]

    def __str__(self):
        return self.name


class Party(models.Model):
    """A person known to the registry (a head, HR, a doctor), linked to a user once they confirm."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party",
        verbose_name=_("user"),
    )
    last_name = models.CharField(_("surname"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    second_name = models.CharField(_("patronymic"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"))
    gender = models.CharField(_("gender"), max_length=10)
    tax_id = models.CharField(_("RNOKPP or passport number"), max_length=10, db_index=True)
    no_tax_id = models.BooleanField(_("refused an RNOKPP"), default=False)
    documents = models.JSONField(_("identity documents"), default=list)
    phones = models.JSONField(_("phones"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = recorded_history(_("person version"), _("person versions"))

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(fields=["tax_id", "birth_date"], name="party_tax_id_birth_unique")
        ]

    def __str__(self):
        return " ".join(filter(None, [self.last_name, self.first_name, self.second_name]))


class Employee(VersionedModel):
    """A person's job at a facility (the head is an OWNER employee)."""

    data_version = PUBLIC_REGISTRY

    class Status(models.TextChoices):
        APPROVED = "APPROVED", _("working")
        DISMISSED = "DISMISSED", _("dismissed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    legal_entity = models.ForeignKey(
        LegalEntity, on_delete=models.PROTECT, related_name="employees", verbose_name=_("medical facility")
    )
    division = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
        verbose_name=_("division"),
    )
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="employees", verbose_name=_("person")
    )
    employee_type = models.CharField(_("role"), max_length=20)
    position = models.CharField(pgettext_lazy("job", "position"), max_length=10)
    start_date = models.DateField(_("started"))
    end_date = models.DateField(_("ended"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPROVED)
    is_active = models.BooleanField(_("active"), default=True)
    additional_info = models.JSONField(_("education and qualifications"), default=dict, blank=True)
    speciality = models.JSONField(
        _("main speciality"),
        default=dict,
        blank=True,
        help_text=_("The doctor's speciality with speciality_officio, copied from additional_info."),
    )
    status_reason = models.CharField(_("reason"), max_length=255, blank=True)
    # Kept by the declarations app when it changes (the doctor's declarations reached their limit or fell
    # below it), so the map and facility pages show it without counting declarations.
    accepts_new_patients = models.BooleanField(_("accepts new patients"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = recorded_history(_("employee version"), _("employee versions"))

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        indexes = [
            # The staff list of a facility: its working people by role, newest first; the id last, so
            # a deep page's ids are read from the index alone (the list's order ends with it).
            models.Index(
                fields=["legal_entity", "status", "employee_type", "-created_at", "-id"],
                name="employee_list_idx",
            ),
        ]

    def __str__(self):
        return f"{self.party} — {self.employee_type}"


class EmployeeRequest(models.Model):
    """An invitation to work at a facility; accepted once through a single-use, expiring link."""

    class Status(models.TextChoices):
        NEW = "NEW", _("waiting for confirmation")
        APPROVED = "APPROVED", _("accepted")
        REJECTED = "REJECTED", _("declined")
        EXPIRED = "EXPIRED", _("expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    legal_entity = models.ForeignKey(
        LegalEntity,
        on_delete=models.PROTECT,
        related_name="employee_requests",
        verbose_name=_("medical facility"),
    )
    division = models.ForeignKey(
        Division,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("division"),
    )
    employee_type = models.CharField(_("role"), max_length=20)
    position = models.CharField(pgettext_lazy("job", "position"), max_length=10)
    email = models.EmailField(_("email"))
    data = models.JSONField(_("request"), help_text=_("The person's data as submitted (eHealth party)."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    # Given in the request (eHealth's employee_id: change that employee's data) or set on acceptance.
    employee = models.ForeignKey(
        Employee,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
        verbose_name=_("employee"),
    )
    # A request signed by whoever made it (the head granting HR access; the API's signed requests).
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
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    history = recorded_history(
        _("employee request version"),
        _("employee request versions"),
        excluded=["token_hash", "signed_envelope", "signed_content"],  # a secret's hash; evidence kept once
    )

    class Meta:
        verbose_name = _("employee request")
        verbose_name_plural = _("employee requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["legal_entity", "status", "-created_at"], name="employee_request_le_idx")
        ]

    def __str__(self):
        return f"{self.email} → {self.legal_entity}"


class SupersededInvitationLink(models.Model):
    """The link of an invitation that was sent again: refused with its own message, not "not valid"."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    employee_request = models.ForeignKey(
        EmployeeRequest,
        on_delete=models.CASCADE,
        related_name="superseded_links",
        verbose_name=_("employee request"),
    )
    superseded_at = models.DateTimeField(_("replaced"), auto_now_add=True)

    class Meta:
        verbose_name = _("replaced invitation link")
        verbose_name_plural = _("replaced invitation links")

    def __str__(self):
        return f"{self.employee_request} ({self.superseded_at:%Y-%m-%d %H:%M})"


# --- Registration applications --------------------------------------------------------------------


class RegistrationApplication(models.Model):
    """A head's signed application to register a facility, kept with its evidence and check log."""

    class Status(models.TextChoices):
        SUBMITTED = "SUBMITTED", _("submitted")
        WAITING_OPERATOR = "WAITING_OPERATOR", _("waiting for an operator")
        REJECTED = "REJECTED", _("rejected")
        APPROVED = "APPROVED", _("registered")

    class Channel(models.TextChoices):
        WEB = "WEB", _("portal")
        API = "API", _("API")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    channel = models.CharField(_("channel"), max_length=3, choices=Channel.choices, default=Channel.WEB)
    status_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The wizard run that submitted it: a double submit of one run stores one application.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    edrpou = models.CharField(_("EDRPOU or RNOKPP"), max_length=10, db_index=True)
    name = models.CharField(_("facility"), max_length=500)
    email = models.EmailField(_("head's email"))
    data = models.JSONField(
        _("submitted data"), help_text=_("The eHealth legal-entity payload that was signed.")
    )
    signed_envelope = models.BinaryField(_("signature (evidence)"))
    signed_content = models.BinaryField(_("signed document"))
    signer = models.JSONField(_("signer"), default=dict, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    legal_entity = models.ForeignKey(
        LegalEntity,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
        verbose_name=_("medical facility"),
    )
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("registration application")
        verbose_name_plural = _("registration applications")
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.edrpou} {self.name}"


class ApplicationCheck(models.Model):
    """One step of the checks of an application, in the order they ran."""

    class Step(models.TextChoices):
        SIGNATURE = "SIGNATURE", _("signature")
        KVEDS = "KVEDS", _("KVED codes")
        STATE_REGISTER = "STATE_REGISTER", _("state register")
        OPERATOR = "OPERATOR", _("operator's decision")

    class Outcome(models.TextChoices):
        PASSED = "PASSED", _("passed")
        FAILED = "FAILED", pgettext_lazy("check outcome", "failed")
        WAITING = "WAITING", _("waiting for an operator")

    application = models.ForeignKey(
        RegistrationApplication,
        on_delete=models.CASCADE,
        related_name="checks",
        verbose_name=_("registration application"),
    )
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    details = models.JSONField(_("details"), default=list, blank=True)
    created_at = models.DateTimeField(_("checked"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("checked by"),
    )

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_step_display()}: {self.get_outcome_display()}"
