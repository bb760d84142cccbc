"""Settings of the API benchmark's server: production settings, plus a bare DRF endpoint to compare with."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from ehealth_portal.settings import *  # noqa: E402,F403
from ehealth_portal.settings import STORAGES  # noqa: E402

ROOT_URLCONF = "api_site"
WHITENOISE_AUTOREFRESH = True  # no collectstatic: static files straight from the app folders
WHITENOISE_USE_FINDERS = True
# Pages link static files by name: no collectstatic manifest needed for the bench.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
