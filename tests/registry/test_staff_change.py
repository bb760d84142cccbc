"""A working employee's data changes with a new request (eHealth's update mode, `employee_id`):
/cabinet/staff/<id>/change/ — the doctor wizard or the other roles' form, filled in from the employee."""

import datetime
import re

import pytest
from django.urls import reverse

from ehealth_portal.models import Email
from registry.models import Employee, EmployeeRequest
from registry.services import employee_dismiss, employee_request_accept, employee_request_create
from tests import staff_data
from tests.accounts.helpers import main_html
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory
from tests.registry.test_doctor_wizard import Doctor, block_fields, person_fields
from tests.registry.test_doctor_wizard import post_step as invite_step

pytestmark = pytest.mark.django_db

PASSWORD = "Very-Strong-Password-42"
MANAGEMENT = "doctor_wizard_change-current_step"  # the change's own draft, apart from an invitation's


def change_url(employee) -> str:
    return reverse("registry:staff-change", args=[employee.pk])


def step_url(employee, step: str) -> str:
    return reverse("registry:staff-change-doctor-step", args=[employee.pk, step])


def post_step(client, employee, step: str, fields: dict, **extra):
    data = {f"{step}-{name}": value for name, value in fields.items()}
    return client.post(step_url(employee, step), {MANAGEMENT: step, **data, **extra})


def token_of(email: Email) -> str:
    return re.search(r"/invite/([\w-]+)/", email.text_body)[1]


def state() -> dict:
    return {
        "requests": EmployeeRequest.objects.count(),
        "emails": Email.objects.count(),
        "employees": Employee.objects.count(),
        "history": Employee.history.count(),
    }


@pytest.fixture
def clinic(reference_data):
    legal_entity = LegalEntityFactory()
    head = EmployeeFactory(legal_entity=legal_entity, party=PartyFactory(user=UserFactory()))
    division = DivisionFactory(legal_entity=legal_entity, name="Амбулаторія на Хрещатику")
    other_division = DivisionFactory(legal_entity=legal_entity, name="Амбулаторія на Подолі")
    return legal_entity, head, division, other_division


def hire(clinic, employee_type: str = "DOCTOR", **overrides) -> Employee:
    """A person invited through the service and working after accepting (a person, a login, a job)."""
    legal_entity, head, division, _other = clinic
    data = staff_data.employee_request(employee_type, division_id=division.pk, **overrides)
    _request, token = employee_request_create(legal_entity=legal_entity, actor=head.party.user, data=data)
    user = employee_request_accept(token=token, password=PASSWORD)
    return Employee.objects.select_related("party__user").get(party__user=user, legal_entity=legal_entity)


@pytest.fixture
def doctor(clinic) -> Employee:
    return hire(clinic)


@pytest.fixture
def head(client, clinic):
    client.force_login(clinic[1].party.user)
    return client


def open_change(client, employee):
    """ "Change the data" from the employee's page: the wizard opens on the review, filled in."""
    response = client.get(change_url(employee))
    assert response.status_code == 302 and response.url == reverse(
        "registry:staff-change-doctor", args=[employee.pk]
    )
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == step_url(employee, "review")
    return client.get(response.url)


# --- The doctor wizard, filled in from the employee ----------------------------------------------------


def test_the_employees_page_links_to_the_change_and_the_wizard_holds_the_doctors_data(head, clinic, doctor):
    detail = main_html(head.get(reverse("registry:employee-detail", args=[doctor.pk])))
    assert change_url(doctor) in detail

    review = open_change(head, doctor)
    assert review.status_code == 200 and review.context["employee"] == doctor
    html = main_html(review)
    party, info = doctor.party, doctor.additional_info
    for text in (
        party.last_name,
        party.tax_id,
        party.user.email,
        clinic[2].name,
        info["qualifications"][0]["certificate_number"],
        info["specialities"][0]["certificate_number"],
        info["educations"][0]["diploma_number"],
        "Сімейний лікар",
    ):
        assert text in html, text
    assert review.context["payload"]["employee_id"] == str(doctor.pk)
    assert state()["requests"] == 1  # nothing sent by opening it

    person = head.get(step_url(doctor, "person"))
    form = person.context["wizard"]["form"]
    assert form["last_name"].value() == party.last_name
    assert form["document_number"].value() == party.documents[0]["number"]
    assert form["phone_mobile"].value() == party.phones[0]["number"]
    for name, value in (
        ("tax_id", party.tax_id),
        ("birth_date", party.birth_date),
        ("email", party.user.email),
    ):
        assert form.fields[name].disabled and form[name].value() == value, name
    assert re.search(r'<input[^>]*name="person-tax_id"[^>]*disabled', main_html(person))
    place = head.get(step_url(doctor, "place")).context["wizard"]["form"]
    assert place["division_id"].value() == str(clinic[2].pk) and place["position"].value() == doctor.position
    assert place.fields["start_date"].disabled and place["start_date"].value() == doctor.start_date
    qualifications = head.get(step_url(doctor, "qualifications")).context["wizard"]["form"]
    block = qualifications.blocks.forms[0]
    assert block["certificate_number"].value() == info["qualifications"][0]["certificate_number"]


def test_a_changed_qualification_and_position_update_the_same_employee_once_accepted(
    head, clinic, doctor, django_capture_on_commit_callbacks
):
    open_change(head, doctor)
    qualification = {
        "type": "SPECIALIZATION",
        "institution_name": "Львівський національний медичний університет",
        "speciality": "Педіатрія",
        "issued_date": "2021-03-01",
        "certificate_number": "2021-777",
    }
    items = [*doctor.additional_info["qualifications"], qualification]
    response = post_step(head, doctor, "qualifications", block_fields("qualifications", items))
    assert response.status_code == 302 and response.url == step_url(doctor, "specialities")
    place = {"division_id": str(clinic[3].pk), "position": "P8", "start_date": "2020-01-01"}
    response = post_step(head, doctor, "place", place)
    assert response.url == step_url(doctor, "review")
    html = main_html(head.get(response.url))
    assert "2021-777" in html and "Лікар-педіатр" in html and clinic[3].name in html

    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(head, doctor, "review", {})
    assert response.status_code == 302 and response.url == reverse("registry:staff-new-sent")
    request = EmployeeRequest.objects.get(status=EmployeeRequest.Status.NEW)
    assert request.employee == doctor and request.data["employee_id"] == str(doctor.pk)
    assert request.data["start_date"] == doctor.start_date.isoformat()  # not the posted 2020-01-01
    assert request.data["party"]["tax_id"] == doctor.party.tax_id
    assert request.email == doctor.party.user.email and not request.signed_envelope
    email = Email.objects.filter(to=request.email).latest("created_at")
    assert "оновлює ваші дані" in email.text_body  # the update invitation, not a new one

    sent = head.get(response.url)
    assert sent.context["employee"] == doctor
    assert reverse("registry:employee-detail", args=[doctor.pk]) in main_html(sent)
    doctor.refresh_from_db()
    assert doctor.position != "P8"  # the doctor keeps working with the current data meanwhile

    employees = Employee.objects.count()
    employee_request_accept(token=token_of(email), user=doctor.party.user)
    doctor.refresh_from_db()
    assert Employee.objects.count() == employees  # the same job, not a new one
    assert (doctor.position, doctor.division) == ("P8", clinic[3])
    assert doctor.additional_info["qualifications"][-1]["certificate_number"] == "2021-777"
    assert doctor.status == Employee.Status.APPROVED and doctor.is_active
    assert doctor.history.count() >= 2  # the previous version is kept
    assert doctor.history.earliest().position == "P1"
    detail = main_html(head.get(reverse("registry:employee-detail", args=[doctor.pk])))
    assert "2021-777" in detail


def test_the_rnokpp_birth_date_and_email_posted_by_hand_are_ignored(
    head, doctor, django_capture_on_commit_callbacks
):
    open_change(head, doctor)
    person = head.get(step_url(doctor, "person")).context["wizard"]["form"]
    fields = {name: person[name].value() for name in person.fields if person[name].value() is not None}
    forged = {
        **fields,
        "tax_id": staff_data.rnokpp(datetime.date(1990, 1, 1)),
        "birth_date": "1990-01-01",
        "no_tax_id": "on",
        "email": "someone.else@clinic.example",
        "phone_mobile": "+380671234567",  # what may change does
    }
    response = post_step(head, doctor, "person", forged)
    assert response.status_code == 302, main_html(head.get(step_url(doctor, "person")))
    with django_capture_on_commit_callbacks(execute=True):
        post_step(head, doctor, "review", {})
    party = EmployeeRequest.objects.get(status=EmployeeRequest.Status.NEW).data["party"]
    assert (party["tax_id"], party["birth_date"], party["no_tax_id"], party["email"]) == (
        doctor.party.tax_id,
        doctor.party.birth_date.isoformat(),
        False,
        doctor.party.user.email,
    )
    assert party["phones"][0]["number"] == "+380671234567"


def test_an_invitation_being_typed_is_kept_while_a_change_is_made(head, clinic, doctor):
    invited = Doctor(clinic[2], party={"last_name": "Франко", "email": "franko@clinic.example"})
    head.get(reverse("registry:staff-new-doctor"))
    assert invite_step(head, "person", person_fields(invited.payload["party"])).status_code == 302
    open_change(head, doctor)
    form = head.get(reverse("registry:staff-new-doctor-step", args=["person"])).context["wizard"]["form"]
    assert form["last_name"].value() == "Франко"


# --- Who may change, and whom ---------------------------------------------------------------------------


def test_a_doctor_of_the_facility_may_not_change_anyones_data(client, clinic, doctor):
    colleague = hire(clinic, party={"email": "colleague@clinic.example"})
    before = state()
    client.force_login(colleague.party.user)
    detail = main_html(client.get(reverse("registry:employee-detail", args=[doctor.pk])))
    assert change_url(doctor) not in detail
    for url in (change_url(doctor), step_url(doctor, "person"), step_url(doctor, "review")):
        assert client.get(url).status_code == 403, url
    assert post_step(client, doctor, "review", {}).status_code == 403
    assert client.post(change_url(doctor), {}).status_code == 403
    assert state() == before


def test_another_facilitys_hr_gets_404(client, clinic, doctor):
    hr = EmployeeFactory(
        legal_entity=LegalEntityFactory(), employee_type="HR", party=PartyFactory(user=UserFactory())
    )
    before = state()
    client.force_login(hr.party.user)
    for url in (change_url(doctor), step_url(doctor, "person"), step_url(doctor, "review")):
        assert client.get(url).status_code == 404, url
    assert post_step(client, doctor, "review", {}).status_code == 404
    assert state() == before


def test_a_dismissed_employee_cannot_be_changed(head, clinic, doctor):
    open_change(head, doctor)  # the wizard was open when the doctor was dismissed
    employee_dismiss(employee=doctor, actor=clinic[1].party.user)
    before = state()
    detail_url = reverse("registry:employee-detail", args=[doctor.pk])
    response = post_step(head, doctor, "review", {})
    assert response.status_code == 302 and response.url == detail_url
    for url in (change_url(doctor), step_url(doctor, "person")):
        response = head.get(url)
        assert response.status_code == 302 and response.url == detail_url
    page = head.get(detail_url)
    assert [message.level_tag for message in page.context["messages"]] == ["error"] * 3
    assert change_url(doctor) not in main_html(page)
    assert state() == before


def test_a_doctor_dismissed_after_the_review_is_refused_on_sending(head, clinic, doctor, monkeypatch):
    """Dismissed between the page's check and the service's: the service's refusal, nothing sent."""
    open_change(head, doctor)
    from registry.views import staff_new

    real = staff_new.services.employee_request_create

    def dismissed_meanwhile(**kwargs):
        Employee.objects.filter(pk=doctor.pk).update(status=Employee.Status.DISMISSED, is_active=False)
        return real(**kwargs)

    monkeypatch.setattr(staff_new.services, "employee_request_create", dismissed_meanwhile)
    before = state()
    response = post_step(head, doctor, "review", {})
    assert response.status_code == 200 and response.context["submit_errors"]
    assert state() == before


def test_the_heads_data_is_not_changed_with_a_request(head, clinic):
    owner = clinic[1]
    before = state()
    response = head.get(change_url(owner))
    assert response.status_code == 302
    assert response.url == reverse("registry:employee-detail", args=[owner.pk])
    assert state() == before


# --- The other roles (HR too): one page -----------------------------------------------------------------


@pytest.mark.parametrize("employee_type", ["ADMIN", "ACCOUNTANT", "ASSISTANT", "HR"])
def test_another_roles_data_changes_with_the_one_page_form(
    client, clinic, employee_type, django_capture_on_commit_callbacks
):
    employee = hire(clinic, employee_type)
    # An administrator keeps the staff: they change an HR officer's data too, unsigned (no role changes).
    admin = hire(clinic, "ADMIN", party={"email": "admin@clinic.example"})
    client.force_login(admin.party.user)
    page = client.get(change_url(employee))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["last_name"].value() == employee.party.last_name
    assert form["position"].value() == employee.position
    assert all(form.fields[name].disabled for name in ("tax_id", "birth_date", "no_tax_id", "start_date"))

    posted = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "")}
    posted |= {
        "position": "P5",
        "division_id": str(clinic[3].pk),
        "tax_id": "1234567899",  # read-only: ignored
        "birth_date": "1970-01-01",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(employee), posted)
    assert response.status_code == 302, response.context["form"].errors
    request = EmployeeRequest.objects.get(status=EmployeeRequest.Status.NEW)
    assert request.data["employee_id"] == str(employee.pk) and request.employee_type == employee_type
    assert request.data["party"]["tax_id"] == employee.party.tax_id
    assert request.data["party"]["birth_date"] == employee.party.birth_date.isoformat()
    assert not request.signed_envelope
    assert client.get(response.url).context["employee"] == employee

    employee_request_accept(token=token_of(Email.objects.latest("created_at")), user=employee.party.user)
    employee.refresh_from_db()
    assert (employee.position, employee.division) == ("P5", clinic[3])
    assert Employee.objects.filter(party=employee.party).count() == 1
    assert employee.history.count() >= 2


def test_a_refusal_of_the_other_roles_change_shows_at_the_form(head, clinic):
    employee = hire(clinic, "ACCOUNTANT")
    form = head.get(change_url(employee)).context["form"]
    posted = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "")}
    inactive = DivisionFactory(legal_entity=clinic[0], status="INACTIVE")
    before = state()
    response = head.post(change_url(employee), {**posted, "division_id": str(inactive.pk)})
    assert response.status_code == 200 and "division_id" in response.context["form"].errors
    assert state() == before
