"""A CNAP applies to join the monitoring: the details, then the signed application text.

The typed details live in the session until the signed submit; nothing is stored before it. The
submitted page is shown only to the session that submitted the application.
"""

import base64
import datetime
import hashlib

from allauth.core.ratelimit import consume_or_429
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ..forms import JoinDetailsForm, JoinSignForm
from ..models import Cnap, JoiningApplication
from ..services import JOINING_TEXT_VALID_DAYS, joining_application_submit, joining_application_text

SESSION_DETAILS = "monitoring_join"
SESSION_SUBMITTED = "monitoring_join_submitted"
STEP_SIGN = "sign"
STEP_TEXT = "text"  # the text to sign, as a download


@never_cache
def join(request):
    details = request.session.get(SESSION_DETAILS)
    step = request.GET.get("step")
    if step in (STEP_SIGN, STEP_TEXT) and details:
        fields = _fields_from_session(details)
        if fields is None:  # the CNAP left the registry since: ask again
            del request.session[SESSION_DETAILS]
            return redirect("monitoring:join")
        if step == STEP_TEXT:
            return _text_download(fields, details)
        return _sign_step(request, fields, details)
    return _details_step(request, details)


def _details_step(request, details):
    if request.method == "POST":
        form = JoinDetailsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            request.session[SESSION_DETAILS] = {
                "cnap": data["cnap"].code,
                "organisation_edrpou": data["organisation_edrpou"],
                "contact_email": data["contact_email"],
                "proposed_base_url": data["proposed_base_url"],
                "day": timezone.localdate().isoformat(),
            }
            return redirect(f"{reverse('monitoring:join')}?step={STEP_SIGN}")
    else:
        form = JoinDetailsForm(initial=details or {})
    return render(request, "monitoring/join/details.html", {"form": form, "step": 1})


def _fields_from_session(details: dict) -> dict | None:
    cnap = Cnap.objects.filter(code=details["cnap"], is_active=True).first()
    if cnap is None:
        return None
    return {
        "cnap": cnap,
        "organisation_edrpou": details["organisation_edrpou"],
        "contact_email": details["contact_email"],
        "proposed_base_url": details["proposed_base_url"],
    }


def _text(fields: dict, details: dict) -> str:
    return joining_application_text(**fields, day=datetime.date.fromisoformat(details["day"]))


def _text_filename(fields: dict) -> str:
    return f"joining-application-{fields['cnap'].code}.txt"


def _text_download(fields: dict, details: dict) -> HttpResponse:
    response = HttpResponse(_text(fields, details).encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_text_filename(fields)}"'
    return response


def _sign_step(request, fields: dict, details: dict):
    if timezone.localdate() - datetime.date.fromisoformat(details["day"]) > datetime.timedelta(
        days=JOINING_TEXT_VALID_DAYS
    ):
        # A text too old to be accepted is dated again before anyone signs it.
        details["day"] = timezone.localdate().isoformat()
        request.session[SESSION_DETAILS] = details
    text = _text(fields, details)
    submit_errors = []
    if request.method == "POST":
        if limited := consume_or_429(request, action="monitoring_join"):
            return limited
        form = JoinSignForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                application = joining_application_submit(
                    **fields, signed_content=text, signature=form.cleaned_data["signed"]
                )
            except ValidationError as error:
                for name, errors in error.message_dict.items():
                    if name == "signature":
                        form.add_error("signature", errors)
                    else:
                        submit_errors += errors
            else:
                del request.session[SESSION_DETAILS]
                request.session[SESSION_SUBMITTED] = [
                    *request.session.get(SESSION_SUBMITTED, []),
                    application.pk,
                ]
                return redirect("monitoring:join-submitted", application_id=application.pk)
    else:
        form = JoinSignForm()
    document = text.encode("utf-8")
    return render(
        request,
        "monitoring/join/sign.html",
        {
            "form": form,
            "step": 2,
            "fields": fields,
            "text": text,
            "document_base64": base64.b64encode(document).decode(),
            "document_sha256": hashlib.sha256(document).hexdigest(),
            "text_filename": _text_filename(fields),
            "submit_errors": submit_errors,
        },
    )


@never_cache
def join_submitted(request, application_id):
    if application_id not in request.session.get(SESSION_SUBMITTED, []):
        raise Http404
    application = JoiningApplication.objects.select_related("cnap").filter(pk=application_id).first()
    if application is None:
        raise Http404
    return render(request, "monitoring/join/submitted.html", {"application": application})
