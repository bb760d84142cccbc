"""Password reset: the email goes through the outbox, the link sets a new password once."""

import re

from django.core import mail
from django.test import Client

from ehealth_portal.models import Email

from .helpers import PASSWORD, main_html, sign_in, signed_in_user_id

NEW_PASSWORD = "a-brand-new-password-42"


def request_reset(client, email, django_capture_on_commit_callbacks):
    # The outbox sends after the transaction commits; run those callbacks (the task runs in-process).
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/accounts/password/reset/", {"email": email})


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_reset_request_sends_the_email_through_the_outbox(client, user, django_capture_on_commit_callbacks):
    response = request_reset(client, user.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"

    stored = Email.objects.get()
    assert stored.to == user.email
    assert stored.status == Email.Status.SENT
    assert stored.subject.startswith("[eHealth] ")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert reset_link(mail.outbox[0]) in stored.text_body
    # The message is in Ukrainian, the portal's language.
    assert "пароль" in mail.outbox[0].body.lower()


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, user, django_capture_on_commit_callbacks
):
    response = request_reset(client, "stranger@example.com", django_capture_on_commit_callbacks)
    # The same answer as for a real account (no account enumeration), and no mail to a stranger.
    assert response["Location"] == "/accounts/password/reset/done/"
    assert mail.outbox == []
    assert not Email.objects.exists()


def test_reset_link_sets_a_new_password(client, user, django_capture_on_commit_callbacks):
    request_reset(client, user.email, django_capture_on_commit_callbacks)
    link = reset_link(mail.outbox[0])

    response = client.get(link)
    assert response.status_code == 302  # the key moves from the URL into the session
    form_url = response["Location"]
    assert "set-password" in form_url
    page = client.get(form_url)
    assert 'name="password1"' in main_html(page) and 'for="id_password1"' in main_html(page)

    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/key/done/"
    assert signed_in_user_id(client) is None  # ACCOUNT_LOGIN_ON_PASSWORD_RESET is off

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert signed_in_user_id(client) is None
    fresh = Client()
    sign_in(fresh, user.email, PASSWORD)
    assert signed_in_user_id(fresh) is None
    sign_in(fresh, user.email, NEW_PASSWORD)
    assert signed_in_user_id(fresh) == str(user.pk)


def test_reset_link_works_only_once(client, user, django_capture_on_commit_callbacks):
    request_reset(client, user.email, django_capture_on_commit_callbacks)
    link = reset_link(mail.outbox[0])
    form_url = client.get(link)["Location"]
    client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    for attempt in (client, Client()):
        response = attempt.get(link, follow=True)
        assert response.context["token_fail"] is True
        assert 'name="password1"' not in main_html(response)
        response = attempt.post(
            form_url, {"password1": "yet-another-pass-99", "password2": "yet-another-pass-99"}
        )
        assert response.status_code == 200 and response.context["token_fail"] is True
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_weak_new_password_is_refused_next_to_the_field(client, user, django_capture_on_commit_callbacks):
    request_reset(client, user.email, django_capture_on_commit_callbacks)
    form_url = client.get(reset_link(mail.outbox[0]))["Location"]
    response = client.post(form_url, {"password1": "12345", "password2": "12345"})
    assert response.status_code == 200
    html = main_html(response)
    assert re.search(r'<input[^>]*name="password1"[^>]*aria-invalid="true"', html)
    assert re.search(r'<input[^>]*name="password1"[^>]*aria-describedby="[^"]*id_password1_error', html)
    assert 'id="id_password1_error"' in html and 'class="errorlist"' in html
    assert 'href="#id_password1"' in html  # the error summary links to the field
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
