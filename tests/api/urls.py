"""A small API used only by the envelope tests: nested input, a conflict, a protected and a paged list."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.api import Conflict, Envelope, PagePagination


class PhoneSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["MOBILE", "LAND_LINE"])
    number = serializers.RegexField(r"^\+380\d{9}$")


class OwnerSerializer(serializers.Serializer):
    last_name = serializers.CharField()
    phones = PhoneSerializer(many=True)


class PayloadSerializer(serializers.Serializer):
    edrpou = serializers.CharField(max_length=8)
    owner = OwnerSerializer()


class EchoApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = PayloadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["edrpou"] == "00000000":
            raise DjangoValidationError({"edrpou": ["Not in the state register."]})
        if serializer.validated_data["edrpou"] == "99999999":
            raise Conflict("LegalEntity is CLOSED and cannot be updated.")
        return Response(serializer.validated_data, status=201)


class ProtectedApi(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


class NumbersApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(list(range(1, 121)), request, view=self)
        return paginator.get_paginated_response(page)


class UrgentApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(Envelope(data={"id": 1}, urgent={"security": {"secret_key": "shown once"}}))


urlpatterns = [
    path("api/echo", EchoApi.as_view()),
    path("api/protected", ProtectedApi.as_view()),
    path("api/numbers", NumbersApi.as_view()),
    path("api/urgent", UrgentApi.as_view()),
]
