"""Operators' admin for registration: applications with their checks and evidence, facilities, register."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from registry.models import ApplicationCheck, EmployeeRequest, LegalEntity, RegistrationApplication
from registry.services import registration_application_submit
from tests.factories import EdrRecordFactory, SuperuserFactory, UserFactory

from .conftest import FOP_HEAD

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:registry_registrationapplication_changelist"


@pytest.fixture
def operator(client):
    user = SuperuserFactory()
    client.force_login(user)
    return user


def submitted(registration, pki, run_on_commit, *, fop=False, **changes):
    data = registration.fop_payload(**changes) if fop else registration.payload(**changes)
    signer = pki.person(**FOP_HEAD) if fop else pki.person()
    envelope = pki.sign(signer, registration.canonical(data))
    application, _token = run_on_commit(registration_application_submit, signed_envelope=envelope, data=data)
    application.refresh_from_db()
    return application


def action(client, url, name, objects, **extra):
    return client.post(
        url, {"action": name, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra}, follow=True
    )


@pytest.mark.parametrize(
    "model", ["registrationapplication", "legalentity", "edrrecord", "party", "employee", "employeerequest"]
)
def test_lists_load_and_are_read_only(client, operator, registration, pki, run_on_commit, model):
    registration.register_clinic()
    submitted(registration, pki, run_on_commit)
    assert client.get(reverse(f"admin:registry_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:registry_{model}_add")).status_code == 403


def test_an_application_shows_its_check_log_and_the_evidence_downloads(
    client, operator, registration, pki, run_on_commit
):
    application = submitted(registration, pki, run_on_commit, kveds=["86.90"])
    page = client.get(reverse("admin:registry_registrationapplication_change", args=[application.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "kved_primary_care_missing" in html
    assert "3185409128" in html  # the signer

    signature = client.get(
        reverse("admin:registry_registrationapplication_evidence", args=[application.pk, "signature"])
    )
    assert signature["Content-Type"] == "application/pkcs7-signature"
    assert signature["Content-Disposition"].endswith('.p7s"')
    assert signature.content == bytes(application.signed_envelope)
    document = client.get(
        reverse("admin:registry_registrationapplication_evidence", args=[application.pk, "document"])
    )
    assert document.content == registration.canonical(application.data)
    assert (
        client.get(
            reverse("admin:registry_registrationapplication_evidence", args=[application.pk, "other"])
        ).status_code
        == 403
    )


def test_the_evidence_is_for_operators_only(client, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit)
    client.force_login(UserFactory())
    url = reverse("admin:registry_registrationapplication_evidence", args=[application.pk, "signature"])
    assert client.get(url).status_code == 302  # to the login page


def test_search_and_filters(client, operator, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit)
    url = reverse(CHANGELIST)
    for query in (
        {"q": "38782323"},
        {"q": "ДЕМО"},
        {"q": "head@clinic"},
        {"status": "REJECTED"},
        {"channel": "WEB"},
    ):
        assert list(client.get(url, query).context["cl"].result_list) == [application], query
    assert list(client.get(url, {"status": "APPROVED"}).context["cl"].result_list) == []


def test_rerunning_the_checks_records_the_operator(client, operator, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit)
    assert application.status == "REJECTED"
    registration.register_clinic()
    response = run_on_commit(action, client, reverse(CHANGELIST), "recheck", [application])
    assert [message.level_tag for message in response.context["messages"]] == ["success"]
    application.refresh_from_db()
    assert application.status == "APPROVED"
    assert ApplicationCheck.objects.filter(created_by=operator).count() == 3
    assert LegalEntity.objects.get().created_by is None


def test_approving_a_waiting_sole_proprietor(client, operator, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit, fop=True)
    assert application.status == "WAITING_OPERATOR"
    page = action(client, reverse(CHANGELIST), "decide", [application])
    assert [name for name, _label in page.context["buttons"]] == ["_approve", "_reject"]
    assert list(page.context["queryset"]) == [application]
    run_on_commit(action, client, reverse(CHANGELIST), "decide", [application], _approve="1", comment="")
    application.refresh_from_db()
    assert (application.status, application.decided_by) == ("APPROVED", operator)
    assert EmployeeRequest.objects.count() == 1


def test_rejecting_needs_a_comment(client, operator, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit, fop=True)
    page = action(client, reverse(CHANGELIST), "decide", [application], _reject="1", comment="")
    assert page.context["form"].errors["comment"]
    application.refresh_from_db()
    assert application.status == "WAITING_OPERATOR"

    action(client, reverse(CHANGELIST), "decide", [application], _reject="1", comment="Не та особа")
    application.refresh_from_db()
    assert (application.status, application.decided_by) == ("REJECTED", operator)
    assert application.reasons[0]["code"] == "operator_rejected"
    assert not LegalEntity.objects.exists()


@pytest.fixture
def facility(registration, pki, run_on_commit):
    registration.register_clinic()
    submitted(registration, pki, run_on_commit)
    return LegalEntity.objects.get()


def test_facility_search_filters_and_divisions(client, operator, facility):
    url = reverse("admin:registry_legalentity_changelist")
    for query in (
        {"q": "38782323"},
        {"q": "Демо"},
        {"status": "ACTIVE"},
        {"nhs_verified__exact": "0"},
        {"type": "MSP"},
    ):
        assert list(client.get(url, query).context["cl"].result_list) == [facility], query
    page = client.get(reverse("admin:registry_legalentity_change", args=[facility.pk])).content.decode()
    assert "Амбулаторія на Хрещатику" in page


def test_nhs_verify_and_deactivate_actions(client, operator, facility):
    url = reverse("admin:registry_legalentity_changelist")
    action(client, url, "nhs_verify", [facility])
    facility.refresh_from_db()
    assert (facility.nhs_verified, facility.updated_by) == (True, operator)

    confirmation = action(client, url, "deactivate", [facility])
    assert confirmation.status_code == 200
    facility.refresh_from_db()
    assert facility.status == "ACTIVE"  # nothing happens before the confirmation
    action(client, url, "deactivate", [facility], _confirm="1")
    facility.refresh_from_db()
    assert (facility.status, facility.is_active, facility.updated_by) == ("CLOSED", False, operator)
    assert EmployeeRequest.objects.get().status == "REJECTED"


def test_the_register_copy_is_read_only(client, operator, registration):
    record = EdrRecordFactory(code="14360570")
    assert client.get(reverse("admin:registry_edrrecord_change", args=[record.pk])).status_code == 200
    response = client.post(reverse("admin:registry_edrrecord_change", args=[record.pk]), {"name": "Змінено"})
    assert response.status_code == 403
    assert client.post(reverse("admin:registry_edrrecord_delete", args=[record.pk])).status_code == 403
    found = (
        client.get(reverse("admin:registry_edrrecord_changelist"), {"q": "14360570"})
        .context["cl"]
        .result_list
    )
    assert list(found) == [record]


def test_actions_need_an_operator_with_permissions(client, registration, pki, run_on_commit):
    application = submitted(registration, pki, run_on_commit)
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert RegistrationApplication.objects.get().status == application.status
