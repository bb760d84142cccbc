"""The staff pages of the cabinet: the list (filters, search, pages), one employee, dismissal, and the
waiting invitations (send again, withdraw) — each only within the person's own facility."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from ehealth_portal.models import Email
from registry.models import Employee, EmployeeRequest, SupersededInvitationLink
from registry.selectors import employee_request_by_token
from registry.services import employee_request_create
from tests import staff_data
from tests.accounts.helpers import main_html
from tests.factories import DivisionFactory, EmployeeFactory, LegalEntityFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.usefixtures("reference_data")

STAFF_URL = reverse("registry:staff-list")


def uk(message: str, **values) -> str:
    """The page's text of a msgid (pages are in Ukrainian), whether or not it is translated yet."""
    with translation.override("uk"):
        text = gettext(message)
    return text % values if values else text


def worker(clinic, role="DOCTOR", *, division=None, email=None, **party) -> Employee:
    user = UserFactory(**({"email": email} if email else {}))
    return EmployeeFactory(
        legal_entity=clinic,
        party=PartyFactory(user=user, **party),
        employee_type=role,
        position="P7" if role == "DOCTOR" else "P14",
        division=division,
    )


@pytest.fixture
def clinic():
    return LegalEntityFactory()


@pytest.fixture
def division(clinic):
    return DivisionFactory(legal_entity=clinic, name="Амбулаторія на Подолі")


@pytest.fixture
def head(clinic):
    return worker(clinic, "OWNER", email="head@clinic.example", last_name="Коваленко")


@pytest.fixture
def hr(clinic):
    return worker(clinic, "HR", email="hr@clinic.example", last_name="Мельник", first_name="Оксана")


@pytest.fixture
def doctor(clinic, division):
    return worker(
        clinic,
        "DOCTOR",
        division=division,
        email="p.ivanenko@clinic.example",
        last_name="Іваненко",
        first_name="Петро",
        tax_id="3218312342",
        birth_date=datetime.date(1988, 2, 11),
    )


def names(response) -> list[str]:
    return re.findall(r'<td><a href="/cabinet/staff/[0-9a-f-]+/">([^<]+)</a></td>', main_html(response))


def counts(employee: Employee) -> tuple:
    employee.refresh_from_db()
    return (
        employee.status,
        employee.is_active,
        employee.end_date,
        Employee.history.count(),
        Employee.objects.count(),
    )


# --- The list ----------------------------------------------------------------------------------------


def test_the_list_shows_the_working_staff_with_role_position_place_and_date(client, head, hr, doctor):
    client.force_login(hr.party.user)
    response = client.get(STAFF_URL)
    assert response.status_code == 200
    html = main_html(response)
    assert sorted(names(response)) == sorted(str(e.party) for e in (head, hr, doctor))
    assert "Лікар загальної практики – сімейний лікар" in html  # the position's label, P7
    assert "Амбулаторія на Подолі" in html
    assert doctor.start_date.strftime("%d.%m.%Y") in html
    assert uk("working") in html


def test_filters_by_role_status_and_place(client, clinic, head, hr, doctor, division):
    dismissed = worker(clinic, "DOCTOR", last_name="Бондар")
    Employee.objects.filter(pk=dismissed.pk).update(status=Employee.Status.DISMISSED, is_active=False)
    client.force_login(head.party.user)

    assert str(dismissed.party) not in names(client.get(STAFF_URL))  # working staff unless asked
    assert names(client.get(STAFF_URL, {"status": "DISMISSED"})) == [str(dismissed.party)]
    assert len(names(client.get(STAFF_URL, {"status": "ALL"}))) == 4
    assert names(client.get(STAFF_URL, {"employee_type": "HR"})) == [str(hr.party)]
    assert names(client.get(STAFF_URL, {"division": str(division.pk)})) == [str(doctor.party)]
    # A value that is not offered is marked and ignored, not a server error.
    response = client.get(STAFF_URL, {"employee_type": "SURGEON"})
    assert response.status_code == 200 and len(names(response)) == 3


@pytest.mark.parametrize(
    "query",
    ["іваненко", "ІВАНЕНКО петро", "3218312342", "P.IVANENKO@", "ivanenko"],
    ids=["surname", "surname and name", "rnokpp", "email", "email part"],
)
def test_search_by_surname_name_rnokpp_or_email_in_any_case(client, head, hr, doctor, query):
    client.force_login(hr.party.user)
    assert names(client.get(STAFF_URL, {"q": query})) == [str(doctor.party)]


def test_a_search_that_matches_nobody_says_so(client, hr, doctor):
    client.force_login(hr.party.user)
    response = client.get(STAFF_URL, {"q": "Шевчук"})
    assert names(response) == [] and uk("No employee matches your search.") in main_html(response)


def test_pages_keep_the_filters(client, clinic, hr):
    for number in range(26):
        worker(clinic, "ASSISTANT", last_name="Петренко", first_name=["Анна", "Ірина"][number % 2])
    client.force_login(hr.party.user)
    first = client.get(STAFF_URL, {"employee_type": "ASSISTANT"})
    assert len(names(first)) == 25
    assert 'href="?employee_type=ASSISTANT&amp;page=2"' in main_html(first)
    second = client.get(STAFF_URL, {"employee_type": "ASSISTANT", "page": 2})
    assert len(names(second)) == 1
    assert len(names(client.get(STAFF_URL, {"employee_type": "ASSISTANT", "page": 99}))) == 1  # the last page


def test_the_list_costs_the_same_queries_for_3_or_30_employees(client, clinic, hr, division):
    client.force_login(hr.party.user)
    for _ in range(2):
        worker(clinic, "DOCTOR", division=division)
    employee_request_create(legal_entity=clinic, actor=hr.party.user, data=staff_data.employee_request("HR"))
    client.get(STAFF_URL)  # the session and the reference data are read once

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(STAFF_URL).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(27):
        worker(clinic, "DOCTOR", division=division)
    for _ in range(5):
        employee_request_create(
            legal_entity=clinic, actor=hr.party.user, data=staff_data.employee_request("HR")
        )
    assert queries() == few


def test_another_facilitys_staff_is_never_listed(client, hr, doctor):
    other = LegalEntityFactory()
    stranger = worker(other, "DOCTOR", last_name="Чужий")
    client.force_login(hr.party.user)
    assert str(stranger.party) not in names(client.get(STAFF_URL, {"status": "ALL"}))
    assert client.get(reverse("registry:employee-detail", args=[stranger.pk])).status_code == 404
    # Choosing the other facility is refused, not answered with this one's data.
    assert client.get(STAFF_URL, {"facility": str(other.pk)}).status_code == 403


def test_the_cabinet_links_to_the_staff(client, head):
    client.force_login(head.party.user)
    assert f'href="{STAFF_URL}"' in main_html(client.get(reverse("registry:cabinet")))


def test_the_staff_pages_need_a_sign_in_and_a_job_here(client, doctor):
    response = client.get(STAFF_URL)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.get(STAFF_URL).status_code == 403


# --- One employee --------------------------------------------------------------------------------------


def test_the_employee_page_shows_the_person_the_job_and_the_doctors_qualification(client, hr, doctor):
    block = staff_data.doctor()
    block["science_degree"] = {
        "country": "UA",
        "city": "Київ",
        "degree": "PHD",
        "institution_name": "НМУ",
        "diploma_number": "ДК 012345",
        "speciality": "Педіатрія",
    }
    Employee.objects.filter(pk=doctor.pk).update(additional_info=block, speciality=block["specialities"][0])
    client.force_login(hr.party.user)
    response = client.get(reverse("registry:employee-detail", args=[doctor.pk]))
    html = main_html(response)
    assert response.status_code == 200
    assert "Іваненко" in html and "Петро" in html and "11 лютого 1988" in html
    assert "3218312342" in html  # HR keeps the staff: the RNOKPP in full
    assert "p.ivanenko@clinic.example" in html
    assert "Сімейний лікар" in html and "Перша категорія" in html  # the main speciality, in words
    assert "Національний медичний університет імені О. О. Богомольця" in html  # education
    assert "Інтернатура" in html  # qualification type
    assert "Доктор філософії" in html  # science degree
    assert uk("Dismiss") in html


def test_a_colleague_without_staff_rights_sees_only_the_last_digits_of_the_rnokpp(client, clinic, doctor):
    colleague = worker(clinic, "ACCOUNTANT")
    client.force_login(colleague.party.user)
    html = main_html(client.get(reverse("registry:employee-detail", args=[doctor.pk])))
    assert "3218312342" not in html and "••••••2342" in html
    assert reverse("registry:employee-dismiss", args=[doctor.pk]) not in html


# --- Dismissal ----------------------------------------------------------------------------------------


def test_dismissal_asks_then_dismisses_with_the_reason_and_takes_the_rights_at_once(client, hr, doctor):
    url = reverse("registry:employee-dismiss", args=[doctor.pk])
    client.force_login(hr.party.user)
    page = client.get(url)
    assert page.status_code == 200 and 'name="reason"' in main_html(page)
    history = Employee.history.filter(id=doctor.pk).count()

    response = client.post(url, {"reason": "За власним бажанням"})
    assert response.status_code == 302
    assert response.url == reverse("registry:employee-detail", args=[doctor.pk])
    doctor.refresh_from_db()
    assert (doctor.status, doctor.is_active, doctor.end_date, doctor.status_reason) == (
        Employee.Status.DISMISSED,
        False,
        timezone.localdate(),
        "За власним бажанням",
    )
    latest = Employee.history.filter(id=doctor.pk).latest("history_date")
    assert Employee.history.filter(id=doctor.pk).count() == history + 1
    assert latest.history_user == hr.party.user
    detail = main_html(client.get(response.url))
    assert "hr@clinic.example" in detail  # who, in the history of changes

    # The dismissed doctor's next request in this facility: no rights left.
    client.force_login(doctor.party.user)
    assert client.get(STAFF_URL).status_code == 403
    assert client.get(reverse("registry:cabinet")).status_code == 403


def test_the_head_cannot_be_dismissed(client, hr, head):
    url = reverse("registry:employee-dismiss", args=[head.pk])
    client.force_login(hr.party.user)
    page = main_html(client.get(url))
    assert 'name="reason"' not in page  # nothing to confirm
    before = counts(head)
    response = client.post(url, {"reason": "x"})
    assert response.status_code == 200
    assert uk("The head cannot be dismissed.") in main_html(response)
    assert counts(head) == before


def test_dismissing_twice_is_refused_and_changes_nothing(client, hr, doctor):
    url = reverse("registry:employee-dismiss", args=[doctor.pk])
    client.force_login(hr.party.user)
    client.post(url, {"reason": "перший раз"})
    before = counts(doctor)
    response = client.post(url, {"reason": "другий раз"})
    assert uk("The employee is already dismissed.") in main_html(response)
    assert counts(doctor) == before
    doctor.refresh_from_db()
    assert doctor.status_reason == "перший раз"


def test_hr_of_another_facility_cannot_dismiss_and_nothing_changes(client, doctor):
    other = LegalEntityFactory()
    stranger = worker(other, "HR")
    url = reverse("registry:employee-dismiss", args=[doctor.pk])
    before = counts(doctor)
    client.force_login(stranger.party.user)
    assert client.post(url, {"reason": "x"}).status_code == 404  # not an employee of their facility
    assert client.post(f"{url}?facility={doctor.legal_entity_id}", {"reason": "x"}).status_code == 403
    assert counts(doctor) == before


def test_a_colleague_without_the_right_cannot_dismiss(client, clinic, doctor):
    colleague = worker(clinic, "DOCTOR")
    before = counts(doctor)
    client.force_login(colleague.party.user)
    assert client.get(reverse("registry:employee-dismiss", args=[doctor.pk])).status_code == 403
    assert client.post(reverse("registry:employee-dismiss", args=[doctor.pk])).status_code == 403
    assert counts(doctor) == before


# --- Waiting invitations ---------------------------------------------------------------------------------


@pytest.fixture
def invitation(clinic, hr, run_on_commit):
    request, token = run_on_commit(
        employee_request_create,
        legal_entity=clinic,
        actor=hr.party.user,
        data=staff_data.employee_request("ACCOUNTANT", party={"email": "buh@clinic.example"}),
    )
    return request, token


def test_waiting_invitations_are_listed_with_their_actions(client, hr, invitation):
    client.force_login(hr.party.user)
    html = main_html(client.get(STAFF_URL))
    assert "buh@clinic.example" in html and "Бухгалтер" in html
    request, _token = invitation
    assert reverse("registry:employee-request-resend", args=[request.pk]) in html
    assert reverse("registry:employee-request-withdraw", args=[request.pk]) in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_sending_again_supersedes_the_old_link_and_emails_a_new_one(
    client, hr, invitation, django_capture_on_commit_callbacks, outbox
):
    request, old_token = invitation
    client.force_login(hr.party.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:employee-request-resend", args=[request.pk]))
    assert response.status_code == 302 and response.url.startswith(STAFF_URL)
    assert employee_request_by_token(token=old_token)[1] == "superseded"
    assert [message.to for message in outbox] == [["buh@clinic.example"]]
    new_token = re.search(r"/invite/([\w-]+)/", outbox[0].body)[1]
    assert new_token != old_token
    assert employee_request_by_token(token=new_token) == (request, None)
    assert uk(
        "The invitation was sent to %(email)s again with a new link; the previous link no longer works.",
        email="buh@clinic.example",
    ) in main_html(client.get(response.url))


def test_withdrawing_stops_the_link(client, hr, invitation):
    request, token = invitation
    client.force_login(hr.party.user)
    response = client.post(reverse("registry:employee-request-withdraw", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == EmployeeRequest.Status.REJECTED
    assert employee_request_by_token(token=token)[1] == "used"
    assert uk("The invitation to %(email)s is withdrawn: its link no longer works.", email=request.email) in (
        main_html(client.get(STAFF_URL))
    )
    assert "buh@clinic.example" not in main_html(client.get(STAFF_URL))  # no longer waiting
    # Withdrawn already: sending it again is refused with the reason, and sends nothing.
    emails = Email.objects.count()
    follow = client.post(reverse("registry:employee-request-resend", args=[request.pk]), follow=True)
    assert uk(
        "Only a waiting invitation can be sent again; this one is %(status)s.", status=uk("declined")
    ) in (main_html(follow))
    assert Email.objects.count() == emails


def test_invitations_are_only_for_those_who_keep_the_staff(client, clinic, doctor, invitation):
    request, _token = invitation
    client.force_login(doctor.party.user)
    html = main_html(client.get(STAFF_URL))
    assert 'id="invitations-title"' not in html and "buh@clinic.example" not in html
    assert client.post(reverse("registry:employee-request-withdraw", args=[request.pk])).status_code == 403
    assert client.get(reverse("registry:employee-request-resend", args=[request.pk])).status_code == 405
    request.refresh_from_db()
    assert request.status == EmployeeRequest.Status.NEW


def test_hr_of_another_facility_cannot_touch_the_invitations(client, invitation):
    request, _token = invitation
    stranger = worker(LegalEntityFactory(), "HR")
    client.force_login(stranger.party.user)
    before = (
        Email.objects.count(),
        SupersededInvitationLink.objects.count(),
        EmployeeRequest.history.count(),
    )
    assert client.post(reverse("registry:employee-request-resend", args=[request.pk])).status_code == 404
    assert client.post(reverse("registry:employee-request-withdraw", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.status == EmployeeRequest.Status.NEW
    assert (
        Email.objects.count(),
        SupersededInvitationLink.objects.count(),
        EmployeeRequest.history.count(),
    ) == before
