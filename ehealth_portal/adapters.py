from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from .services import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from invitations only, and allauth's mail goes through the outbox."""

    def is_open_for_signup(self, request):
        return False

    def send_mail(self, template_prefix, email, context):
        # The base context allauth's own send_mail gives its templates ({{ email }}, current_site).
        request = allauth_context.request
        context = {"request": request, "email": email, "current_site": get_current_site(request), **context}
        message = self.render_mail(template_prefix, email, context)
        html_body = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"), ""
        )
        if message.content_subtype == "html":
            html_body, text_body = message.body, ""
        else:
            text_body = message.body
        email_queue(to=email, subject=message.subject, text_body=text_body, html_body=html_body)
