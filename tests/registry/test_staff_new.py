"""Inviting staff other than doctors (/cabinet/staff/new/<type>/) and the chooser of roles."""

import pytest
from django.urls import reverse

from ehealth_portal.models import Email
from registry.models import Division, EmployeeRequest
from registry.payloads import employee_request_payload_validate
from tests import staff_data
from tests.accounts.helpers import main_html
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory
from tests.registry.test_doctor_wizard import person_fields

pytestmark = pytest.mark.django_db

ROLES = {"admin": "ADMIN", "accountant": "ACCOUNTANT", "assistant": "ASSISTANT"}


def form_url(slug: str) -> str:
    return reverse("registry:staff-new-other", args=[slug])


def employee(role: str, legal_entity=None):
    return EmployeeFactory(
        legal_entity=legal_entity or LegalEntityFactory(),
        employee_type=role,
        party=PartyFactory(user=UserFactory()),
    )


def fields(payload: dict) -> dict:
    job = {name: payload[name] for name in ("division_id", "position", "start_date") if name in payload}
    return {**person_fields(payload["party"]), **job}


def codes(form) -> dict:
    return {name: [error.code for error in items] for name, items in form.errors.as_data().items()}


@pytest.fixture
def clinic(reference_data):
    legal_entity = LegalEntityFactory()
    head = employee("OWNER", legal_entity)
    division = DivisionFactory(legal_entity=legal_entity)
    return legal_entity, head, division


@pytest.fixture
def head(client, clinic):
    client.force_login(clinic[1].party.user)
    return client


def nothing_sent() -> bool:
    return not EmployeeRequest.objects.exists() and not Email.objects.exists()


# --- The chooser -------------------------------------------------------------------------------------------


def test_the_chooser_offers_a_doctor_and_the_other_roles_and_hr_only_through_the_heads_signature(head):
    html = main_html(head.get(reverse("registry:staff-new")))
    assert reverse("registry:staff-new-doctor") in html
    for slug, label in (("admin", "Адміністратор"), ("accountant", "Бухгалтер"), ("assistant", "Асистент")):
        assert form_url(slug) in html and label in html
    assert "Відповідальний за кадри" in html  # HR: through the head's signed page, never unsigned here
    assert reverse("registry:hr-access") in html
    assert head.get(form_url("hr")).status_code == 404


def test_hr_sees_that_hr_access_is_the_heads_to_grant(client, clinic):
    client.force_login(employee("HR", clinic[0]).party.user)
    html = main_html(client.get(reverse("registry:staff-new")))
    assert reverse("registry:staff-new-doctor") in html
    assert f'href="{reverse("registry:hr-access")}"' not in html


@pytest.mark.parametrize("slug", ["hr", "doctor-x", "owner", "ADMIN", "pharmacist"])
def test_an_unknown_employee_type_is_404(head, slug):
    assert head.get(form_url(slug)).status_code == 404


# --- Other roles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ROLES)
def test_each_other_role_is_invited_with_the_exact_payload_and_one_email(
    head, clinic, slug, django_capture_on_commit_callbacks
):
    legal_entity, owner, division = clinic
    page = head.get(form_url(slug))
    assert page.status_code == 200
    payload = staff_data.employee_request(ROLES[slug], division_id=division.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = head.post(form_url(slug), fields(payload))
    assert response.status_code == 302 and response.url == reverse("registry:staff-new-sent")
    request = EmployeeRequest.objects.get()
    assert request.data == employee_request_payload_validate(
        {**payload, "legal_entity_id": str(legal_entity.pk)}
    )
    assert (request.employee_type, request.division, request.created_by) == (
        ROLES[slug],
        division,
        owner.party.user,
    )
    assert request.status == EmployeeRequest.Status.NEW
    assert Email.objects.get().to == payload["party"]["email"]
    sent = main_html(head.get(response.url))
    assert payload["party"]["email"] in sent and reverse("registry:staff-new") in sent


def test_the_place_of_service_is_optional_for_other_roles(head, clinic, django_capture_on_commit_callbacks):
    payload = staff_data.employee_request("ACCOUNTANT")
    with django_capture_on_commit_callbacks(execute=True):
        assert head.post(form_url("accountant"), fields(payload)).status_code == 302
    request = EmployeeRequest.objects.get()
    assert request.division is None and "division_id" not in request.data


@pytest.mark.parametrize("division", ["inactive", "foreign"])
def test_a_place_of_service_posted_by_hand_must_be_an_active_one_of_the_facility(head, clinic, division):
    other = (
        DivisionFactory(legal_entity=clinic[0], status=Division.Status.INACTIVE)
        if division == "inactive"
        else DivisionFactory()
    )
    response = head.post(
        form_url("admin"), fields(staff_data.employee_request("ADMIN", division_id=other.pk))
    )
    assert list(response.context["form"].errors) == ["division_id"]
    assert nothing_sent()


def test_an_email_of_another_person_is_refused_at_the_email_field(head):
    payload = staff_data.employee_request("ADMIN")
    PartyFactory(user=UserFactory(email=payload["party"]["email"]))
    response = head.post(form_url("admin"), fields(payload))
    assert response.status_code == 200
    assert codes(response.context["form"]) == {"email": ["email_other_person"]}
    assert 'id="id_email_error"' in main_html(response)
    assert nothing_sent()


def test_a_person_invited_twice_in_the_same_role_is_refused_at_the_tax_id(
    head, django_capture_on_commit_callbacks
):
    payload = staff_data.employee_request("ASSISTANT")
    with django_capture_on_commit_callbacks(execute=True):
        head.post(form_url("assistant"), fields(payload))
    response = head.post(form_url("assistant"), fields(payload))
    assert codes(response.context["form"]) == {"tax_id": ["employee_request_exists"]}
    assert EmployeeRequest.objects.count() == 1


def test_the_persons_rules_show_at_their_fields_all_at_once(head):
    payload = staff_data.employee_request("ADMIN")
    data = {
        **fields(payload),
        "birth_date": "2015-01-01",
        "position": "P99",
        "start_date": "",
        "last_name": "Ivanov",
    }
    form = head.post(form_url("admin"), data).context["form"]
    assert {"birth_date", "position", "start_date", "last_name"} <= set(form.errors)
    assert nothing_sent()


# --- Access ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["HR", "ADMIN"])
def test_hr_and_an_administrator_invite_too(client, clinic, role, django_capture_on_commit_callbacks):
    client.force_login(employee(role, clinic[0]).party.user)
    assert client.get(reverse("registry:staff-new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url("assistant"), fields(staff_data.employee_request("ASSISTANT")))
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["DOCTOR", "ACCOUNTANT", "ASSISTANT", "head of another facility"])
def test_who_may_not_invite_gets_403(client, clinic, who):
    legal_entity = clinic[0]
    person = employee("OWNER") if who.startswith("head") else employee(who, legal_entity)
    client.force_login(person.party.user)
    query = f"?facility={legal_entity.pk}"
    for url in (reverse("registry:staff-new"), form_url("admin"), reverse("registry:staff-new-sent")):
        assert client.get(url + query).status_code == 403
    assert (
        client.post(form_url("admin") + query, fields(staff_data.employee_request("ADMIN"))).status_code
        == 403
    )
    assert nothing_sent()


def test_the_sent_page_shows_only_this_sessions_request_of_this_facility(head, client):
    assert head.get(reverse("registry:staff-new-sent")).status_code == 404
    foreign = EmployeeFactory(party=PartyFactory(user=UserFactory()))
    session = head.session
    session["registry:staff-new-sent"] = str(
        EmployeeRequest.objects.create(
            legal_entity=foreign.legal_entity,
            employee_type="ADMIN",
            position="P4",
            email="x@clinic.example",
            data={},
            token_hash="0" * 64,
            expires_at="2030-01-01T00:00:00Z",
        ).pk
    )
    session.save()
    assert head.get(reverse("registry:staff-new-sent")).status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, clinic):
    response = client.get(form_url("admin"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
