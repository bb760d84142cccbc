"""`manage.py monitoring_demo`: the demo CNAP applies with a signed application and its system is connected."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ehealth_portal.signatures import verify_signature
from monitoring.models import CnapSystem, JoiningApplication
from monitoring.services import cnaps_import

from .conftest import DEMO

pytestmark = pytest.mark.django_db


@pytest.fixture
def development(settings, tmp_path):
    settings.DEBUG = True
    settings.DEVPKI_DIR = tmp_path / "pki"
    settings.SIGNATURE_CA_BUNDLE = tmp_path / "pki" / "trust-bundle.pem"
    settings.SIGNATURE_CRLS = tmp_path / "pki" / "crls"
    cnaps_import(entries=json.loads((DEMO / "cnaps.json").read_text(encoding="utf-8"))["entries"])
    return tmp_path


def demo(*args) -> str:
    output = io.StringIO()
    call_command("monitoring_demo", *args, stdout=output)
    return output.getvalue()


def test_demo_applies_signs_and_connects_the_simulator(development):
    output = demo()
    application = JoiningApplication.objects.get()
    system = CnapSystem.objects.get()
    assert application.cnap.code == "1001" and application.status == JoiningApplication.Status.CONNECTED
    assert application.signer_edrpou == application.organisation_edrpou == "04012514"
    assert verify_signature(bytes(application.signature)).content == application.signed_content.encode()
    assert application.signed_content.startswith("Заява про приєднання інформаційної системи ЦНАП")
    assert system.base_url == "http://127.0.0.1:8765/asc/1001/appeals/"
    assert (system.login, system.password) == ("erepository", "demo-cnap-2026")
    key_file = development / "pki" / "people" / "demo-cnap.p12"
    assert key_file.exists()
    assert str(key_file) in output and "password: devpki" in output


def test_a_second_run_changes_nothing(development):
    demo()
    before = list(CnapSystem.objects.values()), list(JoiningApplication.objects.values())
    key = (development / "pki" / "people" / "demo-cnap.p12").read_bytes()
    output = demo()
    assert "already in place, nothing changed" in output
    assert (list(CnapSystem.objects.values()), list(JoiningApplication.objects.values())) == before
    assert (development / "pki" / "people" / "demo-cnap.p12").read_bytes() == key


def test_the_simulator_url_can_be_overridden(development):
    demo("--simulator-url", "http://127.0.0.1:9999/")
    assert CnapSystem.objects.get().base_url == "http://127.0.0.1:9999/asc/1001/appeals/"
    demo("--simulator-url", "http://127.0.0.1:8766")
    assert CnapSystem.objects.get().base_url == "http://127.0.0.1:8766/asc/1001/appeals/"
    assert JoiningApplication.objects.count() == 1


def test_demo_is_for_development_only(development, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        demo()
    assert not JoiningApplication.objects.exists()


def test_demo_needs_the_demo_cnaps(settings, tmp_path):
    settings.DEBUG = True
    settings.DEVPKI_DIR = tmp_path / "pki"
    with pytest.raises(CommandError, match="import_cnaps"):
        demo()
