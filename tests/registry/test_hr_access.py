"""The head grants HR access: the HR officer's data, the signed request, the invitation, and who may do it."""

import base64
import datetime
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from ehealth_portal.models import Email
from registry import permissions
from registry.models import Employee, EmployeeRequest, Party
from registry.payloads import payload_canonical
from registry.services.signing import SIGNED_CONTENT_DIFFERS
from tests import staff_data
from tests.accounts.helpers import create_account, main_html
from tests.factories import EmployeeFactory, LegalEntityFactory, PartyFactory

from .conftest import HEAD

pytestmark = pytest.mark.usefixtures("reference_data")

MANAGEMENT = "hr_access_wizard-current_step"
PASSWORD = "Kadry-u-Poriadku-2026"
HR_EMAIL = "hr@clinic.example"
HR_TAX_ID = staff_data.rnokpp(datetime.date(1985, 3, 14), serial=4242)  # the same in every call
NOTHING_SENT = {"requests": 0, "employees": 1, "emails": 0}  # the head only: no request, no email


def hr_fields(**changes) -> dict:
    """Step 1 as typed: a valid HR officer (tests/staff_data.py's person)."""
    person = staff_data.party(email=HR_EMAIL)
    document = person["documents"][0]
    fields = {
        "last_name": "Мельник",
        "first_name": "Ірина",
        "second_name": "Василівна",
        "tax_id": HR_TAX_ID,
        "birth_date": person["birth_date"],
        "gender": "FEMALE",
        "document_type": document["type"],
        "document_number": document["number"],
        "document_issued_by": document["issued_by"],
        "document_issued_at": document["issued_at"],
        "phone_mobile": "+380501112233",
        "email": HR_EMAIL,
        "position": "P14",
        "start_date": "2026-01-12",
    }
    return {**fields, **changes}


def step_url(step: str) -> str:
    return reverse("registry:hr-access-step", args=[step])


def post_step(client, step: str, data: dict, **extra):
    return client.post(
        step_url(step), {MANAGEMENT: step, **{f"{step}-{k}": v for k, v in data.items()}, **extra}
    )


def fill_person(client, **changes):
    response = post_step(client, "person", hr_fields(**changes))
    assert response.status_code == 302 and response.url == step_url("review"), main_html(response)


def review_document(client) -> bytes:
    response = client.get(step_url("review"))
    assert response.status_code == 200
    return base64.b64decode(response.context["document_base64"])


def submit(client, capture, document: bytes, *, signature: bytes | None = None, upload: bytes | None = None):
    """The review's POST: a signature made in the browser (base64) or an uploaded .p7s."""
    fields = {"document_sha256": hashlib.sha256(document).hexdigest()}
    files = {}
    if signature is not None:
        fields["signature_base64"] = base64.b64encode(signature).decode()
    if upload is not None:
        files["review-signature"] = SimpleUploadedFile("request.p7s", upload)
    with capture(execute=True):
        return post_step(client, "review", fields, **files)


def stored() -> dict:
    return {
        "requests": EmployeeRequest.objects.count(),
        "employees": Employee.objects.count(),
        "emails": Email.objects.count(),
    }


@pytest.fixture
def clinic():
    return LegalEntityFactory()


@pytest.fixture
def head(clinic):
    """The clinic's head: their RNOKPP is the test PKI's default person's (pki.person())."""
    user = create_account("head@clinic.example")
    party = PartyFactory(user=user, tax_id=HEAD["drfo"], last_name="Коваленко", first_name="Олена")
    return EmployeeFactory(legal_entity=clinic, party=party, employee_type="OWNER")


@pytest.fixture
def as_head(client, head):
    client.force_login(head.party.user)
    return client


def staff_member(role: str, legal_entity, email: str):
    party = PartyFactory(user=create_account(email), tax_id=staff_data.rnokpp())
    return EmployeeFactory(legal_entity=legal_entity, party=party, employee_type=role, position="P14")


# --- The head grants access ------------------------------------------------------------------------


def test_the_head_signs_in_the_browser_and_the_hr_officer_accepts(
    as_head, pki, clinic, head, outbox, django_capture_on_commit_callbacks
):
    assert as_head.get(reverse("registry:hr-access")).url == step_url("person")
    fill_person(as_head)
    review = as_head.get(step_url("review"))
    html = main_html(review)
    # The document in words and exactly; the browser is told whose key must sign.
    assert "Мельник" in html and HR_EMAIL in html and "Спеціаліст відділу кадрів" in html
    document = base64.b64decode(review.context["document_base64"])
    assert escape(document.decode()) in html
    assert f'data-expected-drfo="{HEAD["drfo"]}"' in html
    assert as_head.get(step_url("document")).content == document

    response = submit(
        as_head, django_capture_on_commit_callbacks, document, signature=pki.sign(pki.person(), document)
    )

    assert response.status_code == 302 and response.url == reverse("registry:hr-access-sent")
    request = EmployeeRequest.objects.get()
    assert (request.legal_entity, request.employee_type, request.position, request.email) == (
        clinic,
        "HR",
        "P14",
        HR_EMAIL,
    )
    assert bytes(request.signed_content) == document == payload_canonical(request.data)
    assert request.data["status"] == "NEW" and request.data["legal_entity_id"] == str(clinic.pk)
    assert request.signer["drfo"] == HEAD["drfo"] and request.created_by == head.party.user
    sent = main_html(as_head.get(response.url))
    assert HR_EMAIL in sent
    [email] = outbox
    assert email.to == [HR_EMAIL] and clinic.name in email.body

    # The HR officer opens the link, sets a password, and works at the clinic as HR.
    token = re.search(r"/invite/([\w-]+)/", email.body)[1]
    hr_client = Client()
    response = hr_client.post(
        reverse("registry:invitation", args=[token]), {"password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302 and response.url == f"/cabinet/?facility={clinic.pk}"
    hr_user = Party.objects.get(tax_id=request.data["party"]["tax_id"]).user
    assert hr_user.email == HR_EMAIL
    assert permissions.roles_of(hr_user, clinic) == {"HR"}
    assert hr_client.get(response.url).status_code == 200


def test_a_detached_signature_file_is_accepted_too(as_head, pki, outbox, django_capture_on_commit_callbacks):
    fill_person(as_head)
    document = review_document(as_head)
    signature = pki.openssl_sign(pki.person(), document, detached=True)
    response = submit(as_head, django_capture_on_commit_callbacks, document, upload=signature)
    assert response.status_code == 302
    assert EmployeeRequest.objects.get().email == HR_EMAIL and len(outbox) == 1


def test_the_typed_data_stays_between_the_steps(as_head):
    fill_person(as_head)
    response = as_head.post(step_url("review"), {MANAGEMENT: "review", "wizard_goto_step": "person"})
    assert response.status_code == 302
    page = as_head.get(step_url("person"))
    assert page.context["form"]["email"].value() == HR_EMAIL
    assert page.context["form"]["last_name"].value() == "Мельник"


# --- Refusals: the signature ----------------------------------------------------------------------


def test_a_signature_by_someone_else_is_refused_and_nothing_is_stored(
    as_head, pki, outbox, django_capture_on_commit_callbacks
):
    fill_person(as_head)
    document = review_document(as_head)
    stranger = pki.person(drfo=staff_data.rnokpp(), surname="Бондар", given_names="Петро Іванович")
    response = submit(
        as_head, django_capture_on_commit_callbacks, document, signature=pki.sign(stranger, document)
    )
    assert response.status_code == 200
    assert "signature" in response.context["form"].errors
    assert stored() == NOTHING_SENT and outbox == []


def test_a_document_changed_after_signing_is_refused(
    as_head, pki, outbox, django_capture_on_commit_callbacks
):
    fill_person(as_head)
    document = review_document(as_head)
    changed = document.replace(HR_EMAIL.encode(), b"hr@clinic.exampla")
    response = submit(
        as_head, django_capture_on_commit_callbacks, document, signature=pki.sign(pki.person(), changed)
    )
    assert response.status_code == 200
    with translation.override("uk"):
        assert escape(str(SIGNED_CONTENT_DIFFERS)) in main_html(response)
    assert "signature" in response.context["form"].errors

    # Signed, then the data changed on step 1: the old signature does not cover the new request.
    signature = pki.sign(pki.person(), document)
    fill_person(as_head, position="P4")
    new_document = review_document(as_head)
    assert new_document != document
    response = submit(as_head, django_capture_on_commit_callbacks, new_document, signature=signature)
    assert "signature" in response.context["form"].errors
    response = submit(as_head, django_capture_on_commit_callbacks, document, signature=signature)
    assert response.status_code == 200  # the page showed the old document: sign the new one
    assert stored() == NOTHING_SENT and outbox == []


def test_no_signature_says_what_is_missing(as_head, django_capture_on_commit_callbacks):
    fill_person(as_head)
    document = review_document(as_head)
    response = submit(as_head, django_capture_on_commit_callbacks, document)
    assert list(response.context["form"].errors) == ["signature"]
    assert stored()["requests"] == 0


# --- Refusals: who may grant access -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["HR", "DOCTOR", "ADMIN"])
def test_only_the_head_grants_hr_access(client, clinic, head, role, pki, django_capture_on_commit_callbacks):
    member = staff_member(role, clinic, f"{role.lower()}@clinic.example")
    client.force_login(member.party.user)
    assert client.get(reverse("registry:hr-access")).status_code == 403
    assert client.get(step_url("person")).status_code == 403
    assert post_step(client, "person", hr_fields()).status_code == 403
    assert client.get(reverse("registry:hr-access-sent")).status_code == 403
    assert stored() == {"requests": 0, "employees": 2, "emails": 0}


def test_staff_or_the_head_of_another_facility_cannot_grant_access_here(client, clinic, head):
    other = LegalEntityFactory()
    for role, email in (("DOCTOR", "doctor@other.example"), ("OWNER", "head@other.example")):
        member = staff_member(role, other, email)
        client.force_login(member.party.user)
        assert client.get(f"{reverse('registry:hr-access')}?facility={clinic.pk}").status_code == 403
    assert EmployeeRequest.objects.count() == 0


def test_a_dismissed_head_is_refused(client, head):
    Employee.objects.filter(pk=head.pk).update(status=Employee.Status.DISMISSED)
    client.force_login(head.party.user)
    assert client.get(step_url("person")).status_code == 403


def test_signing_in_is_required(client):
    response = client.get(step_url("person"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_the_sent_page_shows_only_what_this_session_sent(as_head):
    assert as_head.get(reverse("registry:hr-access-sent")).status_code == 404


# --- Refusals: the HR officer's data ----------------------------------------------------------------


def test_an_email_of_another_person_is_refused_at_the_email_field(
    as_head, pki, outbox, django_capture_on_commit_callbacks
):
    someone = create_account("taken@clinic.example")
    PartyFactory(user=someone, tax_id=staff_data.rnokpp())
    fill_person(as_head, email="taken@clinic.example")
    document = review_document(as_head)
    response = submit(
        as_head, django_capture_on_commit_callbacks, document, signature=pki.sign(pki.person(), document)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["email"]
    assert response.context["wizard"]["steps"].current == "person"
    # Corrected there, the request is shown again to be signed.
    response = post_step(as_head, "person", hr_fields())
    assert response.status_code == 302 and response.url == step_url("review")
    assert stored() == NOTHING_SENT and outbox == []


def test_a_person_already_working_here_as_hr_is_refused_at_the_rnokpp(
    as_head, clinic, pki, outbox, django_capture_on_commit_callbacks
):
    fields = hr_fields()
    working = PartyFactory(
        tax_id=fields["tax_id"], birth_date=datetime.date.fromisoformat(fields["birth_date"])
    )
    EmployeeFactory(legal_entity=clinic, party=working, employee_type="HR", position="P14")
    fill_person(as_head)
    document = review_document(as_head)
    response = submit(
        as_head, django_capture_on_commit_callbacks, document, signature=pki.sign(pki.person(), document)
    )
    assert list(response.context["form"].errors) == ["tax_id"]
    assert EmployeeRequest.objects.count() == 0 and outbox == []


def test_step_one_refuses_bad_input_next_to_the_field(as_head):
    response = post_step(as_head, "person", hr_fields(tax_id="1234567890", email="not-an-email"))
    assert response.status_code == 200
    assert {"tax_id", "email"} <= set(response.context["form"].errors)


# --- The cabinet's link ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "shown"), [({"OWNER"}, True), ({"HR"}, False), ({"DOCTOR"}, False), (set(), False)]
)
def test_the_cabinet_links_to_hr_access_for_the_head_only(clinic, roles, shown):
    scopes = permissions.ROLE_SCOPES["OWNER"] if "OWNER" in roles else permissions.ROLE_SCOPES["HR"]
    html = render_to_string(
        "registry/cabinet/links_hr_access.html", {"roles": roles, "scopes": scopes, "legal_entity": clinic}
    )
    assert (f'href="/cabinet/staff/hr-access/?facility={clinic.pk}"' in html) is shown
