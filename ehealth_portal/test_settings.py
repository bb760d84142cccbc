"""Settings for the test suite: the production settings with test-only speed-ups.

Tests run with DEBUG off, like production; DATABASE_URL / CELERY_BROKER_URL / CACHE_URL select
PostgreSQL, Redis and a real worker exactly as they do for the portal.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2g=")

from .settings import *  # noqa: E402,F403
from .settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

# Tasks run in-process in tests; the tests marked `worker` switch the Celery app to the real
# broker and a real worker process (tests/conftest.py).
# The worker process of those tests sets EHEALTH_TEST_WORKER: what it queues (retries, re-queued pulls)
# goes through the broker as in production.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("EHEALTH_TEST_WORKER") != "1"
# Static files straight from the app folders: tests do not run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
MONITORING_ALLOW_PRIVATE_TARGETS = True  # the CNAP simulator listens on loopback
MONITORING_PULL_RETRY_BACKOFF = 0
MONITORING_PULL_BUSY_DELAY = 1
MONITORING_PULL_LEASE_SECONDS = 3  # a killed worker's run is taken over within seconds
