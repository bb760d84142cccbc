"""Reference data: eHealth dictionaries (GENDER, POSITION, KVEDS, …) and global parameters."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

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


class Dictionary(models.Model):
    """A named list of coded values, as eHealth's `GET /api/dictionaries` returns it."""

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


class DictionaryValue(models.Model):
    """One key of a dictionary with its Ukrainian label. Deactivated values are no longer offered."""

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


class GlobalParameter(models.Model):
    """A system-wide setting kept as text, as in eHealth (`GET /api/global_parameters`).

    Read it through the typed selectors (`global_parameter_int`, `global_parameter_term`, …).
    """

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
