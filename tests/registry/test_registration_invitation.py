"""The head's invitation, the cabinet access, the public list and map, and operators' facility actions."""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from registry.models import Employee, EmployeeRequest, LegalEntity
from registry.selectors import (
    division_geojson,
    employee_request_by_token,
    legal_entity_for_user,
    legal_entity_public_get,
    legal_entity_public_list,
)
from registry.services import (
    employee_request_accept,
    employee_request_expire,
    legal_entity_deactivate,
    legal_entity_nhs_verify,
    registration_application_submit,
)
from registry.tasks import employee_requests_expire_task
from tests.factories import SuperuserFactory, UserFactory

from .conftest import HEAD_EMAIL

pytestmark = pytest.mark.django_db

PASSWORD = "Stepova-Hrustalka-2026"
User = get_user_model()


@pytest.fixture
def invitation(registration, pki, run_on_commit, outbox):
    """A registered demo clinic and the token of its head's invitation (from the email)."""
    registration.register_clinic()
    data = registration.payload()
    envelope = pki.sign(pki.person(), registration.canonical(data))
    run_on_commit(registration_application_submit, signed_envelope=envelope, data=data)
    return re.search(r"/invite/([\w-]+)/", outbox[-1].body)[1]


def state():
    """What an acceptance changes."""
    return {
        "users": User.objects.count(),
        "employees": Employee.objects.count(),
        "requests": list(EmployeeRequest.objects.values_list("status", flat=True)),
        "linked": list(
            EmployeeRequest.objects.values_list("legal_entity__employees__party__user", flat=True)
        ),
    }


def test_accepting_the_invitation_creates_the_account_and_the_head(invitation, client):
    user = employee_request_accept(token=invitation, password=PASSWORD)

    assert user.email == HEAD_EMAIL and user.check_password(PASSWORD)
    assert (user.last_name, user.first_name) == ("Коваленко", "Олена")
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (HEAD_EMAIL, True, True)
    facility = LegalEntity.objects.get()
    employee = Employee.objects.get()
    assert (employee.legal_entity, employee.employee_type, employee.position) == (facility, "OWNER", "P2")
    assert (employee.status, employee.is_active, employee.start_date) == (
        "APPROVED",
        True,
        timezone.localdate(),
    )
    assert employee.party.user == user
    assert employee.division == facility.divisions.get()
    request = EmployeeRequest.objects.get()
    assert (request.status, request.employee) == ("APPROVED", employee)
    assert legal_entity_for_user(user=user) == facility
    # The head can sign in with the new password.
    assert client.login(email=HEAD_EMAIL, password=PASSWORD)


def test_a_second_use_changes_nothing(invitation):
    employee_request_accept(token=invitation, password=PASSWORD)
    before = state()
    with pytest.raises(ValidationError) as error:
        employee_request_accept(token=invitation, password="Another-Strong-Password-1")
    assert error.value.code == "invitation_used"
    assert state() == before
    assert User.objects.get(email=HEAD_EMAIL).check_password(PASSWORD)
    assert employee_request_by_token(token=invitation)[1] == "used"


def test_an_expired_invitation_is_refused_and_marked_expired(invitation):
    EmployeeRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert employee_request_by_token(token=invitation)[1] == "expired"
    with pytest.raises(ValidationError) as error:
        employee_request_accept(token=invitation, password=PASSWORD)
    assert error.value.code == "invitation_expired"
    assert state() == {"users": 0, "employees": 0, "requests": ["EXPIRED"], "linked": [None]}


@pytest.mark.parametrize("token", ["", "tampered", "x" * 43])
def test_a_tampered_link_is_refused(invitation, token):
    tampered = token or invitation[:-1] + ("A" if invitation[-1] != "A" else "B")
    before = state()
    assert employee_request_by_token(token=tampered) == (None, "invalid")
    with pytest.raises(ValidationError) as error:
        employee_request_accept(token=tampered, password=PASSWORD)
    assert error.value.code == "invitation_invalid"
    assert state() == before == {"users": 0, "employees": 0, "requests": ["NEW"], "linked": [None]}


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1A", "password_too_short"),
        ("1234567890123", "password_entirely_numeric"),
        ("password123", "password_too_common"),
    ],
)
def test_a_weak_password_is_refused_and_the_link_still_works(invitation, password, code):
    with pytest.raises(ValidationError) as error:
        employee_request_accept(token=invitation, password=password)
    assert code in [item.code for item in error.value.error_dict["password"]]
    assert state() == {"users": 0, "employees": 0, "requests": ["NEW"], "linked": [None]}
    assert employee_request_accept(token=invitation, password=PASSWORD).email == HEAD_EMAIL


def test_an_existing_account_without_a_password_is_linked(invitation):
    existing = UserFactory(email=HEAD_EMAIL)
    existing.set_unusable_password()
    existing.save()
    assert employee_request_accept(token=invitation, password=PASSWORD) == existing
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert User.objects.count() == 1
    assert legal_entity_for_user(user=existing) == LegalEntity.objects.get()


def test_an_existing_account_with_a_password_must_sign_in_and_is_not_taken_over(invitation):
    existing = UserFactory(email=HEAD_EMAIL, password="Owners-Own-Password-9")
    with pytest.raises(ValidationError) as error:
        employee_request_accept(token=invitation, password=PASSWORD)
    assert error.value.code == "account_exists"
    existing.refresh_from_db()
    assert existing.check_password("Owners-Own-Password-9")
    assert EmployeeRequest.objects.get().status == "NEW"
    assert employee_request_accept(token=invitation, user=existing) == existing
    assert legal_entity_for_user(user=existing) == LegalEntity.objects.get()


def test_the_expiry_job_marks_only_requests_past_their_term(invitation, registration):
    assert employee_request_expire() == 0
    EmployeeRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    employee_requests_expire_task()
    assert EmployeeRequest.objects.get().status == "EXPIRED"


# --- Cabinet access and the public site --------------------------------------------------------------------


def test_cabinet_access_only_for_active_staff_of_an_active_facility(invitation):
    assert legal_entity_for_user(user=UserFactory()) is None
    from django.contrib.auth.models import AnonymousUser

    assert legal_entity_for_user(user=AnonymousUser()) is None
    head = employee_request_accept(token=invitation, password=PASSWORD)
    assert legal_entity_for_user(user=head) is not None
    Employee.objects.update(is_active=False)
    assert legal_entity_for_user(user=head) is None


def test_the_facility_is_public_only_after_the_head_confirms(invitation):
    facility = LegalEntity.objects.get()
    assert list(legal_entity_public_list()) == []
    assert legal_entity_public_get(legal_entity_id=facility.pk) is None
    assert division_geojson(bbox=None)["features"] == []

    employee_request_accept(token=invitation, password=PASSWORD)
    assert list(legal_entity_public_list()) == [facility]
    assert legal_entity_public_get(legal_entity_id=facility.pk) == facility
    assert legal_entity_public_get(legal_entity_id="not-a-uuid") is None
    features = division_geojson(bbox=None)["features"]
    assert len(features) == 1
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [30.5234, 50.4501]}
    assert features[0]["properties"]["legal_entity_id"] == str(facility.pk)
    assert features[0]["properties"]["url"].endswith(f"/facilities/{facility.pk}/")


def test_public_list_search_and_filters(invitation):
    employee_request_accept(token=invitation, password=PASSWORD)
    facility = LegalEntity.objects.get()
    for query in ({"search": "ДЕМО"}, {"search": "38782323"}, {"region": "Київ"}, {"settlement": "Київ"}):
        assert list(legal_entity_public_list(**query)) == [facility], query
    for query in (
        {"search": "Неіснуюча"},
        {"search": "3878232"},
        {"region": "Львівська"},
        {"settlement": "Львів"},
    ):
        assert list(legal_entity_public_list(**query)) == [], query


def test_the_map_filters_by_bounding_box(invitation):
    employee_request_accept(token=invitation, password=PASSWORD)
    assert len(division_geojson(bbox=(30.0, 50.0, 31.0, 51.0))["features"]) == 1  # Kyiv
    assert division_geojson(bbox=(23.0, 49.0, 25.0, 50.0))["features"] == []  # Lviv
    assert len(division_geojson(bbox=(179.0, 50.0, 31.0, 51.0))["features"]) == 1  # across the antimeridian


# --- Operators' actions on facilities ---------------------------------------------------------------------


def test_nhs_verification_is_recorded_once(invitation):
    facility = LegalEntity.objects.get()
    operator = SuperuserFactory()
    legal_entity_nhs_verify(legal_entity=facility, actor=operator)
    facility.refresh_from_db()
    assert (facility.nhs_verified, facility.updated_by) == (True, operator)
    with pytest.raises(ValidationError) as error:
        legal_entity_nhs_verify(legal_entity=facility, actor=operator)
    assert error.value.code == "already_verified"


def test_deactivation_closes_the_facility_and_its_staff_lose_access(invitation, registration):
    head = employee_request_accept(token=invitation, password=PASSWORD)
    facility = LegalEntity.objects.get()
    pending = EmployeeRequest.objects.create(
        legal_entity=facility,
        employee_type="DOCTOR",
        position="P7",
        email="doctor@clinic.example",
        data={},
        token_hash="0" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    operator = SuperuserFactory()
    legal_entity_deactivate(legal_entity=facility, actor=operator)

    facility.refresh_from_db()
    assert (facility.status, facility.is_active, facility.end_date, facility.updated_by) == (
        "CLOSED",
        False,
        timezone.localdate(),
        operator,
    )
    employee = Employee.objects.get()
    assert (employee.status, employee.is_active, employee.end_date) == (
        "DISMISSED",
        False,
        timezone.localdate(),
    )
    pending.refresh_from_db()
    assert pending.status == "REJECTED"
    assert legal_entity_for_user(user=head) is None
    assert list(legal_entity_public_list()) == []
    assert division_geojson(bbox=None)["features"] == []

    for action in (legal_entity_deactivate, legal_entity_nhs_verify):
        with pytest.raises(ValidationError) as error:
            action(legal_entity=facility, actor=operator)
        assert error.value.code == "legal_entity_not_active"
