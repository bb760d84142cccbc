"""CNAP monitoring: the Register of administrative services and the CNAP registry (Diia reference data)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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
