"""Check-and-approve is race-free: with one place left under the doctor's limit, 50 approvals at once, each
on its own PostgreSQL connection, approve exactly one request; two signings at once make one declaration.

SQLite runs one write transaction at a time, so the race needs PostgreSQL:
DATABASE_URL=postgres://... pytest tests/declarations/test_race.py
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from declarations.models import Declaration, DeclarationRequest
from declarations.services import (
    declaration_request_approve,
    declaration_request_sign,
    declaration_request_signable_bytes,
)
from registry.models import Employee
from registry.services import global_parameter_set
from tests.conftest import missing_in_ci
from tests.declaration_data import adult
from tests.declarations.conftest import doctor_credential, request_approve, request_create

PARALLEL = 50


def at_once(count: int, work) -> list:
    """Run work(index) in `count` threads released together, each on its own connection; the outcomes."""
    start = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        try:
            start.wait()
            outcomes[index] = work(index)
        except ValidationError as error:
            outcomes[index] = sorted(item.code for items in error.error_dict.values() for item in items)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        missing_in_ci("real concurrent transactions need DATABASE_URL=postgres://...")


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_approvals_with_one_place_left_approve_one(postgresql, clinic):
    global_parameter_set(name="declaration_limit_family_doctor", value="3")
    request_approve(request_create(clinic, adult(1)))
    request_approve(request_create(clinic, adult(2)))  # two of three places taken
    waiting = [request_create(clinic, adult(100 + index)).pk for index in range(PARALLEL)]

    def approve(index):
        request = DeclarationRequest.objects.select_related("employee").get(pk=waiting[index])
        return declaration_request_approve(declaration_request=request, actor=clinic.receptionist).status

    outcomes = at_once(PARALLEL, approve)

    assert outcomes.count(DeclarationRequest.Status.APPROVED) == 1
    assert outcomes.count(["declaration_limit"]) == PARALLEL - 1
    statuses = list(DeclarationRequest.objects.filter(pk__in=waiting).values_list("status", flat=True))
    assert statuses.count(DeclarationRequest.Status.APPROVED) == 1
    assert statuses.count(DeclarationRequest.Status.NEW) == PARALLEL - 1
    assert DeclarationRequest.objects.filter(status=DeclarationRequest.Status.APPROVED).count() == 3
    assert Employee.objects.get(pk=clinic.family_doctor.pk).accepts_new_patients is False


@pytest.mark.django_db(transaction=True)
def test_two_parallel_signings_make_one_declaration(postgresql, clinic, pki):
    request = request_approve(request_create(clinic))
    doctor = clinic.family_doctor
    envelope = pki.sign(doctor_credential(pki, doctor), declaration_request_signable_bytes(request))

    def sign(_index):
        fresh = DeclarationRequest.objects.get(pk=request.pk)
        declaration_request_sign(declaration_request=fresh, actor=doctor.party.user, signed_envelope=envelope)
        return "signed"

    outcomes = at_once(2, sign)

    assert sorted(outcomes, key=str) == [["invalid_status"], "signed"]
    assert Declaration.objects.count() == 1
    assert DeclarationRequest.objects.get(pk=request.pk).status == DeclarationRequest.Status.SIGNED
