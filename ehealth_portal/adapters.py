from allauth.account.adapter import DefaultAccountAdapter

from .services import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from invitations only, and allauth's mail goes through the outbox."""

    def is_open_for_signup(self, request):
        return False

    def send_mail(self, template_prefix, email, context):
        message = self.render_mail(template_prefix, email, context)
        html_body = next(
            (body for body, mime in getattr(message, "alternatives", []) if mime == "text/html"), ""
        )
        if message.content_subtype == "html":
            html_body, text_body = message.body, ""
        else:
            text_body = message.body
        email_queue(to=email, subject=message.subject, text_body=text_body, html_body=html_body)
