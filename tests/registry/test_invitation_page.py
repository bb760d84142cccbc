"""The invitation page: the consent, the four situations of whoever opens the link, declining, and links
that no longer work — each refusal changing nothing."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from registry import permissions
from registry.addresses import address_text
from registry.models import Employee, EmployeeRequest, Party
from registry.services import employee_request_create, employee_request_resend
from tests import staff_data
from tests.accounts.helpers import PASSWORD as ACCOUNT_PASSWORD
from tests.accounts.helpers import create_account, main_html, signed_in_user_id
from tests.factories import EmployeeFactory, LegalEntityFactory, PartyFactory

pytestmark = pytest.mark.usefixtures("reference_data")

PASSWORD = "Zhovtyi-Kashtan-na-Podoli-2026"
CONSENT = (
    "I agree to be registered in the eHealth system at %(facility)s in the role %(role)s (%(position)s)."
)
User = get_user_model()


def head_of(legal_entity):
    party = PartyFactory(user=create_account(f"head-{legal_entity.edrpou}@clinic.example"))
    return EmployeeFactory(legal_entity=legal_entity, party=party, employee_type="OWNER")


@pytest.fixture
def clinic():
    legal_entity = LegalEntityFactory()
    head_of(legal_entity)
    return legal_entity


def invite(legal_entity, run_on_commit, outbox, **party) -> tuple[EmployeeRequest, str]:
    """An HR invitation of the facility, as the head sends it; the token from the email."""
    head = legal_entity.employees.get(employee_type="OWNER")
    data = staff_data.employee_request("HR", position="P14", party=party)
    request, _token = run_on_commit(
        employee_request_create, legal_entity=legal_entity, actor=head.party.user, data=data
    )
    return request, re.search(r"/invite/([\w-]+)/", outbox[-1].body)[1]


@pytest.fixture
def invitation(clinic, run_on_commit, outbox):
    return invite(
        clinic, run_on_commit, outbox, email="hr@clinic.example", last_name="Мельник", first_name="Ірина"
    )


def url(token: str) -> str:
    return reverse("registry:invitation", args=[token])


def state() -> dict:
    """What answering an invitation changes."""
    return {
        "users": User.objects.count(),
        "employees": Employee.objects.count(),
        "linked": Party.objects.filter(user__isnull=False).count(),
        "requests": sorted(EmployeeRequest.objects.values_list("status", flat=True)),
    }


def cabinet_url(legal_entity) -> str:
    return f"{reverse('registry:cabinet')}?facility={legal_entity.pk}"


# --- What the page shows ------------------------------------------------------------------------------


def test_the_page_shows_the_consent_the_facility_and_the_person(client, clinic, invitation):
    request, token = invitation
    html = main_html(client.get(url(token)))
    with translation.override("uk"):
        consent = gettext(CONSENT) % {
            "facility": clinic.name,
            "role": "Відповідальний за кадри",
            "position": "Спеціаліст відділу кадрів",
        }
    assert escape(consent) in html
    assert escape(address_text(clinic.addresses, address_type="REGISTRATION")) in html
    assert "Мельник Ірина Григорович" in html  # staff_data's patronymic
    assert clinic.edrpou in html


# --- (a) No account yet -----------------------------------------------------------------------------------


def test_a_new_person_sets_a_password_accepts_and_opens_that_facilitys_cabinet(client, clinic, invitation):
    _request, token = invitation
    html = main_html(client.get(url(token)))
    assert html.count('type="password"') == 2 and 'value="decline"' in html
    response = client.post(url(token), {"action": "accept", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response.url == cabinet_url(clinic)
    user = User.objects.get(email="hr@clinic.example")
    assert str(signed_in_user_id(client)) == str(user.pk) and user.check_password(PASSWORD)
    assert permissions.roles_of(user, clinic) == {"HR"}
    assert clinic.name in main_html(client.get(response.url))


# --- (b) An account exists, not signed in ---------------------------------------------------------------


def test_an_existing_account_is_asked_to_sign_in_and_comes_back(client, clinic, invitation):
    request, token = invitation
    create_account("hr@clinic.example")
    before = state()
    html = main_html(client.get(url(token)))
    login = f"/accounts/login/?next=%2Finvite%2F{token}%2F"
    assert f'href="{login}"' in html
    assert 'type="password"' not in html
    # Posting "accept" without signing in only leads to the sign-in; nobody takes the account over.
    response = client.post(url(token), {"action": "accept", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response.url == login
    assert state() == before
    assert User.objects.get(email="hr@clinic.example").check_password(ACCOUNT_PASSWORD)
    # Signed in, back on the page: accept.
    response = client.post(login, {"login": "hr@clinic.example", "password": ACCOUNT_PASSWORD})
    assert response.status_code == 302 and response.url == url(token)
    assert 'value="accept"' in main_html(client.get(url(token)))
    response = client.post(url(token), {"action": "accept"})
    assert response.status_code == 302 and response.url == cabinet_url(clinic)
    assert permissions.roles_of(User.objects.get(email="hr@clinic.example"), clinic) == {"HR"}


# --- (c) Signed in as the invitee ----------------------------------------------------------------------


def test_the_signed_in_invitee_accepts_with_one_button(client, clinic, invitation):
    _request, token = invitation
    user = create_account("hr@clinic.example")
    client.force_login(user)
    html = main_html(client.get(url(token)))
    assert 'value="accept"' in html and 'value="decline"' in html and 'type="password"' not in html
    response = client.post(url(token), {"action": "accept"})
    assert response.status_code == 302 and response.url == cabinet_url(clinic)
    assert EmployeeRequest.objects.get().status == "APPROVED"
    assert permissions.roles_of(user, clinic) == {"HR"}


# --- (d) Signed in as someone else ------------------------------------------------------------------------


def test_another_account_is_told_to_sign_out_and_cannot_answer(client, invitation):
    _request, token = invitation
    client.force_login(create_account("someone@clinic.example"))
    before = state()
    response = client.get(url(token))
    html = main_html(response)
    assert "hr@clinic.example" in html and "someone@clinic.example" in html
    assert 'value="accept"' not in html and 'value="decline"' not in html
    assert 'action="/accounts/logout/"' in html
    for action in ("accept", "decline"):
        response = client.post(url(token), {"action": action})
        assert response.status_code == 403
    assert state() == before
    assert EmployeeRequest.objects.get().status == "NEW"


# --- Declining -----------------------------------------------------------------------------------------


def test_declining_closes_the_invitation_and_says_so(client, invitation):
    _request, token = invitation
    before = state()
    response = client.post(url(token), {"action": "decline"})
    assert response.status_code == 200
    assert "invitation_declined.html" in [template.name.split("/")[-1] for template in response.templates]
    assert EmployeeRequest.objects.get().status == "REJECTED"
    assert state() == {**before, "requests": ["REJECTED"]}
    assert client.get(url(token)).status_code == 410
    assert signed_in_user_id(client) is None


# --- Links that no longer work ---------------------------------------------------------------------------


def test_a_superseded_link_shows_its_own_message_and_changes_nothing(
    client, clinic, invitation, run_on_commit
):
    request, old_token = invitation
    head = clinic.employees.get(employee_type="OWNER")
    run_on_commit(employee_request_resend, employee_request=request, actor=head.party.user)
    before = state()
    response = client.get(url(old_token))
    assert response.status_code == 410
    with translation.override("uk"):
        assert gettext("This invitation was sent again") in main_html(response)
    for action in ("accept", "decline"):
        response = client.post(
            url(old_token), {"action": action, "password1": PASSWORD, "password2": PASSWORD}
        )
        assert response.status_code == 410
    assert state() == before == {**before, "requests": ["NEW"]}


@pytest.mark.parametrize(
    ("problem", "heading"),
    [("expired", "This invitation has expired"), ("used", "This invitation has already been used")],
)
def test_expired_and_used_links_are_refused_with_a_message(client, invitation, problem, heading):
    _request, token = invitation
    if problem == "expired":
        EmployeeRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    else:
        EmployeeRequest.objects.update(status="APPROVED")
    before = state()
    for response in (
        client.get(url(token)),
        client.post(url(token), {"action": "accept", "password1": PASSWORD, "password2": PASSWORD}),
        client.post(url(token), {"action": "decline"}),
    ):
        assert response.status_code == 410
        with translation.override("uk"):
            assert gettext(heading) in main_html(response)
    assert state() == before
    assert not User.objects.filter(email="hr@clinic.example").exists()


def test_an_unknown_link_is_404(client, invitation):
    _request, token = invitation
    response = client.get(url(("y" if token[0] == "x" else "x") + token[1:]))
    assert response.status_code == 404


def test_answering_needs_the_pages_csrf_token(invitation):
    _request, token = invitation
    client = Client(enforce_csrf_checks=True)
    before = state()
    for action in ("accept", "decline"):
        response = client.post(url(token), {"action": action, "password1": PASSWORD, "password2": PASSWORD})
        assert response.status_code == 403
    assert state() == before


# --- A person working at several facilities ---------------------------------------------------------------


def test_a_person_working_at_x_accepting_ys_invitation_gets_both_in_the_cabinet(
    client, clinic, run_on_commit, outbox
):
    person = {"email": "doctor@clinic.example", "tax_id": staff_data.rnokpp(), "last_name": "Мельник"}
    _request, token_x = invite(clinic, run_on_commit, outbox, **person)
    response = client.post(url(token_x), {"action": "accept", "password1": PASSWORD, "password2": PASSWORD})
    assert response.url == cabinet_url(clinic)

    other = LegalEntityFactory()
    head_of(other)
    _request, token_y = invite(other, run_on_commit, outbox, **person)
    response = client.post(url(token_y), {"action": "accept"})  # still signed in from X
    assert response.status_code == 302 and response.url == cabinet_url(other)

    user = User.objects.get(email="doctor@clinic.example")
    assert set(permissions.facilities_of(user)) == {clinic, other}
    assert Party.objects.filter(user=user).count() == 1
    page = client.get(response.url)
    assert page.context["legal_entity"] == other
    switcher = re.search(r'<select id="facility-switcher".*?</select>', main_html(page), re.S)[0]
    assert escape(str(clinic)) in switcher and escape(str(other)) in switcher
