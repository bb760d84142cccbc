"""Public read APIs for reference data, in eHealth's shape (ehealth-api.md §6)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import dictionary_list, dictionary_values_map, global_parameters_as_dict


class DictionaryFilterSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=100, help_text="Exact name, e.g. GENDER.")
    # allow_null: without it DRF reads a missing boolean query parameter as False.
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class DictionarySerializer(serializers.Serializer):
    name = serializers.CharField()
    values = serializers.SerializerMethodField(help_text="Active values: key → Ukrainian label.")
    labels = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_values(self, obj) -> dict[str, str]:
        return dictionary_values_map(dictionary=obj)


class DictionaryListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []  # public reference data: no session, no CSRF, same answer for everyone

    @extend_schema(
        operation_id="dictionaries_list",
        summary="List dictionaries",
        description="All dictionaries (not paged), each with its active values. Deactivated values are omitted.",
        parameters=[DictionaryFilterSerializer],
        responses=DictionarySerializer(many=True),
        tags=["dictionaries"],
    )
    def get(self, request):
        filters = DictionaryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        dictionaries = dictionary_list(**filters.validated_data)
        return Response(DictionarySerializer(dictionaries, many=True).data)


class GlobalParameterListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="global_parameters_list",
        summary="Global parameters",
        description="Every global parameter as name → value; values are strings, as in eHealth.",
        responses=OpenApiResponse(
            response={"type": "object", "additionalProperties": {"type": "string"}},
            description='e.g. {"adult_age": "18", "declaration_term": "365"}',
        ),
        tags=["global parameters"],
    )
    def get(self, request):
        return Response(global_parameters_as_dict())
