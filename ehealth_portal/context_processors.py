from django.conf import settings


def portal(request):
    return {"dev_outbox_enabled": settings.DEV_OUTBOX_ENABLED}
