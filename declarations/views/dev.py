"""Development only (mounted when DEV_OUTBOX_ENABLED): the SMS the portal has sent, beside the emails, so
whoever tries the declaration flow on a fresh setup can read the patient's code."""

from django.shortcuts import render
from django.urls import path

from ..sms import sms_list_recent


def dev_sms_outbox(request):
    return render(request, "declarations/dev/sms_outbox.html", {"messages_sent": sms_list_recent()})


urlpatterns = [path("dev/outbox/sms/", dev_sms_outbox, name="dev-sms-outbox")]
