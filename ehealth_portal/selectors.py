from django.shortcuts import get_object_or_404

from .models import Email


def email_list_recent(*, limit: int = 100):
    return Email.objects.order_by("-created_at")[:limit]


def email_get(*, email_id: int) -> Email:
    return get_object_or_404(Email, pk=email_id)
