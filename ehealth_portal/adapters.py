from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core import ratelimit
from allauth.core.internal.ratelimit import consume, get_ip
from django.contrib.sites.shortcuts import get_current_site

from .services import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from invitations only, and allauth's mail goes through the outbox.

    Failed sign-ins are counted so that an attacker cannot lock the owner out (ACCOUNT_RATE_LIMITS):
    - "login_failed": per address across accounts ("ip") and per account *and* address ("key"), so
      guessing from one address stops that address only;
    - "login_failed_account": per account from every address, high enough that one address can never
      reach it, low enough to stop guessing spread over many addresses.
    """

    def is_open_for_signup(self, request):
        return False

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth's key is the account alone; the client's address (IPv6: its /64) is added to it.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{get_ip(request)}"

    def _login_attempts_account_key(self, request, **credentials):
        return super()._get_login_attempts_cache_key(request, **credentials)

    def pre_authenticate(self, request, **credentials):
        super().pre_authenticate(request, **credentials)
        account_usage = consume(
            request,
            app="allauth.account",
            action="login_failed_account",
            key=self._login_attempts_account_key(request, **credentials),
        )
        if not account_usage:
            raise self.validation_error("too_many_login_attempts")
        # A successful sign-in rolls back this attempt's counts, the account-wide one included.
        self._login_failed_rl_usage.usage.extend(account_usage.usage)

    def _delete_login_attempts_cached_email(self, request, **credentials):
        # After a password reset (the owner proved the mailbox) the account-wide count starts again too.
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request,
            action="login_failed_account",
            key=self._login_attempts_account_key(request, **credentials),
        )

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
