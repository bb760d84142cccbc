"""A person's identity as the admin shows it: the gender in words, the identity documents, the phones.
For any model with `gender`, `documents` and `phones` (the registry's Party, declarations' Person)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ehealth_portal.admin import pretty_json

from .labels import code_label, phones_text


class PersonFieldsAdminMixin:
    @admin.display(description=_("gender"), ordering="gender")
    def gender_display(self, obj):
        return code_label("GENDER", obj.gender)

    @admin.display(description=_("identity documents"))
    def documents_display(self, obj):
        return pretty_json(obj.documents) if obj.documents else "—"

    @admin.display(description=_("phones"))
    def phones_display(self, obj):
        return phones_text(obj.phones)
