"""Operators' admin of declarations: verifying or rejecting the ones that wait (real action POSTs,
through the service, the operator recorded), refusals that change nothing, the scans viewable, and what
is never shown (secret words, SMS codes and their hashes)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from declarations.models import Declaration, DeclarationRequest, Person, SmsMessage, Verification
from registry.services import employee_dismiss
from tests.factories import SuperuserFactory, UserFactory

from .lifecycle_data import PNG, admin_samples, declaration_make, declaration_state

pytestmark = pytest.mark.usefixtures("reference_data")

CHANGELIST = reverse("admin:declarations_declaration_changelist")
SECRET = "Квітка2024"  # the sample patient's secret word


@pytest.fixture
def operator(client):
    user = SuperuserFactory(email="operator@nszu.example", first_name="Ірина", last_name="Оператор")
    client.force_login(user)
    return user


@pytest.fixture
def waiting(clinic) -> Declaration:
    return admin_samples(clinic.division)


def action(client, name, declarations, **extra):
    return client.post(
        CHANGELIST,
        {"action": name, ACTION_CHECKBOX_NAME: [str(d.pk) for d in declarations], **extra},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_an_operator_verifies_a_waiting_declaration(client, operator, waiting):
    response = action(client, "verify", [waiting])
    assert response.status_code == 200
    waiting.refresh_from_db()
    assert waiting.status == Declaration.Status.ACTIVE and waiting.updated_by == operator
    assert waiting.history.latest().history_user == operator
    assert messages_of(response) == ["Підтверджено 1 декларацію: вона чинна."]


def test_rejecting_asks_for_a_confirmation_first(client, operator, waiting):
    before = declaration_state(waiting)
    page = action(client, "reject", [waiting])
    assert page.status_code == 200 and 'name="_confirm"' in page.content.decode()
    assert declaration_state(waiting) == before

    action(client, "reject", [waiting], _confirm="1")
    waiting.refresh_from_db()
    assert waiting.status == Declaration.Status.REJECTED and waiting.updated_by == operator


def test_a_declaration_not_waiting_is_refused_by_name_and_left_as_it_was(client, operator, clinic, waiting):
    active = declaration_make(clinic)
    before = declaration_state(active)
    response = action(client, "verify", [active, waiting])
    messages = messages_of(response)
    assert messages[0] == "Підтверджено 1 декларацію: вона чинна."
    assert len(messages) == 2 and messages[1].startswith(active.declaration_number)
    assert declaration_state(active) == before


def test_an_operator_who_may_only_view_cannot_verify(client, waiting):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_declaration"))
    client.force_login(viewer)
    before = declaration_state(waiting)
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and 'value="verify"' not in page.content.decode()
    action(client, "verify", [waiting])
    assert declaration_state(waiting) == before


def test_declarations_cannot_be_added_changed_or_deleted_in_a_form(client, operator, waiting):
    before = declaration_state(waiting)
    assert client.get(reverse("admin:declarations_declaration_add")).status_code == 403
    client.post(reverse("admin:declarations_declaration_change", args=[waiting.pk]), {"status": "active"})
    assert client.post(reverse("admin:declarations_declaration_delete", args=[waiting.pk])).status_code == 403
    assert declaration_state(waiting) == before


def test_the_declarations_page_links_the_scans_which_open_sandboxed(client, operator, clinic, waiting):
    page = client.get(reverse("admin:declarations_declaration_change", args=[waiting.pk])).content.decode()
    scan = waiting.declaration_request.uploads.get()
    url = reverse(
        "admin:declarations_declarationrequest_scan", args=[waiting.declaration_request_id, scan.pk]
    )
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Security-Policy"] == "sandbox"
    # A scan is found only under its own request.
    other = declaration_make(clinic).declaration_request_id
    assert (
        client.get(reverse("admin:declarations_declarationrequest_scan", args=[other, scan.pk])).status_code
        == 404
    )


def test_scans_are_not_for_a_signed_in_person_without_the_admin(waiting):
    scan = waiting.declaration_request.uploads.get()
    url = reverse(
        "admin:declarations_declarationrequest_scan", args=[waiting.declaration_request_id, scan.pk]
    )
    client = Client()
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_no_admin_page_shows_a_secret_word_or_an_sms_code(client, operator, waiting):
    person = Person.objects.get()
    request = DeclarationRequest.objects.get()
    assert request.data["person"]["secret"] == SECRET  # it is there, and must not be shown
    pages = [
        reverse("admin:declarations_person_changelist"),
        reverse("admin:declarations_person_change", args=[person.pk]),
        reverse("admin:declarations_person_history", args=[person.pk]),
        reverse("admin:declarations_declarationrequest_changelist"),
        reverse("admin:declarations_declarationrequest_change", args=[request.pk]),
        reverse("admin:declarations_declaration_change", args=[waiting.pk]),
        reverse("admin:declarations_smsmessage_changelist"),
        reverse("admin:declarations_smsmessage_change", args=[SmsMessage.objects.get().pk]),
        reverse("admin:declarations_verification_changelist"),
        reverse("admin:declarations_verification_change", args=[Verification.objects.get().pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SECRET not in html and person.secret_encrypted not in html, url
        assert "eHealth: 4821" not in html and "pbkdf2_sha256" not in html, url
    assert "Код авторизації дій в системі eHealth: ••••" in client.get(pages[6]).content.decode()


def test_a_dismissal_shows_in_the_declarations_history_in_words(client, operator, clinic):
    declaration = declaration_make(clinic)
    employee_dismiss(employee=clinic.family_doctor, actor=clinic.head)
    page = client.get(
        reverse("admin:declarations_declaration_history", args=[declaration.pk])
    ).content.decode()
    assert "лікаря звільнено" in page


def test_the_dashboard_counts_the_declarations_waiting_for_verification(client, operator, clinic, waiting):
    declaration_make(clinic, status="pending_verification")
    declaration_make(clinic)
    figures = client.get(reverse("admin:index")).context["dashboard"]
    figure = next(figure for figure in figures if figure["url"].startswith(CHANGELIST))
    assert figure["count"] == 2
    assert figure["text"] == "2 декларації чекають на перевірку документів пацієнтів"
    listed = client.get(figure["url"]).context["cl"].result_count
    assert listed == 2


def test_the_declarations_section_lists_its_models(client, operator, waiting):
    response = client.get(reverse("admin:section", args=["declarations"]))
    assert response.status_code == 200
    [section] = response.context["app_list"]
    assert str(section["name"]) == "Декларації"
    assert [model["object_name"] for model in section["models"]] == [
        "Declaration",
        "DeclarationRequest",
        "Person",
        "Verification",
        "SmsMessage",
    ]
