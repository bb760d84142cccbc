"""Registration misused or unlucky: junk signatures, floods, bursts of duplicates, the broker down."""

import base64
import hashlib
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from ehealth_portal.celery import app as celery_app
from ehealth_portal.models import ApiKey, Email
from registry.models import LegalEntity, RegistrationApplication
from registry.services import registration_application_submit, registration_applications_resume
from tests.conftest import missing_in_ci

from .test_legal_entities_api import mis_document
from .test_web_wizard import STEPS, fill_steps, post_step, review_document, step_url

pytestmark = pytest.mark.django_db

JUNK = base64.b64encode(b"junk").decode()


def junk_submission(client, **extra):
    """The review step as the browser posts it, with `junk` for a signature."""
    digest = hashlib.sha256(review_document(client)).hexdigest()
    review = {"public_offer_consent": "on", "signature_base64": JUNK, "document_sha256": digest}
    return post_step(client, "review", review, **extra)


@pytest.fixture
def filled(client, registration, pki):
    client.get(step_url("facility"))
    fill_steps(client, head={"email": "victim@victim.example"})
    return client


def test_a_junk_signature_is_refused_at_the_field_storing_and_mailing_nothing(filled, outbox):
    response = junk_submission(filled)
    assert response.status_code == 200
    assert response.context["form"].errors["signature"]
    assert not RegistrationApplication.objects.exists()
    assert not Email.objects.exists() and outbox == []


def test_thirty_junk_submissions_store_nothing_mail_nobody_and_are_limited(filled, outbox):
    """The tester's reproduction: 30 submissions naming a victim's email from one address."""
    codes = [junk_submission(filled).status_code for _ in range(30)]
    assert codes[:5] == [200] * 5  # refused at the field, as above
    assert set(codes[5:]) == {429}
    assert not RegistrationApplication.objects.exists()
    assert not Email.objects.exists() and outbox == []


def test_submissions_for_one_head_email_are_limited_across_addresses(filled, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "registration_submit": "100/m/ip"}
    codes = [junk_submission(filled, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(1, 13)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]


def test_other_steps_are_not_limited(filled):
    for _ in range(10):
        assert post_step(filled, "head", STEPS["head"]).status_code == 302


def test_a_double_submit_of_one_wizard_run_stores_one_application(
    client, registration, pki, outbox, run_on_commit
):
    registration.register_clinic()
    data = registration.payload()
    envelope = pki.sign(pki.person(), registration.canonical(data))
    first, first_token = run_on_commit(
        registration_application_submit, signed_envelope=envelope, data=data, submission_key="run-1"
    )
    again, again_token = run_on_commit(
        registration_application_submit, signed_envelope=envelope, data=data, submission_key="run-1"
    )
    assert again.pk == first.pk and again_token == first_token
    assert RegistrationApplication.objects.count() == 1
    assert LegalEntity.objects.count() == 1


# --- The broker down -------------------------------------------------------------------------------


@pytest.fixture
def broker_down():
    """Tasks go to a Redis address where nothing listens: publishing fails as in production."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:6390/0"
    celery_app._pool = None  # a new connection pool for the new broker URL
    yield
    conf.task_always_eager, conf.broker_url = saved
    celery_app._pool = None  # a new connection pool for the new broker URL


def test_with_the_broker_down_the_submission_succeeds_and_the_sweep_runs_the_checks_later(
    client, registration, pki, broker_down, django_capture_on_commit_callbacks
):
    registration.register_clinic()
    client.get(step_url("facility"))
    fill_steps(client)
    document = review_document(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(
            client,
            "review",
            {
                "public_offer_consent": "on",
                "signature": SimpleUploadedFile("a.p7s", pki.sign(pki.person(), document)),
                "document_sha256": hashlib.sha256(document).hexdigest(),
            },
        )
    assert response.status_code == 302 and "/register/status/" in response.url
    assert client.get(response.url).status_code == 200
    application = RegistrationApplication.objects.get()
    assert application.status == RegistrationApplication.Status.SUBMITTED
    assert Email.objects.get().status == Email.Status.PENDING  # the beat sweep sends it later

    # The broker is back: the beat sweep queues the checks of applications left SUBMITTED.
    celery_app.conf.task_always_eager = True
    RegistrationApplication.objects.update(submitted_at=application.submitted_at.replace(year=2020))
    assert registration_applications_resume() == 1
    application.refresh_from_db()
    assert application.status == RegistrationApplication.Status.APPROVED


# --- A burst of duplicates on PostgreSQL -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_the_same_registration_stores_one_application_and_sends_one_email(
    registration, pki, outbox, django_user_model
):
    """20 identical signed PUTs at once, each on its own database connection: one 201, the rest 409
    without storing a rejected application or mailing anyone."""
    if connection.vendor != "postgresql":
        missing_in_ci("real concurrent transactions need DATABASE_URL=postgres://...")
    registration.register_clinic()
    operator = django_user_model.objects.create_superuser(email="op@example.com", password="x-pass-12345")
    _api_key, key = ApiKey.objects.create_key(name="burst", user=operator)
    body = {
        "signed_legal_entity_request": base64.b64encode(
            pki.openssl_sign(pki.person(), mis_document())
        ).decode(),
        "signed_content_encoding": "base64",
    }
    start = threading.Barrier(20)
    codes = []

    def put():
        client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
        start.wait()
        try:
            codes.append(client.put("/api/legal_entities", body, content_type="application/json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201] + [409] * 19
    assert LegalEntity.objects.count() == 1
    assert RegistrationApplication.objects.count() == 1
    assert RegistrationApplication.objects.get().status == RegistrationApplication.Status.APPROVED
    assert Email.objects.count() == 1  # the head's invitation
