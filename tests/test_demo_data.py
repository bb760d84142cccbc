from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command

from ehealth_portal.demo import DEMO_PEOPLE, OPERATOR_EMAIL, OPERATOR_PASSWORD, OPERATOR_TOTP_SECRET
from ehealth_portal.models import User
from ehealth_portal.signatures import verify_signature
from ehealth_portal.signatures.devpki import DevPki, cms_sign
from tests.accounts.helpers import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_settings(settings, tmp_path):
    settings.DEBUG = True
    settings.DEVPKI_DIR = tmp_path / "pki"
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "pki" / "trust-bundle.pem"
    settings.SIGNATURE_CRLS = tmp_path / "pki" / "crls"
    return settings


def test_demo_data_gives_an_operator_who_can_sign_in_with_the_printed_secret(dev_settings, client):
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert OPERATOR_PASSWORD in out.getvalue()
    assert OPERATOR_TOTP_SECRET in out.getvalue()
    assert f"totp_code {OPERATOR_EMAIL}" in out.getvalue()
    response = client.post("/accounts/login/", {"login": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302  # not before the code
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(OPERATOR_TOTP_SECRET)})
    assert client.get("/admin/").status_code == 200


def test_totp_code_prints_the_current_code_of_the_demo_operator(dev_settings, client):
    call_command("demo_data", stdout=StringIO())
    out = StringIO()
    call_command("totp_code", OPERATOR_EMAIL, stdout=out)
    code = out.getvalue().strip()
    assert code == totp_code(OPERATOR_TOTP_SECRET)
    client.post("/accounts/login/", {"login": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.get("/admin/").status_code == 200
    with pytest.raises(CommandError, match="no authenticator app"):
        call_command("totp_code", "nobody@ehealth.localhost")


def test_totp_code_is_refused_outside_development(dev_settings):
    call_command("demo_data", stdout=StringIO())
    dev_settings.DEBUG = False
    out = StringIO()
    with pytest.raises(CommandError, match="development only"):
        call_command("totp_code", OPERATOR_EMAIL, stdout=out)
    assert out.getvalue() == ""


def test_demo_key_files_sign_documents_that_verify_with_the_demo_identity(dev_settings):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pki = DevPki.from_settings()
    head = DEMO_PEOPLE[0]
    signed = verify_signature(cms_sign(b'{"edrpou": "38782323"}', pki.credential(head.key_name)))
    assert (signed.signer.drfo, signed.signer.edrpou, signed.signer.surname) == (
        head.rnokpp,
        head.edrpou,
        head.surname,
    )


def test_demo_data_twice_changes_nothing(dev_settings):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    p12 = DevPki.from_settings().paths(DEMO_PEOPLE[0].key_name)["p12"].read_bytes()
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert User.objects.filter(email=OPERATOR_EMAIL).count() == 1
    assert Authenticator.objects.filter(user__email=OPERATOR_EMAIL).count() == 2  # TOTP, recovery codes
    assert DevPki.from_settings().paths(DEMO_PEOPLE[0].key_name)["p12"].read_bytes() == p12


def test_demo_data_is_refused_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_data")
    assert not User.objects.exists()
