"""The doctor wizard (/cabinet/staff/new/doctor/): steps, blocks, refusals at their fields, submission, access."""

import datetime
import re

import pytest
from django.urls import reverse

from ehealth_portal.models import Email
from registry.models import Division, EmployeeRequest
from registry.payloads import employee_request_payload_validate
from tests import staff_data
from tests.accounts.helpers import main_html
from tests.factories import (
    DivisionFactory,
    EmployeeFactory,
    LegalEntityFactory,
    PartyFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MANAGEMENT = "doctor_wizard-current_step"
BLOCK_KEYS = {"education": "educations", "qualifications": "qualifications", "specialities": "specialities"}


def step_url(step: str) -> str:
    return reverse("registry:staff-new-doctor-step", args=[step])


def person_fields(party: dict) -> dict:
    document, phone = party["documents"][0], party["phones"][0]
    return {
        **{name: party[name] for name in ("last_name", "first_name", "second_name", "tax_id", "birth_date")},
        **{name: party[name] for name in ("gender", "email")},
        **{f"document_{part}": document[part] for part in ("type", "number", "issued_by", "issued_at")},
        "phone_mobile": phone["number"],
    }


def block_fields(key: str, items: list[dict]) -> dict:
    """A formset's posted fields: each item's members as typed (a ticked box is "on")."""
    fields = {f"{key}-TOTAL_FORMS": str(len(items)), f"{key}-INITIAL_FORMS": "0"}
    for index, item in enumerate(items):
        for name, value in item.items():
            if value is True:
                value = "on"
            if value is not False:
                fields[f"{key}-{index}-{name}"] = value
    return fields


def speciality(**changes) -> dict:
    return {**staff_data.doctor()["specialities"][0], **changes}


class Doctor:
    """The doctor being invited: their request as eHealth's payload and the steps that type it in."""

    def __init__(self, division: Division, **changes):
        self.payload = staff_data.employee_request(
            division_id=division.pk, position="P7", start_date=datetime.date.today().isoformat(), **changes
        )

    def steps(self) -> dict[str, dict]:
        doctor = self.payload["doctor"]
        return {
            "person": person_fields(self.payload["party"]),
            "education": block_fields("educations", doctor["educations"]),
            "qualifications": block_fields("qualifications", doctor.get("qualifications", [])),
            "specialities": block_fields("specialities", doctor["specialities"]),
            "place": {name: self.payload[name] for name in ("division_id", "position", "start_date")},
        }


def post_step(client, step: str, fields: dict, **extra):
    data = {f"{step}-{name}": value for name, value in fields.items()}
    return client.post(step_url(step), {MANAGEMENT: step, **data, **extra})


def fill_steps(client, doctor: Doctor, *, until: str = "review", **changes) -> None:
    for step, fields in doctor.steps().items():
        if step == until:
            return
        response = post_step(client, step, {**fields, **changes.get(step, {})})
        assert response.status_code == 302, main_html(response)


def send(client):
    return post_step(client, "review", {})


def nothing_sent() -> bool:
    return not EmployeeRequest.objects.exists() and not Email.objects.exists()


@pytest.fixture
def clinic(reference_data):
    legal_entity = LegalEntityFactory()
    head = EmployeeFactory(legal_entity=legal_entity, party=PartyFactory(user=UserFactory()))
    division = DivisionFactory(legal_entity=legal_entity, name="Амбулаторія на Хрещатику")
    return legal_entity, head, division


@pytest.fixture
def wizard(client, clinic):
    """The facility's head at the wizard's first step."""
    client.force_login(clinic[1].party.user)
    response = client.get(reverse("registry:staff-new-doctor"))
    assert response.status_code == 302 and response.url == step_url("person")
    return client


@pytest.fixture
def doctor(clinic) -> Doctor:
    return Doctor(clinic[2])


def step_form(response):
    assert response.status_code == 200, response.status_code
    return response.context["wizard"]["form"]


# --- The whole wizard ------------------------------------------------------------------------------------


def test_the_wizard_sends_one_invitation_with_the_exact_ehealth_payload(
    wizard, clinic, doctor, django_capture_on_commit_callbacks
):
    legal_entity, head, division = clinic
    fill_steps(wizard, doctor)
    review = wizard.get(step_url("review"))
    html = main_html(review)
    for text in ("Шевченко", "Сімейний лікар", "Перша категорія", "Магістр", "Інтернатура", division.name):
        assert text in html, text
    for step in ("person", "education", "qualifications", "specialities", "place"):
        assert f'name="wizard_change_step" value="{step}"' in html
    assert nothing_sent()

    with django_capture_on_commit_callbacks(execute=True):
        response = send(wizard)
    assert response.status_code == 302 and response.url == reverse("registry:staff-new-sent")
    request = EmployeeRequest.objects.get()
    expected = employee_request_payload_validate({**doctor.payload, "legal_entity_id": str(legal_entity.pk)})
    assert request.data == expected
    assert request.status == EmployeeRequest.Status.NEW and not request.signed_envelope
    assert (request.legal_entity, request.division, request.employee_type) == (
        legal_entity,
        division,
        "DOCTOR",
    )
    assert request.created_by == head.party.user
    email = Email.objects.get()
    assert email.to == doctor.payload["party"]["email"]

    sent = main_html(wizard.get(response.url))
    assert doctor.payload["party"]["email"] in sent
    assert reverse("registry:staff-new") in sent and reverse("registry:cabinet") in sent
    # The draft is gone: the wizard starts afresh.
    assert not step_form(wizard.get(step_url("person"))).is_bound


def test_a_doctor_without_qualifications_or_with_a_science_degree(
    wizard, clinic, django_capture_on_commit_callbacks
):
    science = {
        "country": "UA",
        "city": "Київ",
        "degree": "PHD",
        "institution_name": "Інститут геронтології",
        "diploma_number": "ДФ 001",
        "speciality": "Геронтологія",
    }
    doctor = Doctor(clinic[2], doctor={"qualifications": [], "science_degree": science})
    doctor.payload["doctor"].pop("qualifications")
    science_fields = {f"science_{name}": value for name, value in science.items()}
    fill_steps(wizard, doctor, education=science_fields)
    with django_capture_on_commit_callbacks(execute=True):
        assert send(wizard).status_code == 302
    data = EmployeeRequest.objects.get().data["doctor"]
    assert "qualifications" not in data
    assert data["science_degree"] == science


def test_a_later_step_cannot_be_opened_before_the_earlier_ones(wizard, doctor):
    fill_steps(wizard, doctor, until="education")
    response = wizard.get(step_url("specialities"))
    assert response.status_code == 302 and response.url == step_url("education")


# --- Back, change, add and remove ------------------------------------------------------------------------


def test_back_keeps_what_was_typed(wizard, doctor):
    fill_steps(wizard, doctor, until="specialities")
    half = {
        "specialities-TOTAL_FORMS": "1",
        "specialities-INITIAL_FORMS": "0",
        "specialities-0-level": "FIRST",
    }
    response = post_step(wizard, "specialities", half, wizard_goto_step="qualifications")
    assert response.status_code == 302 and response.url == step_url("qualifications")
    block = step_form(wizard.get(step_url("qualifications"))).blocks.forms[0]
    assert block["certificate_number"].value() == "2010-1234"
    for step in ("person", "education"):
        assert step_form(wizard.get(step_url(step))).is_valid()
    post_step(wizard, "qualifications", doctor.steps()["qualifications"])
    page = wizard.get(step_url("specialities"))
    form = step_form(page)
    assert form.blocks.forms[0]["level"].value() == "FIRST"
    # Coming back is not a submission: no errors for what is still missing.
    assert not form.is_bound and "error-summary" not in main_html(page)


def test_change_from_the_review_returns_to_the_review(wizard, doctor):
    fill_steps(wizard, doctor)
    response = post_step(wizard, "review", {}, wizard_change_step="place")
    assert response.url == step_url("place")
    response = post_step(wizard, "place", {**doctor.steps()["place"], "position": "P8"})
    assert response.url == step_url("review")
    assert "Лікар-педіатр" in main_html(wizard.get(step_url("review")))


def test_add_one_more_block_keeps_what_was_typed_and_remove_takes_one_away(wizard, doctor):
    fill_steps(wizard, doctor, until="education")
    typed = doctor.steps()["education"]
    response = post_step(wizard, "education", typed, wizard_blocks="add")
    assert response.status_code == 302 and response.url == step_url("education")
    page = wizard.get(step_url("education"))
    form = step_form(page)
    assert len(form.blocks.forms) == 2
    assert form.blocks.forms[0]["city"].value() == "Київ"
    assert 'value="remove-1"' in main_html(page)

    # The second diploma is typed, then the first removed: the second becomes the first.
    second = block_fields("educations", [*doctor.payload["doctor"]["educations"], {"city": "Львів"}])
    post_step(wizard, "education", second, wizard_blocks="remove-0")
    form = step_form(wizard.get(step_url("education")))
    assert [block["city"].value() for block in form.blocks.forms] == ["Львів"]
    assert 'value="remove-' not in main_html(wizard.get(step_url("education")))  # the last one stays


def test_an_added_block_left_empty_is_skipped(wizard, doctor, django_capture_on_commit_callbacks):
    fill_steps(wizard, doctor, until="specialities")
    fields = block_fields("specialities", [speciality(), {}])
    response = post_step(wizard, "specialities", fields)
    assert response.status_code == 302
    post_step(wizard, "place", doctor.steps()["place"])
    with django_capture_on_commit_callbacks(execute=True):
        send(wizard)
    assert len(EmployeeRequest.objects.get().data["doctor"]["specialities"]) == 1


# --- Refusals at their fields ----------------------------------------------------------------------------


def errors_of(form) -> dict:
    """The codes of the step's errors: its own ("__all__", fields) and its blocks' ("<index>.<field>")."""
    errors = {name: [error.code for error in items] for name, items in form.errors.as_data().items()}
    for index, block in enumerate(form.blocks.forms):
        errors |= {
            f"{index}.{name}": [e.code for e in items] for name, items in block.errors.as_data().items()
        }
    return errors


@pytest.mark.parametrize(
    ("specialities", "where", "code"),
    [
        ([speciality(speciality_officio=False)], "__all__", "officio_missing"),
        ([speciality(), speciality(speciality="THERAPIST")], "__all__", "officio_many"),
        (
            [speciality(speciality_officio=False), speciality(speciality="PHARMACIST")],
            "1.speciality",
            "officio_not_primary_care",
        ),
        ([speciality(level="BASIC")], "0.level", "officio_level"),
        ([speciality(valid_to_date="2018-01-01")], "0.valid_to_date", "date_order"),
        ([speciality(attestation_date="2999-01-01")], "0.attestation_date", "future_date"),
        ([speciality(level="")], "0.level", "required"),
    ],
    ids=["no main", "two main", "main not primary care", "main level basic", "dates", "future", "missing"],
)
def test_speciality_rules_are_shown_at_their_field_and_nothing_is_sent(
    wizard, doctor, specialities, where, code
):
    fill_steps(wizard, doctor, until="specialities")
    response = post_step(wizard, "specialities", block_fields("specialities", specialities))
    form = step_form(response)
    errors = errors_of(form)
    assert errors.pop(where) == [code]
    assert errors in ({}, {"__all__": ["blocks_invalid"]})  # nothing else; a block's error marks the step
    html = main_html(response)
    if where != "__all__":
        index, field = where.split(".")
        assert f'id="id_specialities-specialities-{index}-{field}_error"' in html  # next to the field
        assert f'href="#id_specialities-specialities-{index}-{field}"' in html  # and in the summary
    assert "error-summary" in html
    assert response.context["wizard"]["steps"].current == "specialities"
    assert nothing_sent()


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"educations-0-degree": "PHD"}, "0.degree"),
        ({"educations-0-issued_date": "2999-01-01"}, "0.issued_date"),
        ({"educations-0-country": "UKR"}, "0.country"),
        ({"science_city": "Київ"}, "science_country"),
    ],
)
def test_education_rules_are_shown_at_their_field(wizard, doctor, changes, where):
    fill_steps(wizard, doctor, until="education")
    response = post_step(wizard, "education", {**doctor.steps()["education"], **changes})
    errors = errors_of(step_form(response))
    assert where in errors, errors
    assert nothing_sent()


def test_every_error_of_a_step_shows_at_once(wizard, doctor):
    fill_steps(wizard, doctor, until="qualifications")
    items = [
        {"type": "INTERNSHIP", "institution_name": "НМАПО", "speciality": "ЗПСМ", "issued_date": "2010-06-30"}
        | {"valid_to": "2009-01-01"},
        {"type": "", "institution_name": "НМАПО"},
    ]
    errors = errors_of(step_form(post_step(wizard, "qualifications", block_fields("qualifications", items))))
    assert {"0.valid_to", "1.type", "1.speciality"} <= set(errors)


@pytest.mark.parametrize("division", ["inactive", "foreign"])
def test_a_place_of_service_posted_by_hand_must_be_an_active_one_of_the_facility(
    wizard, clinic, doctor, division
):
    if division == "inactive":
        other = DivisionFactory(legal_entity=clinic[0], status=Division.Status.INACTIVE)
    else:
        other = DivisionFactory()
    fill_steps(wizard, doctor, until="place")
    page = main_html(wizard.get(step_url("place")))
    assert str(clinic[2].pk) in page and str(other.pk) not in page
    response = post_step(wizard, "place", {**doctor.steps()["place"], "division_id": str(other.pk)})
    assert list(step_form(response).errors) == ["division_id"]
    assert nothing_sent()


def test_a_place_of_service_closed_before_sending_sends_the_user_back_to_it(wizard, clinic, doctor):
    fill_steps(wizard, doctor)
    Division.objects.filter(pk=clinic[2].pk).update(status=Division.Status.INACTIVE)
    response = send(wizard)
    assert response.status_code == 302 and response.url == step_url("place")
    assert "division_id" in step_form(wizard.get(response.url)).errors
    assert nothing_sent()


def test_an_email_of_another_person_is_refused_at_the_email_field_then_corrected(
    wizard, doctor, django_capture_on_commit_callbacks
):
    taken = doctor.payload["party"]["email"]
    PartyFactory(user=UserFactory(email=taken))  # someone else's login
    fill_steps(wizard, doctor)
    response = send(wizard)
    form = step_form(response)
    assert response.context["wizard"]["steps"].current == "person"
    assert {name: [e.code for e in items] for name, items in form.errors.as_data().items()} == {
        "email": ["email_other_person"]
    }
    assert 'id="id_person-email_error"' in main_html(response)
    assert nothing_sent()

    # Corrected, the wizard returns to the review, and the invitation goes.
    fixed = {**doctor.steps()["person"], "email": "own@clinic.example"}
    assert post_step(wizard, "person", fixed).url == step_url("review")
    with django_capture_on_commit_callbacks(execute=True):
        assert send(wizard).status_code == 302
    assert EmployeeRequest.objects.get().email == "own@clinic.example"


def test_a_doctor_already_invited_is_refused_at_the_tax_id(
    wizard, doctor, django_capture_on_commit_callbacks
):
    fill_steps(wizard, doctor)
    with django_capture_on_commit_callbacks(execute=True):
        send(wizard)
    fill_steps(wizard, doctor)
    form = step_form(send(wizard))
    assert list(form.errors) == ["tax_id"]
    assert EmployeeRequest.objects.count() == 1


# --- Access and the facility of the draft ------------------------------------------------------------------


def employee(role: str, legal_entity=None):
    return EmployeeFactory(
        legal_entity=legal_entity or LegalEntityFactory(),
        employee_type=role,
        party=PartyFactory(user=UserFactory()),
    )


@pytest.mark.parametrize("who", ["doctor", "accountant", "assistant", "head of another facility"])
def test_who_may_not_invite_gets_403(client, clinic, who):
    legal_entity = clinic[0]
    person = employee("OWNER") if who.startswith("head") else employee(who.upper(), legal_entity)
    client.force_login(person.party.user)
    for url in (reverse("registry:staff-new-doctor"), step_url("person"), step_url("review")):
        assert client.get(f"{url}?facility={legal_entity.pk}").status_code == 403
    fields = {f"person-{name}": value for name, value in Doctor(clinic[2]).steps()["person"].items()}
    response = client.post(
        f"{step_url('person')}?facility={legal_entity.pk}", {MANAGEMENT: "person", **fields}
    )
    assert response.status_code == 403
    assert nothing_sent()


def test_hr_and_an_administrator_may_invite_a_doctor(client, clinic):
    for role in ("HR", "ADMIN"):
        client.force_login(employee(role, clinic[0]).party.user)
        assert client.get(step_url("person")).status_code == 200


def test_anonymous_people_are_sent_to_sign_in(client, clinic):
    response = client.get(step_url("person"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_a_draft_is_never_sent_to_another_facility(client, clinic, doctor):
    legal_entity, head, _division = clinic
    other = LegalEntityFactory()
    EmployeeFactory(legal_entity=other, party=head.party)  # the head heads another facility too
    client.force_login(head.party.user)
    client.get(reverse("registry:cabinet") + f"?facility={legal_entity.pk}")
    fill_steps(client, doctor)
    client.get(reverse("registry:cabinet") + f"?facility={other.pk}")  # switched in another tab
    response = send(client)
    assert response.status_code == 302 and response.url == step_url("person")
    assert not EmployeeRequest.objects.exists()
    page = client.get(step_url("person"))
    assert not step_form(page).is_bound  # the draft of the first facility is not carried over
    warnings = [str(message) for message in page.context["messages"]]
    assert len(warnings) == 1 and str(other) in warnings[0]  # it says the wizard starts again, and for whom


def test_the_cabinet_links_to_the_invitation(client, clinic):
    client.force_login(clinic[1].party.user)
    html = main_html(client.get(reverse("registry:cabinet")))
    assert reverse("registry:staff-new") in html
    client.force_login(employee("DOCTOR", clinic[0]).party.user)
    assert reverse("registry:staff-new") not in main_html(client.get(reverse("registry:cabinet")))


def test_the_review_lists_rules_of_the_whole_request_instead_of_the_button(wizard, doctor):
    fill_steps(wizard, doctor)
    from registry.models import DictionaryValue

    DictionaryValue.objects.filter(dictionary__name="EMPLOYEE_TYPE", key="DOCTOR").update(is_active=False)
    response = wizard.get(step_url("review"))
    assert response.context["payload_errors"]
    assert "Send the invitation" not in main_html(response) and not re.search(
        r'<button type="submit" class="button">', main_html(response)
    )
