import pytest
from django.core.management import CommandError, call_command

from ehealth_portal.demo import DEMO_PEOPLE, OPERATOR_EMAIL, OPERATOR_PASSWORD
from ehealth_portal.models import User
from ehealth_portal.signatures import verify_signature
from ehealth_portal.signatures.devpki import DevPki, cms_sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_settings(settings, tmp_path):
    settings.DEBUG = True
    settings.DEVPKI_DIR = tmp_path / "pki"
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "pki" / "trust-bundle.pem"
    settings.SIGNATURE_CRLS = tmp_path / "pki" / "crls"
    return settings


def test_demo_data_gives_an_operator_who_can_sign_in(dev_settings, client):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client.post("/accounts/login/", {"login": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


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
    assert DevPki.from_settings().paths(DEMO_PEOPLE[0].key_name)["p12"].read_bytes() == p12


def test_demo_data_is_refused_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("demo_data")
    assert not User.objects.exists()
