"""The settings module as production meets it: safe defaults, and no way to switch verification off."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s" * 60


def load_settings(**env):
    """Import the real settings module in a clean interpreter with only the given variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SIGNATURE_", "DATABASE_", "CELERY_"))
    }
    clean.update(DJANGO_READ_DOT_ENV_FILE="false", **env)
    code = (
        "import json; from ehealth_portal import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ['DEBUG', 'ALLOWED_HOSTS', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'CELERY_TASK_ALWAYS_EAGER', "
        "'MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN']}))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_is_the_default():
    result = load_settings(DJANGO_SECRET_KEY=SECRET)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == []
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN"] is False  # security keys only over HTTPS


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_skip_verification_backend_cannot_be_configured():
    result = load_settings(DJANGO_SECRET_KEY=SECRET, SIGNATURE_BACKENDS="none")
    assert result.returncode != 0
    assert "Unknown SIGNATURE_BACKENDS" in result.stderr


def test_tasks_run_in_process_only_without_a_broker():
    assert json.loads(load_settings(DJANGO_SECRET_KEY=SECRET).stdout)["CELERY_TASK_ALWAYS_EAGER"] is True
    with_broker = load_settings(DJANGO_SECRET_KEY=SECRET, CELERY_BROKER_URL="redis://127.0.0.1:6379/9")
    assert json.loads(with_broker.stdout)["CELERY_TASK_ALWAYS_EAGER"] is False
