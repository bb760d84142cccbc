"""Operators' admin of people, employees, invitations and places of service: search and filters, the
services behind its actions (with the operator recorded), refusals that change nothing, and each record's
history of versions with who made them and when."""

import pytest
import simple_history
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ehealth_portal import third_party_strings
from registry.admin.history import CHANGE_REASONS
from registry.models import Division, Employee, EmployeeRequest
from registry.services import (
    employee_dismiss,
    employee_request_accept,
    employee_request_create,
    employee_request_resend,
    legal_entity_deactivate,
)
from tests import staff_data
from tests.factories import (
    DivisionFactory,
    EmployeeFactory,
    EmployeeRequestFactory,
    LegalEntityFactory,
    PartyFactory,
    SuperuserFactory,
    UserFactory,
)
from tests.test_admin_screens import _library_msgids, english_words, untranslated  # noqa: F401 (a fixture)

from .conftest import HEAD

pytestmark = pytest.mark.usefixtures("reference_data")

PASSWORD = "Very-Strong-Password-42"
CODES = {"OWNER", "HR", "DOCTOR"}  # eHealth's codes, shown as they are in an employee's name


@pytest.fixture
def operator(client):
    user = SuperuserFactory(email="operator@nszu.example", first_name="Ірина", last_name="Оператор")
    client.force_login(user)
    return user


@pytest.fixture
def clinic():
    return LegalEntityFactory(
        name="ТОВАРИСТВО «КЛІНІКА НА ПОДОЛІ»", short_name="ТОВ «ПОДІЛ»", edrpou="38782323"
    )


@pytest.fixture
def division(clinic):
    return DivisionFactory(legal_entity=clinic, name="Амбулаторія на Подолі")


@pytest.fixture
def head(clinic):
    party = PartyFactory(user=UserFactory(email="head@clinic.example"), tax_id=HEAD["drfo"])
    return EmployeeFactory(legal_entity=clinic, party=party, employee_type="OWNER")


@pytest.fixture
def hr(clinic):
    party = PartyFactory(
        user=UserFactory(email="hr@clinic.example"), last_name="Кадровик", tax_id=staff_data.rnokpp()
    )
    return EmployeeFactory(legal_entity=clinic, party=party, employee_type="HR", position="P4")


def hire(clinic, division, head, *, last_name="Шевченко") -> Employee:
    """A doctor invited by the head and accepted by the invitee (as the services record it)."""
    request, token = employee_request_create(
        legal_entity=clinic,
        actor=head.party.user,
        data=staff_data.employee_request(division_id=division.pk, party={"last_name": last_name}),
    )
    employee_request_accept(token=token, password=PASSWORD)
    return Employee.objects.select_related("party__user").get(requests=request)


def changelist(client, model, **query):
    response = client.get(reverse(f"admin:registry_{model}_changelist"), query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def action(client, model, name, objects, **extra):
    return client.post(
        reverse(f"admin:registry_{model}_changelist"),
        {"action": name, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra},
        follow=True,
    )


def history(client, obj) -> str:
    opts = obj._meta
    response = client.get(reverse(f"admin:registry_{opts.model_name}_history", args=[obj.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- Search and filters --------------------------------------------------------------------------------


def test_people_are_found_by_names_rnokpp_and_email_and_filtered(client, operator, head, hr):
    someone = PartyFactory(last_name="Бондар", gender="MALE", no_tax_id=True, tax_id="АА123456")
    assert changelist(client, "party", q="кадровик") == [hr.party]  # any case of Cyrillic letters
    assert changelist(client, "party", q=HEAD["drfo"]) == [head.party]
    assert changelist(client, "party", q="hr@clinic") == [hr.party]
    assert changelist(client, "party", q="Бондар Олена") == [someone]  # surname and first name
    assert changelist(client, "party", gender="MALE") == [someone]
    assert changelist(client, "party", no_tax_id__exact="1") == [someone]


def test_employees_are_found_by_person_facility_or_edrpou_and_filtered(
    client, operator, clinic, division, head, hr
):
    doctor = hire(clinic, division, head)
    elsewhere = EmployeeFactory(
        legal_entity=LegalEntityFactory(type="PHARMACY"), employee_type="DOCTOR", position="P7"
    )
    employee_dismiss(employee=hr, actor=head.party.user)
    assert changelist(client, "employee", q="шевченко") == [doctor]
    assert set(changelist(client, "employee", q="38782323")) == {head, hr, doctor}
    assert set(changelist(client, "employee", q="Поділ")) == {head, hr, doctor}  # the short name
    assert changelist(client, "employee", status__exact="DISMISSED") == [hr]
    assert set(changelist(client, "employee", is_active__exact="1")) == {head, doctor, elsewhere}
    assert set(changelist(client, "employee", employee_type="DOCTOR")) == {doctor, elsewhere}
    assert changelist(client, "employee", legal_entity__type="PHARMACY") == [elsewhere]
    page = client.get(reverse("admin:registry_employee_changelist")).content.decode()
    assert "Лікар" in page and "Амбулаторія на Подолі" in page  # role in words, place of service


def test_invitations_are_found_by_email_person_or_facility_and_filtered(
    client, operator, clinic, division, head
):
    waiting, _token = employee_request_create(
        legal_entity=clinic,
        actor=head.party.user,
        data=staff_data.employee_request(
            "HR", party={"last_name": "Мельник", "email": "melnyk@clinic.example"}
        ),
    )
    other = EmployeeRequestFactory(status="EXPIRED", employee_type="DOCTOR")
    assert changelist(client, "employeerequest", q="melnyk@") == [waiting]
    assert changelist(client, "employeerequest", q="мельник") == [waiting]  # the person in the request
    assert changelist(client, "employeerequest", q="Поділ") == [waiting]
    assert changelist(client, "employeerequest", status__exact="EXPIRED") == [other]
    assert changelist(client, "employeerequest", employee_type="HR") == [waiting]
    page = client.get(reverse("admin:registry_employeerequest_change", args=[waiting.pk])).content.decode()
    assert "Мельник" in page and "&quot;employee_type&quot;: &quot;HR&quot;" in page  # the request as JSON
    assert waiting.token_hash not in page


def test_places_of_service_are_found_by_name_or_facility_and_filtered(client, operator, clinic, division):
    fap = DivisionFactory(name="ФАП у Ворзелі", type="FAP", status="INACTIVE")
    assert changelist(client, "division", q="ворзел") == [fap]
    assert changelist(client, "division", q="38782323") == [division]
    assert changelist(client, "division", type="FAP") == [fap]
    assert changelist(client, "division", status__exact="ACTIVE") == [division]


# --- History ------------------------------------------------------------------------------------------


def test_an_employees_history_shows_who_made_each_version(client, operator, clinic, division, head, hr):
    doctor = hire(clinic, division, head)
    colleague = hire(clinic, division, head, last_name="Франко")
    employee_dismiss(employee=colleague, actor=hr.party.user, reason="За власним бажанням")
    action(client, "employee", "dismiss", [doctor], _dismiss="1", reason="Порушення ліцензійних умов")

    invitee, dismissal = doctor.history.order_by("history_date")
    assert invitee.history_user == doctor.party.user and invitee.history_type == "+"
    assert dismissal.history_user == operator and dismissal.status == "DISMISSED"
    page = history(client, doctor)
    assert doctor.party.user.email in page  # who accepted the invitation (the version it made)
    assert "Оператор Ірина (operator@nszu.example)" in page  # the operator's dismissal
    assert "Порушення ліцензійних умов" in page
    assert colleague.history.latest().history_user == hr.party.user  # the HR officer, through the service
    assert "hr@clinic.example" in history(client, colleague)
    assert "За власним бажанням" in history(client, colleague)


def test_history_shows_changes_in_words(client, operator, clinic, division, head):
    doctor = hire(clinic, division, head)
    action(client, "employee", "dismiss", [doctor], _dismiss="1", reason="Скорочення")
    page = history(client, doctor)
    assert "APPROVED" not in page and "DISMISSED" not in page  # the status by its label
    assert str(Employee.Status.DISMISSED.label) in page
    page = history(client, EmployeeRequest.objects.get(employee=doctor))
    assert "head@clinic.example</td>" in page  # the head invited (a user without names: the address once)
    assert f"({doctor.party.user.email})" in page  # the invitee accepted
    with translation.override("uk"):
        assert str(_("a deleted record")) not in page  # the employee was none before, not a deleted one


def test_a_facility_closed_by_an_operator_records_the_dismissals_with_the_reason(
    client, operator, clinic, head
):
    action(client, "legalentity", "deactivate", [clinic], _confirm="1")
    version = head.history.latest()
    assert version.history_user == operator and version.history_change_reason == "facility closed"
    page = history(client, head)
    with translation.override("uk"):
        assert str(CHANGE_REASONS["facility closed"]) in page  # the stored reason, in words


def test_a_version_is_shown_but_never_restored(client, operator, clinic, division, head):
    doctor = hire(clinic, division, head)
    employee_dismiss(employee=doctor, actor=head.party.user)
    first = doctor.history.earliest()
    url = reverse("admin:registry_employee_simple_history", args=[doctor.pk, first.history_id])
    page = client.get(url)
    assert page.status_code == 200 and "Шевченко" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # no "revert" button
    versions = doctor.history.count()
    assert client.post(url, {"_save": "1"}).status_code == 403
    doctor.refresh_from_db()
    assert doctor.status == "DISMISSED" and doctor.history.count() == versions
    assert client.get(url.replace(str(first.history_id), "x")).status_code == 404
    assert client.get(f"/admin/registry/employee/not-a-uuid/history/{first.history_id}/").status_code == 404
    assert client.get("/admin/registry/employee/not-a-uuid/history/").status_code == 404


# --- Actions go through the services; refusals change nothing -------------------------------------------


def test_dismissal_asks_for_a_reason_first(client, operator, clinic, division, head):
    doctor = hire(clinic, division, head)
    versions = doctor.history.count()
    page = action(client, "employee", "dismiss", [doctor])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    page = action(client, "employee", "dismiss", [doctor], _dismiss="1", reason="")
    assert page.context["form"].errors["reason"]
    doctor.refresh_from_db()
    assert doctor.status == "APPROVED" and doctor.history.count() == versions


def test_the_head_cannot_be_dismissed_from_the_admin_either(client, operator, head):
    versions = head.history.count()
    page = action(client, "employee", "dismiss", [head], _dismiss="1", reason="Спроба")
    messages = [str(message) for message in page.context["messages"]]
    assert len(messages) == 1 and str(head) in messages[0]  # the service's refusal, by name
    head.refresh_from_db()
    assert head.status == "APPROVED" and head.is_active and head.history.count() == versions


def test_staff_records_cannot_be_edited_in_a_form(client, operator, clinic, division, head):
    doctor = hire(clinic, division, head)
    for obj, data in [
        (doctor, {"status": "DISMISSED", "is_active": "", "additional_info": "{}"}),
        (doctor.party, {"last_name": "Підмінений", "tax_id": "1234567890"}),
        (division, {"name": "Інша назва", "status": "INACTIVE"}),
    ]:
        url = reverse(f"admin:registry_{obj._meta.model_name}_change", args=[obj.pk])
        page = client.get(url).content.decode()
        assert 'name="_save"' not in page  # shown read-only, with why
        assert client.post(url, data).status_code == 403
    doctor.refresh_from_db()
    division.refresh_from_db()
    assert (doctor.status, doctor.party.last_name, division.name) == (
        "APPROVED",
        "Шевченко",
        "Амбулаторія на Подолі",
    )


def test_withdrawing_invitations_through_the_service(client, operator, clinic, head):
    waiting, _token = employee_request_create(
        legal_entity=clinic, actor=head.party.user, data=staff_data.employee_request("HR")
    )
    employee_request_resend(employee_request=waiting, actor=head.party.user)
    accepted = EmployeeRequestFactory(legal_entity=clinic, status="APPROVED", employee_type="HR")
    versions = accepted.history.count()
    page = action(client, "employeerequest", "withdraw", [waiting, accepted])
    messages = [str(message) for message in page.context["messages"]]
    assert len(messages) == 2 and any(str(accepted) in message for message in messages)
    waiting.refresh_from_db()
    accepted.refresh_from_db()
    assert waiting.status == "REJECTED" and waiting.history.latest().history_user == operator
    assert accepted.status == "APPROVED" and accepted.history.count() == versions
    page = client.get(reverse("admin:registry_employeerequest_change", args=[waiting.pk])).content.decode()
    assert waiting.superseded_links.get().token_hash not in page  # when it was re-sent, never the link


def test_places_of_service_are_activated_and_deactivated_through_the_services(client, operator, division):
    page = action(client, "division", "deactivate", [division])
    assert 'name="_confirm"' in page.content.decode()  # asked first
    assert Division.objects.get(pk=division.pk).status == "ACTIVE"
    action(client, "division", "deactivate", [division], _confirm="1")
    division.refresh_from_db()
    assert division.status == "INACTIVE" and division.history.latest().history_user == operator
    versions = division.history.count()
    page = action(client, "division", "deactivate", [division], _confirm="1")  # refused: already inactive
    assert division.history.count() == versions
    action(client, "division", "activate", [division])
    assert Division.objects.get(pk=division.pk).status == "ACTIVE"


def test_actions_need_the_change_permission(client, clinic, division, head):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_employee", "view_employeerequest", "view_division"])
    )
    client.force_login(viewer)
    doctor = hire(clinic, division, head)
    for model in ("employee", "employeerequest", "division"):
        assert client.get(reverse(f"admin:registry_{model}_changelist")).context["action_form"] is None
    action(client, "employee", "dismiss", [doctor], _dismiss="1", reason="Без права")
    action(client, "division", "deactivate", [division], _confirm="1")
    doctor.refresh_from_db()
    division.refresh_from_db()
    assert doctor.status == "APPROVED" and division.status == "ACTIVE"
    assert "Шевченко" in history(client, doctor)  # but may read the history


# --- Sections and words ---------------------------------------------------------------------------------


def test_staff_models_sit_in_the_staff_section_and_places_with_facilities(client, operator):
    sections = {
        str(section["name"]): [model["object_name"] for model in section["models"]]
        for section in client.get(reverse("admin:index")).context["app_list"]
    }
    assert sections["Персонал"] == ["Employee", "EmployeeRequest", "Party"]
    assert sections["Реєстр закладів"][:3] == ["RegistrationApplication", "LegalEntity", "Division"]
    assert not any("Historical" in name for names in sections.values() for name in names)


def test_simple_history_overrides_name_real_msgids():
    known = _library_msgids(simple_history, code=True)
    assert [msgid for msgid in third_party_strings.SIMPLE_HISTORY_MSGIDS if msgid not in known] == []


def test_history_and_dismissal_pages_read_in_ukrainian(
    client,
    operator,
    clinic,
    division,
    head,
    untranslated,  # noqa: F811 (the fixture imported above)
):
    doctor = hire(clinic, division, head)
    action(client, "employee", "dismiss", [doctor], _dismiss="1", reason="Скорочення штату")
    legal_entity_deactivate(legal_entity=clinic, actor=operator)
    first = doctor.history.earliest()
    pages = [
        reverse("admin:registry_employee_history", args=[doctor.pk]),
        reverse("admin:registry_employee_simple_history", args=[doctor.pk, first.history_id]),
        reverse("admin:registry_party_history", args=[doctor.party.pk]),
        reverse("admin:registry_employeerequest_history", args=[doctor.requests.get().pk]),
        reverse("admin:registry_legalentity_history", args=[clinic.pk]),
    ]
    untranslated.clear()  # what the services wrote (their emails) is not these pages
    english = {}
    for url in pages:
        words = english_words(client.get(url).content.decode(), codes=CODES)
        if words:
            english[url] = sorted(words)
    dismissal = action(client, "employee", "dismiss", [head]).content.decode()
    assert english_words(dismissal, codes=CODES) == set()
    assert english == {}
    assert sorted(untranslated) == []
