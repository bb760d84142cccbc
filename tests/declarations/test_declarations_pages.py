"""The cabinet's declarations: the list with its filters (in constant queries), one declaration, and its
termination with a required reason; another facility's declaration is unknown (404) and a refused
termination changes nothing."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from declarations.models import Declaration
from tests.factories import EmployeeFactory, UserFactory

from .conftest import party_make
from .lifecycle_data import declaration_make, declaration_state

LIST = reverse("declarations:declaration-list")


def detail_url(declaration) -> str:
    return reverse("declarations:declaration-detail", args=[declaration.pk])


def terminate_url(declaration) -> str:
    return reverse("declarations:declaration-terminate", args=[declaration.pk])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def receptionist(clinic) -> Client:
    return signed_in(clinic.receptionist)


@pytest.fixture
def doctor(clinic) -> Client:
    return signed_in(clinic.family_doctor.party.user)


def numbers(response) -> list[str]:
    return [declaration.declaration_number for declaration in response.context["page"]]


# --- The list ---------------------------------------------------------------------------------------


def test_the_pages_of_a_filtered_list_keep_its_filters(receptionist, clinic, monkeypatch):
    monkeypatch.setattr("declarations.views.declarations.DECLARATIONS_PER_PAGE", 2)
    for _ in range(3):
        declaration_make(clinic)
    html = receptionist.get(LIST, {"status": "active"}).content.decode()
    assert 'href="?status=active&amp;page=2" rel="next"' in html
    second = receptionist.get(LIST, {"status": "active", "page": 2})
    assert (
        len(numbers(second)) == 1 and 'href="?status=active&amp;page=1" rel="prev"' in second.content.decode()
    )


def test_the_list_shows_the_facilitys_declarations_newest_first(receptionist, clinic, other_clinic):
    older = declaration_make(clinic)
    newer = declaration_make(clinic, employee=clinic.therapist)
    declaration_make(other_clinic)

    response = receptionist.get(LIST)

    assert response.status_code == 200
    assert numbers(response) == [newer.declaration_number, older.declaration_number]
    html = response.content.decode()
    assert newer.person.full_name in html and str(clinic.therapist.party) in html
    assert detail_url(older) in html


def test_the_list_filters_by_doctor_status_and_the_day_signed(receptionist, clinic):
    today = timezone.now()
    by_therapist = declaration_make(clinic, employee=clinic.therapist)
    pending = declaration_make(clinic, status="pending_verification")
    last_month = declaration_make(clinic, signed_at=today - datetime.timedelta(days=30))

    assert numbers(receptionist.get(LIST, {"employee": clinic.therapist.pk})) == [
        by_therapist.declaration_number
    ]
    assert numbers(receptionist.get(LIST, {"status": "pending_verification"})) == [pending.declaration_number]
    day = (today - datetime.timedelta(days=30)).date()
    window = {"date_from": day - datetime.timedelta(days=1), "date_to": day}
    assert numbers(receptionist.get(LIST, window)) == [last_month.declaration_number]
    assert numbers(receptionist.get(LIST, {"date_from": today.date()})) == [
        pending.declaration_number,
        by_therapist.declaration_number,
    ]


def test_another_facilitys_doctor_is_not_a_filter(receptionist, clinic, other_clinic):
    declaration_make(clinic)
    response = receptionist.get(LIST, {"employee": other_clinic.family_doctor.pk})
    assert response.context["form"].errors["employee"]
    assert len(numbers(response)) == 1  # the filter is left out, not the facility


def test_the_list_makes_the_same_queries_for_one_or_twenty_declarations(
    receptionist, clinic, django_assert_num_queries
):
    declaration_make(clinic)
    receptionist.get(LIST)  # the session's facility and the dictionaries are settled
    with CaptureQueriesContext(connection) as one:
        assert len(numbers(receptionist.get(LIST))) == 1
    for number in range(19):
        doctor = (clinic.family_doctor, clinic.therapist, clinic.paediatrician)[number % 3]
        declaration_make(clinic, employee=doctor)
    with django_assert_num_queries(len(one.captured_queries)):
        response = receptionist.get(LIST)
    assert len(numbers(response)) == 20
    assert response.content.decode().count('href="/cabinet/declarations/') == 20


def test_the_list_is_paged(receptionist, clinic):
    for _ in range(26):
        declaration_make(clinic)
    first = receptionist.get(LIST)
    assert len(numbers(first)) == 25 and 'rel="next"' in first.content.decode()
    assert len(numbers(receptionist.get(LIST, {"page": 2}))) == 1


# --- One declaration --------------------------------------------------------------------------------


def test_a_declaration_page_shows_the_patient_doctor_place_dates_and_request(doctor, clinic):
    declaration = declaration_make(clinic)
    response = doctor.get(detail_url(declaration))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        declaration.person.full_name,
        str(clinic.family_doctor.party),
        clinic.division.name,
        declaration.declaration_number,
        declaration.declaration_request.declaration_number,
        declaration.end_date.strftime("%Y"),
    ):
        assert text in html
    assert 'name="reason"' in html and terminate_url(declaration) in html
    request_id = declaration.declaration_request_id
    for name in ("declarations:request-form", "declarations:request-form-pdf", "declarations:request-detail"):
        assert f'href="{reverse(name, args=[request_id])}"' in html  # the signed request's printable form


def test_a_terminated_declaration_shows_its_reason_and_no_form(doctor, clinic):
    declaration = declaration_make(
        clinic, status="terminated", reason="manual_person", reason_description="Переїзд"
    )
    html = doctor.get(detail_url(declaration)).content.decode()
    assert "Переїзд" in html
    assert 'name="reason"' not in html


def test_another_facilitys_declaration_is_not_found(receptionist, other_clinic):
    theirs = declaration_make(other_clinic)
    before = declaration_state(theirs)
    assert receptionist.get(detail_url(theirs)).status_code == 404
    response = receptionist.post(
        terminate_url(theirs), {"reason": "manual_person", "reason_description": "Чужа"}
    )
    assert response.status_code == 404
    assert declaration_state(theirs) == before


def test_the_pages_need_a_signed_in_person_of_the_facility(client, clinic):
    declaration = declaration_make(clinic)
    for url in (LIST, detail_url(declaration)):
        assert client.get(url).status_code == 302  # to the sign-in page
    outsider = signed_in(UserFactory())
    assert outsider.get(LIST).status_code == 403


# --- Termination --------------------------------------------------------------------------------------


def test_a_doctor_terminates_a_declaration_at_the_patients_request(doctor, clinic):
    declaration = declaration_make(clinic)
    response = doctor.post(
        terminate_url(declaration),
        {"reason": "manual_person", "reason_description": "Пацієнт обрав лікаря ближче до дому"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail_url(declaration)
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.TERMINATED
    assert declaration.reason == "manual_person"
    assert declaration.updated_by == clinic.family_doctor.party.user
    assert "Пацієнт обрав лікаря ближче до дому" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reason_description": "Без причини"}, "reason"),
        ({"reason": "auto_employee_dismissed", "reason_description": "Спроба"}, "reason"),
        ({"reason": "manual_employee", "reason_description": ""}, "reason_description"),
    ],
)
def test_a_termination_needs_who_asked_and_why(receptionist, clinic, data, field):
    declaration = declaration_make(clinic)
    before = declaration_state(declaration)
    response = receptionist.post(terminate_url(declaration), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert declaration_state(declaration) == before


def test_an_ended_declaration_cannot_be_terminated_again(receptionist, clinic):
    declaration = declaration_make(clinic, status="rejected")
    before = declaration_state(declaration)
    response = receptionist.post(
        terminate_url(declaration), {"reason": "manual_person", "reason_description": "Ще раз"}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1
    assert declaration_state(declaration) == before


def test_an_assistant_reads_declarations_but_cannot_terminate_them(clinic):
    assistant = UserFactory()
    EmployeeFactory(
        legal_entity=clinic.legal_entity,
        division=clinic.division,
        party=party_make(last_name="Гнатюк", first_name="Ірина", user=assistant),
        employee_type="ASSISTANT",
        position="P15",
    )
    declaration = declaration_make(clinic)
    before = declaration_state(declaration)
    client = signed_in(assistant)
    html = client.get(detail_url(declaration)).content.decode()
    assert declaration.declaration_number in html and 'name="reason"' not in html
    response = client.post(
        terminate_url(declaration), {"reason": "manual_person", "reason_description": "Ні"}
    )
    assert response.status_code == 403
    assert declaration_state(declaration) == before


def test_a_termination_without_the_csrf_token_is_refused(clinic):
    declaration = declaration_make(clinic)
    before = declaration_state(declaration)
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinic.receptionist)
    response = client.post(
        terminate_url(declaration), {"reason": "manual_person", "reason_description": "Так"}
    )
    assert response.status_code == 403
    assert declaration_state(declaration) == before
