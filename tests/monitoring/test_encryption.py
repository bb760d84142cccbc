"""CNAP systems' passwords at rest: encrypted with FIELD_ENCRYPTION_KEYS, rotated by a command."""

import base64
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from ehealth_portal.encryption import SecretUnreadable
from monitoring.models import CnapSystem
from tests.factories import CnapSystemFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Tr0ub4dor&3-cnap"
OLD_KEY, NEW_KEY, STRANGER_KEY = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def keys(settings):
    def use(*keys):
        settings.FIELD_ENCRYPTION_KEYS = list(keys)

    use(OLD_KEY)
    return use


def forms_of(secret: str) -> list[str]:
    return [secret, base64.b64encode(secret.encode()).decode(), secret.encode().hex()]


def test_the_password_is_nowhere_in_the_database(keys):
    system = CnapSystemFactory(password=PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM monitoring_cnapsystem WHERE id = %s", [system.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    dump = io.StringIO()
    call_command("dumpdata", "monitoring.cnapsystem", stdout=dump)
    for text in (row, dump.getvalue()):
        assert system.password_encrypted in text  # what is stored is the token…
        for form in forms_of(PASSWORD):
            assert form not in text  # …never the password, plainly or encoded
    assert CnapSystem.objects.get().password == PASSWORD


def test_another_key_cannot_decrypt_it(keys):
    system = CnapSystemFactory(password=PASSWORD)
    keys(STRANGER_KEY)
    with pytest.raises(SecretUnreadable):
        _ = CnapSystem.objects.get(pk=system.pk).password


def test_rotation_re_encrypts_with_the_newest_key(keys):
    systems = [CnapSystemFactory(password=PASSWORD), CnapSystemFactory(password="second")]
    before = {s.pk: s.password_encrypted for s in systems}
    keys(NEW_KEY, OLD_KEY)
    output = io.StringIO()
    call_command("rotate_encryption_keys", stdout=output)
    assert "Re-encrypted 2 CNAP system password(s)" in output.getvalue()
    keys(NEW_KEY)  # the old key removed after the rotation
    for system in CnapSystem.objects.all():
        assert system.password_encrypted != before[system.pk]
        assert system.password == {systems[0].pk: PASSWORD, systems[1].pk: "second"}[system.pk]


def test_rotation_with_an_undecryptable_password_changes_nothing(keys):
    readable = CnapSystemFactory(password=PASSWORD)
    keys(STRANGER_KEY)
    lost = CnapSystemFactory(password="lost", name="Втрачена система")
    keys(NEW_KEY, OLD_KEY)
    stored = dict(CnapSystem.objects.values_list("pk", "password_encrypted"))
    with pytest.raises(CommandError) as refusal:
        call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert f"system {lost.pk}" in str(refusal.value) and "Втрачена система" in str(refusal.value)
    assert "Nothing changed" in str(refusal.value)
    assert dict(CnapSystem.objects.values_list("pk", "password_encrypted")) == stored
    keys(OLD_KEY)
    assert CnapSystem.objects.get(pk=readable.pk).password == PASSWORD
