"""A CNAP applies to join the monitoring with an application signed by an official of its body."""

import base64
import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from ehealth_portal.models import Email
from ehealth_portal.signatures.devpki import (
    Credential,
    ca_create,
    certificate_issue,
    cms_sign,
    crl_create,
    key_generate,
)
from monitoring.models import JoiningApplication
from monitoring.services import joining_application_submit, joining_application_text
from tests.factories import CnapFactory

pytestmark = pytest.mark.django_db

BODY_EDRPOU = "04012514"  # the body that runs the CNAP
OTHER_EDRPOU = "38782323"
ENDPOINT = "https://cnap.example.gov.ua/asc/1001/appeals/"
JOIN = "/monitoring/join/"


@dataclass
class JoiningPki:
    bundle: Path
    crls: Path
    official: Credential  # of the body that runs the CNAP
    other_body: Credential  # an official of another body
    stamp: Credential  # the body's seal
    untrusted: Credential  # issued by a CA nobody trusts


@pytest.fixture(scope="session")
def _joining_pki(tmp_path_factory) -> JoiningPki:
    directory = tmp_path_factory.mktemp("joining-pki")
    key = key_generate("ec")  # one key for everybody: generation is the slow part
    root = ca_create("Joining Test Root", key=key_generate("ec"))
    stranger = ca_create("Joining Test Root Nobody Trusts", key=key)
    bundle = directory / "bundle.pem"
    bundle.write_bytes(root.certificate.public_bytes(serialization.Encoding.PEM))
    crls = directory / "crls"
    crls.mkdir()
    (crls / "root.crl").write_bytes(crl_create(root, []).public_bytes(serialization.Encoding.PEM))
    person = {"surname": "Мельник", "given_names": "Ірина Василівна", "drfo": "2954107135", "key": key}
    return JoiningPki(
        bundle=bundle,
        crls=crls,
        official=certificate_issue(root, edrpou=BODY_EDRPOU, **person),
        other_body=certificate_issue(root, edrpou=OTHER_EDRPOU, **person),
        stamp=certificate_issue(
            root, surname="Печатка", given_names="ЦНАП", edrpou=BODY_EDRPOU, stamp=True, key=key
        ),
        untrusted=certificate_issue(stranger, edrpou=BODY_EDRPOU, **person),
    )


@pytest.fixture
def pki(_joining_pki, settings) -> JoiningPki:
    settings.SIGNATURE_CA_BUNDLE = _joining_pki.bundle
    settings.SIGNATURE_CRLS = _joining_pki.crls
    return _joining_pki


@pytest.fixture
def cnap():
    return CnapFactory(code="1001", name="ЦНАП Дарницького району")


def details(cnap, **changes) -> dict:
    return {
        "cnap": cnap.code,
        "organisation_edrpou": BODY_EDRPOU,
        "contact_email": "cnap@darn.kyiv.gov.ua",
        "proposed_base_url": ENDPOINT,
        **changes,
    }


def fields(cnap, **changes) -> dict:
    return {**details(cnap), "cnap": cnap, **changes}


def text_for(cnap, day=None, **changes) -> str:
    return joining_application_text(**fields(cnap, **changes), day=day or timezone.localdate())


def signed_upload(signature: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("application.p7s", signature, content_type="application/pkcs7-signature")


def nothing_stored():
    return not JoiningApplication.objects.exists() and not Email.objects.exists()


# --- The pages -------------------------------------------------------------------------------------


def test_details_page_offers_active_cnaps_only(client, cnap):
    CnapFactory(code="9009", name="Закритий ЦНАП", is_active=False)
    page = client.get(JOIN).content.decode()
    assert "Код ЄДРПОУ органу, що утворив ЦНАП" in page
    assert "1001 — ЦНАП Дарницького району" in page
    assert "Закритий ЦНАП" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"organisation_edrpou": "04012515"}, "Неправильна контрольна цифра коду ЄДРПОУ."),
        ({"proposed_base_url": "http://cnap.example.gov.ua/appeals/"}, "Вкажіть адресу https://"),
        ({"proposed_base_url": "https://erepository:secret@cnap.example.gov.ua/"}, "Не вказуйте логін"),
        ({"cnap": "9009"}, "Виберіть діючий ЦНАП зі списку."),
    ],
)
def test_details_are_checked_before_the_text_is_shown(client, cnap, change, message):
    CnapFactory(code="9009", is_active=False)
    response = client.post(JOIN, {**details(cnap), **change})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "monitoring_join" not in client.session


def test_plain_http_endpoint_is_allowed_in_development(client, cnap, settings):
    settings.DEBUG = True
    response = client.post(JOIN, details(cnap, proposed_base_url="http://127.0.0.1:8765/asc/1001/appeals/"))
    assert response.status_code == 302


def test_sign_step_without_details_starts_over(client, cnap):
    assert client.get(f"{JOIN}?step=sign").status_code == 200  # the details form
    assert "monitoring_join" not in client.session
    assert client.get(f"{JOIN}?step=text").status_code == 200


def test_apply_sign_and_submit(client, cnap, pki, django_capture_on_commit_callbacks, mailoutbox):
    response = client.post(JOIN, details(cnap))
    assert response.status_code == 302 and response.url == f"{JOIN}?step=sign"
    assert not JoiningApplication.objects.exists()  # nothing stored before the signed submit

    text = text_for(cnap)
    page = client.get(response.url).content.decode()
    assert "Заява про приєднання інформаційної системи ЦНАП до системи онлайн-моніторингу" in page
    for expected in (
        "1001 — ЦНАП Дарницького району",
        BODY_EDRPOU,
        ENDPOINT,
        timezone.localdate().strftime("%d.%m.%Y"),
    ):
        assert expected in text and expected in page
    assert base64.b64encode(text.encode()).decode() in page  # what the browser signs
    # The in-browser signing (registration-sign.js) writes into the hidden field the form posts.
    assert 'data-signature-input="id_signature_base64"' in page and 'id="id_signature_base64"' in page
    assert "js/registration-sign.js" in page and "vendor/pkijs/ehealth-sign.js" in page
    # The browser refuses, before signing, a key whose certificate does not name this body.
    assert f'data-expected-edrpou="{BODY_EDRPOU}" data-expected-edrpou-strict' in page

    download = client.get(f"{JOIN}?step=text")
    assert download.content == text.encode("utf-8")
    assert download["Content-Disposition"] == 'attachment; filename="joining-application-1001.txt"'

    signature = cms_sign(text.encode("utf-8"), pki.official)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{JOIN}?step=sign", {"signature": signed_upload(signature)})
    application = JoiningApplication.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("monitoring:join-submitted", args=[application.pk])
    assert application.status == JoiningApplication.Status.SUBMITTED
    assert application.cnap == cnap
    assert application.signed_content == text
    assert bytes(application.signature) == signature
    assert (application.signer_name, application.signer_drfo, application.signer_edrpou) == (
        "Мельник Ірина Василівна",
        "2954107135",
        BODY_EDRPOU,
    )
    assert application.signed_at is not None
    assert "monitoring_join" not in client.session  # the typed data is dropped

    [receipt] = mailoutbox
    assert receipt.to == ["cnap@darn.kyiv.gov.ua"]
    assert receipt.subject == "Вашу заяву про приєднання до моніторингу ЦНАП отримано"
    assert "ЦНАП Дарницького району" in receipt.body and f"Номер заяви: {application.pk}" in receipt.body

    submitted = client.get(response.url).content.decode()
    assert "Заяву подано" in submitted and "Мельник Ірина Василівна" in submitted


def test_submitted_page_is_only_for_the_submitting_session(client, cnap, pki):
    application = joining_application_submit(
        **fields(cnap),
        signed_content=text_for(cnap),
        signature=cms_sign(text_for(cnap).encode(), pki.official),
    )
    assert client.get(reverse("monitoring:join-submitted", args=[application.pk])).status_code == 404


def test_signed_in_the_browser(client, cnap, pki):
    client.post(JOIN, details(cnap))
    signature = cms_sign(text_for(cnap).encode(), pki.official)
    response = client.post(f"{JOIN}?step=sign", {"signature_base64": base64.b64encode(signature).decode()})
    assert response.status_code == 302
    assert JoiningApplication.objects.get().signer_edrpou == BODY_EDRPOU


def test_no_signature_or_two_signatures_are_refused(client, cnap, pki):
    client.post(JOIN, details(cnap))
    signature = cms_sign(text_for(cnap).encode(), pki.official)
    page = client.post(f"{JOIN}?step=sign", {}).content.decode()
    assert "Підпишіть текст: завантажте файл підпису" in page
    both = {"signature": signed_upload(signature), "signature_base64": base64.b64encode(signature).decode()}
    assert "Надайте один підпис" in client.post(f"{JOIN}?step=sign", both).content.decode()
    assert nothing_stored()


@pytest.mark.parametrize(
    ("signer", "content", "message"),
    [
        ("official", None, "Файл не є електронним підписом."),  # garbage bytes
        ("official", "Заява про щось інше", "Підписаний вміст не відповідає підпису."),
        ("other_body", "", "Сертифікат підписувача належить органу з кодом ЄДРПОУ 38782323, а не 04012514."),
        ("stamp", "", "Заяву підписано печаткою."),
        ("untrusted", "", "Сертифікат підписувача видав не довірений надавач"),
    ],
)
def test_refused_signatures_store_nothing(client, cnap, pki, signer, content, message):
    client.post(JOIN, details(cnap))
    if content is None:
        signature = b"not a signature at all"
    else:
        signature = cms_sign((content or text_for(cnap)).encode(), getattr(pki, signer))
    response = client.post(f"{JOIN}?step=sign", {"signature": signed_upload(signature)})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert nothing_stored()
    assert "monitoring_join" in client.session  # the applicant can sign again


def test_submit_is_rate_limited(client, cnap, pki, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "monitoring_join": "2/m/ip"}
    client.post(JOIN, details(cnap))
    statuses = [client.post(f"{JOIN}?step=sign", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- The service ------------------------------------------------------------------------------------


def test_detached_signature_is_accepted(cnap, pki):
    text = text_for(cnap)
    signature = cms_sign(text.encode(), pki.official, detached=True)
    application = joining_application_submit(**fields(cnap), signed_content=text, signature=signature)
    assert application.signer_drfo == "2954107135"


def test_a_signed_text_that_is_not_the_application_is_refused(cnap, pki):
    """The signature verifies over the given text, but the text is not this application's."""
    other = text_for(cnap, proposed_base_url="https://evil.example.com/appeals/")
    with pytest.raises(ValidationError) as refusal:
        joining_application_submit(
            **fields(cnap), signed_content=other, signature=cms_sign(other.encode(), pki.official)
        )
    assert refusal.value.message_dict["signature"] == [
        "Підписаний текст не є текстом цієї заяви. Завантажте текст ще раз і підпишіть його без змін."
    ]
    assert nothing_stored()


@pytest.mark.parametrize(("days_ago", "accepted"), [(0, True), (7, True), (8, False), (-1, False)])
def test_the_text_may_be_signed_within_a_week(cnap, pki, days_ago, accepted):
    text = text_for(cnap, day=timezone.localdate() - datetime.timedelta(days=days_ago))
    call = lambda: joining_application_submit(  # noqa: E731
        **fields(cnap), signed_content=text, signature=cms_sign(text.encode(), pki.official)
    )
    if accepted:
        assert call().pk
    else:
        with pytest.raises(ValidationError, match="text_mismatch|Підписаний текст"):
            call()
        assert nothing_stored()


def test_an_inactive_cnap_cannot_apply(pki):
    cnap = CnapFactory(is_active=False)
    with pytest.raises(ValidationError) as refusal:
        joining_application_submit(
            **fields(cnap),
            signed_content=text_for(cnap),
            signature=cms_sign(text_for(cnap).encode(), pki.official),
        )
    assert "cnap" in refusal.value.message_dict
    assert nothing_stored()
