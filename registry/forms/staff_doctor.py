"""The doctor wizard's steps: the person (`PersonForm`), education, qualifications, specialities, the
place of service (`PlaceForm`) and the review, which make eHealth's employee request with its `doctor` block.

A step of repeated blocks (`BlocksForm`) holds a Django formset of block forms. "Add one more" and
"Remove" are submit buttons (`BLOCK_ACTION`): the wizard keeps what was typed and shows the step again
with one block more or less (`BlocksForm.blocks_edited`), so they work without JavaScript and every block
shown is one the user asked for. Blocks beyond the required ones may be left empty: they are skipped.
The rules are `payloads.DoctorSerializer`'s, checked on the step's part (`part_serializer`): every
refusal shows at its block's field ("specialities[1].level"), those of the list as a whole ("exactly one
main speciality") above the blocks.

A change of a doctor's data fills the steps in from the employee (`values_from_payload` of each step,
as typed) and runs the same wizard (registry.views.staff_new.DoctorWizard).
"""

import datetime
import re
from functools import cached_property
from types import SimpleNamespace

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from .. import payloads
from ..payloads.employee_requests import EDUCATION_DEGREES, DoctorSerializer
from .fields import CodeField, NameField, compact, date_field, dictionary_field_choices, iso_date
from .people import PersonForm
from .staff_other import JobForm, part_serializer
from .steps import StepForm, review_sections

DOCTOR = "DOCTOR"
STEP_PERSON = "person"
STEP_EDUCATION = "education"
STEP_QUALIFICATIONS = "qualifications"
STEP_SPECIALITIES = "specialities"
STEP_PLACE = "place"
STEP_REVIEW = "review"

BLOCK_ACTION = "wizard_blocks"  # the buttons' name; value "add" or "remove-<index>"
BLOCKS_INITIAL = "blocks"  # an unbound step's initial values of its blocks: [{field: value}, ...]
BLOCKS_INVALID = "blocks_invalid"  # the code of the step's mark that some block has errors


class BlockForm(StepForm):
    """One block of a repeated part: its fields are the members of the payload's item, in one group."""

    title = ""
    wide: tuple[str, ...] = ()

    @property
    def groups(self):
        return [(self.title, list(self.fields), {"grid": True, "wide": self.wide})]

    def item(self) -> dict:
        """The payload item from `cleaned_data`: empty optional members left out, dates as ISO text."""
        return compact(
            {
                name: iso_date(value) if isinstance(value, datetime.date) else value
                for name, value in self.cleaned_data.items()
            }
        )


class EducationBlock(BlockForm):
    country = CodeField(label=_("Country"), help_text=_("A two-letter code, for example UA."))
    city = NameField(label=_("City"))
    institution_name = NameField(label=_("Educational institution"))
    diploma_number = forms.CharField(label=_("Diploma number"))
    degree = forms.ChoiceField(
        label=_("Degree"),
        choices=dictionary_field_choices("EDUCATION_DEGREE", keys=lambda: list(EDUCATION_DEGREES)),
    )
    speciality = NameField(label=_("Speciality in the diploma"))
    issued_date = date_field(_("Date of issue"), required=False)

    title = _("Education")
    wide = ("institution_name",)


class QualificationBlock(BlockForm):
    type = forms.ChoiceField(label=_("Type"), choices=dictionary_field_choices("QUALIFICATION_TYPE"))
    institution_name = NameField(label=_("Institution"))
    speciality = NameField(label=_("Speciality"))
    certificate_number = forms.CharField(label=_("Certificate number"), required=False)
    issued_date = date_field(_("Date of issue"), required=False)
    valid_to = date_field(_("Valid to"), required=False)

    title = _("Qualification")
    wide = ("institution_name",)


class SpecialityBlock(BlockForm):
    speciality = forms.ChoiceField(label=_("Speciality"), choices=dictionary_field_choices("SPECIALITY_TYPE"))
    speciality_officio = forms.BooleanField(
        label=_("The main speciality"),
        required=False,
        help_text=_("The speciality the doctor works in at this facility."),
    )
    level = forms.ChoiceField(label=_("Category"), choices=dictionary_field_choices("SPECIALITY_LEVEL"))
    qualification_type = forms.ChoiceField(
        label=_("Awarding or confirmation"), choices=dictionary_field_choices("SPEC_QUALIFICATION_TYPE")
    )
    attestation_name = NameField(label=_("Attestation commission"))
    attestation_date = date_field(_("Attestation date"))
    valid_to_date = date_field(_("Valid to"), required=False)
    certificate_number = forms.CharField(label=_("Certificate number"))

    title = _("Speciality")
    wide = ("speciality_officio",)


class BlockFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        # Every block beyond the required ones may stay empty (it is then left out), however it was shown.
        return {**super().get_form_kwargs(index), "empty_permitted": index >= self.min_num}


class BlocksForm(StepForm):
    """A step of repeated blocks: the formset `blocks` of `block_form`, the payload list `list_key` of
    eHealth's `doctor` block, checked with `serializer` together with this form's own fields, if any
    (`own_key`: a member of `doctor` made of the fields named `<own_prefix><member>`)."""

    block_form: type[BlockForm]
    list_key: str
    serializer: type
    own_key: str | None = None
    own_prefix = ""
    min_blocks = 1
    block_title = ""  # "… %(number)s"
    add_label = ""
    template_name = "registry/staff/doctor_blocks.html"

    @classmethod
    def max_blocks(cls) -> int:
        return DoctorSerializer._declared_fields[cls.list_key].max_length

    @cached_property
    def blocks(self) -> BlockFormSet:
        formset_class = forms.formset_factory(
            self.block_form,
            formset=BlockFormSet,
            extra=0,
            min_num=self.min_blocks,
            max_num=self.max_blocks(),
            absolute_max=self.max_blocks(),
        )
        prefix = self.add_prefix(self.list_key)
        if self.is_bound:
            return formset_class(self.data, prefix=prefix)
        initial = list(self.initial.get(BLOCKS_INITIAL) or [])
        initial += [{}] * (max(self.min_blocks, 1) - len(initial))  # at least one block to fill in
        return formset_class(initial=initial, prefix=prefix)

    def used_blocks(self) -> list[BlockForm]:
        """The blocks that count: all but the optional ones left empty."""
        return [
            block for block in self.blocks.forms if not (block.empty_permitted and not block.has_changed())
        ]

    # --- Validation -----------------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        blocks = self.blocks
        blocks.is_valid()
        used = self.used_blocks()
        # The payload's list is made of the complete blocks, in order: its item i is item_blocks[i].
        self.item_blocks = [block for block in used if block.is_valid()]
        items = [block.item() for block in self.item_blocks]
        failed = bool(set(self.errors) - {NON_FIELD_ERRORS}) or len(items) < len(used)
        part = {**({self.list_key: items} if items else {}), **self.own_part(cleaned)}
        serializer = self.serializer(data=part)
        if not serializer.is_valid():
            for path, errors in payloads.payload_errors_flatten(serializer.errors).items():
                form, field = self._target(path)
                # A field's own error says more; one of the whole list may only reflect a block left out.
                if form is self and (field in self.errors if field else failed):
                    continue
                for error in errors:
                    if error.message not in form.errors.get(field or NON_FIELD_ERRORS, []):
                        form.add_error(field, error)
        for error in blocks.non_form_errors().as_data():  # a tampered management form
            self.add_error(None, error)
        self._mark_blocks_invalid()
        cleaned[self.list_key] = items
        return cleaned

    def own_part(self, cleaned: dict) -> dict:
        """The member `own_key` from this form's own fields, when any of them is filled in."""
        if not self.own_key:
            return {}
        names = [name.removeprefix(self.own_prefix) for name in self.fields]
        member = {name: cleaned.get(f"{self.own_prefix}{name}") for name in names}
        member = compact(
            {name: iso_date(v) if isinstance(v, datetime.date) else v for name, v in member.items()}
        )
        return {self.own_key: member} if member else {}

    def _target(self, path: str) -> tuple[forms.Form, str | None]:
        """The form (a block, or this one) and field of a path of this step's part ("educations[1].city")."""
        match = re.match(rf"{re.escape(self.list_key)}\[([0-9]+)\](?:\.(\w+))?", path)
        item_blocks = getattr(self, "item_blocks", [])
        if match and int(match[1]) < len(item_blocks):
            block = item_blocks[int(match[1])]
            return block, match[2] if match[2] in block.fields else None
        if self.own_key and path.startswith(f"{self.own_key}."):
            field = self.own_prefix + path.removeprefix(f"{self.own_key}.").split(".")[0]
            return self, field if field in self.fields else None
        return self, None

    def _mark_blocks_invalid(self) -> None:
        """A block's errors make the step invalid: one mark on the step (not shown; the summary names them)."""
        if any(block.errors for block in self.blocks.forms) and not self.has_error(
            NON_FIELD_ERRORS, BLOCKS_INVALID
        ):
            self.add_error(None, ValidationError(_("Some blocks have errors."), code=BLOCKS_INVALID))

    def add_payload_error(self, path: str, error: ValidationError) -> None:
        self.is_valid()  # the blocks behind the payload's items are known once the step is validated
        form, field = self._target(path.removeprefix("doctor."))
        form.add_error(field, error)
        self._mark_blocks_invalid()

    def payload_part(self) -> dict:
        data = self.cleaned_data
        return {"doctor": compact({self.list_key: data.get(self.list_key) or [], **self.own_part(data)})}

    @classmethod
    def values_from_payload(cls, payload: dict) -> dict:
        """The step as typed from the `doctor` block: the blocks' formset fields ("educations-0-city",
        its management counts) and this form's own fields (a change starts from the employee's data)."""
        doctor = payload.get("doctor") or {}
        items = doctor.get(cls.list_key) or []
        key, block_fields = cls.list_key, cls.block_form.base_fields
        values = {
            f"{key}-TOTAL_FORMS": str(max(len(items), cls.min_blocks, 1)),
            f"{key}-INITIAL_FORMS": "0",
        }
        for index, item in enumerate(items):
            values |= {f"{key}-{index}-{name}": value for name, value in item.items() if name in block_fields}
        if cls.own_key:
            own = doctor.get(cls.own_key) or {}
            values |= {f"{cls.own_prefix}{name}": value for name, value in own.items()}
        return values

    # --- Blocks added and removed -----------------------------------------------------------------------

    @classmethod
    def blocks_edited(cls, data, *, prefix: str, action: str):
        """The step's posted data with a block more ("add") or without block i ("remove-i"), as typed."""
        data = data.copy()
        formset_prefix = f"{prefix}-{cls.list_key}"
        total_key = f"{formset_prefix}-TOTAL_FORMS"
        fewest = max(cls.min_blocks, 1)
        try:
            total = min(max(int(data.get(total_key, "")), fewest), cls.max_blocks())
        except ValueError:
            total = fewest
        removed = re.fullmatch(r"remove-([0-9]+)", action)
        if action == "add" and total < cls.max_blocks():
            total += 1
        elif removed and int(removed[1]) < total and total > fewest:
            index, block_key = int(removed[1]), re.compile(rf"{re.escape(formset_prefix)}-([0-9]+)-(.+)")
            moved = {}
            for key in list(data):
                if not (match := block_key.fullmatch(key)):
                    continue
                values, number = data.getlist(key), int(match[1])
                del data[key]
                if number != index:
                    moved[f"{formset_prefix}-{number - (number > index)}-{match[2]}"] = values
            for key, values in moved.items():
                data.setlist(key, values)
            total -= 1
        data[total_key] = str(total)
        data[f"{formset_prefix}-INITIAL_FORMS"] = "0"
        return data

    def typed_blocks(self) -> list[dict]:
        """What the blocks of this bound form hold, as initial values of an unbound one."""
        return [
            {
                name: field.widget.value_from_datadict(block.data, {}, block.add_prefix(name))
                for name, field in block.fields.items()
            }
            for block in self.blocks.forms
        ]

    # --- Rendering ------------------------------------------------------------------------------------

    def block_list(self) -> list[dict]:
        removable = len(self.blocks.forms) > max(self.min_blocks, 1)
        return [
            {
                "form": block,
                "index": index,
                "title": self.block_title % {"number": index + 1},
                "removable": removable,
            }
            for index, block in enumerate(self.blocks.forms)
        ]

    def can_add(self) -> bool:
        return len(self.blocks.forms) < self.max_blocks()

    def get_context(self):
        # The error summary names every block's errors too, each linked to its field.
        context = super().get_context()
        context["errors"] = self.error_class(
            [error for error in self.non_field_errors().as_data() if error.code != BLOCKS_INVALID]
        )
        fields = []  # the blocks' first: they come first on the page
        for block in self.block_list():
            for message in block["form"].non_field_errors():
                context["errors"].append(f"{block['title']}: {message}")
            for bound in block["form"]:
                if bound.errors:
                    label = f"{block['title']} — {bound.label}"
                    fields.append((SimpleNamespace(auto_id=bound.auto_id, label=label), bound.errors))
        context["fields"] = fields + list(context["fields"])
        return context

    def review_groups(self) -> list[tuple]:
        """The review's groups of a valid step: one per block, then this form's own."""
        groups = []
        for number, block in enumerate(self.item_blocks, start=1):
            rows = [row for _title, rows in review_sections({"": block})[0]["groups"] for row in rows]
            groups.append((self.block_title % {"number": number}, rows))
        return groups + review_sections({"": self})[0]["groups"]


# --- The steps ------------------------------------------------------------------------------------------


# eHealth's science_degree, in the order the fields are shown.
SCIENCE_DEGREE_MEMBERS = (
    "degree",
    "institution_name",
    "country",
    "city",
    "diploma_number",
    "speciality",
    "issued_date",
)


class EducationForm(BlocksForm):
    """Diplomas (one or more) and a science degree if the doctor has one."""

    block_form = EducationBlock
    list_key = "educations"
    serializer = part_serializer(DoctorSerializer, "educations", "science_degree")
    own_key = "science_degree"
    own_prefix = "science_"
    block_title = _("Diploma %(number)s")
    add_label = _("Add one more diploma")
    payload_keys = ("doctor.educations", "doctor.science_degree")

    science_country = CodeField(
        label=_("Country"), required=False, help_text=_("A two-letter code, for example UA.")
    )
    science_city = NameField(label=_("City"), required=False)
    science_degree = forms.ChoiceField(
        label=_("Science degree"), choices=dictionary_field_choices("SCIENCE_DEGREE"), required=False
    )
    science_institution_name = NameField(label=_("Institution"), required=False)
    science_diploma_number = forms.CharField(label=_("Diploma number"), required=False)
    science_speciality = NameField(label=_("Speciality"), required=False)
    science_issued_date = date_field(_("Date of issue"), required=False)

    groups = [
        (
            _("Science degree (if the doctor has one)"),
            [f"science_{name}" for name in SCIENCE_DEGREE_MEMBERS],
            {"grid": True, "wide": ["science_institution_name"]},
        )
    ]


class QualificationsForm(BlocksForm):
    """Internships, specialisations and other training (optional)."""

    block_form = QualificationBlock
    list_key = "qualifications"
    serializer = part_serializer(DoctorSerializer, "qualifications")
    min_blocks = 0
    block_title = _("Qualification %(number)s")
    add_label = _("Add one more qualification")
    payload_keys = ("doctor.qualifications",)


class SpecialitiesForm(BlocksForm):
    """The doctor's specialities, one of them the main one."""

    block_form = SpecialityBlock
    list_key = "specialities"
    serializer = part_serializer(DoctorSerializer, "specialities")
    block_title = _("Speciality %(number)s")
    add_label = _("Add one more speciality")
    payload_keys = ("doctor.specialities",)


class PlaceForm(JobForm):
    """Where the doctor receives patients, the position and the start date."""

    division_required = True


class InvitationSendForm(forms.Form):
    """The review: nothing to fill in, the button sends the invitation."""


DOCTOR_STEPS = [
    (STEP_PERSON, PersonForm),
    (STEP_EDUCATION, EducationForm),
    (STEP_QUALIFICATIONS, QualificationsForm),
    (STEP_SPECIALITIES, SpecialitiesForm),
    (STEP_PLACE, PlaceForm),
    (STEP_REVIEW, InvitationSendForm),
]
