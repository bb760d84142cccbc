"""Serializer bases shared by the apps (a module DRF's settings do not import, so apps may import it early)."""

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


# A serializer whose bound fields are built once per class, not for every instance. DRF deep-copies
# every declared field — nested serializers and their fields too — each time a serializer is made: most
# of the CPU of validating an eHealth payload or rendering a facility. The fields of these serializers
# keep no per-request state (no `context`, `partial` or `instance` is read through them), so one bound
# set per class serves every instance and thread. (Comments, not a docstring: the schema would show it.)
class SharedFieldsSerializer(serializers.Serializer):
    @property
    def fields(self):
        shared = type(self).__dict__.get("_shared_fields")
        if shared is None:
            shared = BindingDict(self)
            for name, field in self.get_fields().items():
                shared[name] = field
            type(self)._shared_fields = shared
        return shared
