"""Settings for the eHealth portal, read from the environment (django-environ).

One module for every environment: production is the default (DEBUG off, secure cookies,
HSTS, strict hosts); `DJANGO_DEBUG=true` is the development mode the README's run command uses.
Without DATABASE_URL the portal uses a SQLite file; without CELERY_BROKER_URL tasks run in-process.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of a development checkout; git-ignored

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env(
        "DJANGO_SECRET_KEY", default="development-only-secret-key-not-for-production-use-0123456789"
    )
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")  # required: no default outside development

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "rest_framework_api_key",  # before the portal: the portal's admin replaces its key admin
    "ehealth_portal.apps.PortalConfig",
    "registry",
    "declarations",
    "monitoring",
    "whitenoise.runserver_nostatic",
    "ehealth_portal.admin_site.PortalAdminConfig",  # django.contrib.admin with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "formtools",
    "simple_history",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # CONTENT_SECURITY_POLICY below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ehealth_portal.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ehealth_portal.i18n.PortalLocaleMiddleware",
    "ehealth_portal.uploads.RequestBodyLimitMiddleware",  # 413 before anything reads the body
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # who made each recorded change
    "ehealth_portal.mfa.StaffSecondFactorMiddleware",  # operators enrol a second factor first
    "ehealth_portal.cache_outage.CacheOutageMiddleware",  # the cache down: 503, not 500
]

ROOT_URLCONF = "ehealth_portal.urls"
WSGI_APPLICATION = "ehealth_portal.wsgi.application"
ASGI_APPLICATION = "ehealth_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ehealth_portal.context_processors.portal",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Data -----------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # transactions are explicit, in services
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "ehealth_portal.cache_backends.RedisCache"  # one client per pool

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "ehealth_portal.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False  # a reset request for an unknown address sends nothing
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[eHealth] "
# Failed logins (allauth's counters in CACHES; ehealth_portal.adapters): 10 a minute per address across
# accounts and 5 per 5 minutes per account *from one address* ("key" = account + address), so guessing
# from one address never locks the owner out elsewhere; 100 an hour per account from all addresses
# together stops guessing spread over many (one address alone reaches at most 60 an hour).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("LOGIN_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "login_failed_account": env("LOGIN_ACCOUNT_RATE_LIMIT", default="100/h/key"),
    "reset_password": "20/m/ip,5/m/key",
    "signature_check": "30/m/ip",  # the public signature check page (CPU per request)
    "monitoring_join": "10/m/ip,30/h/ip",  # a CNAP submitting a signed joining application
    "monitoring_regions": "60/m/ip",  # the public regional summary (aggregates a period per request)
    "invitation_accept": "10/m/ip",  # setting a password from an invitation link
    # Submitting the registration wizard (a signature check each): per address and per head's email.
    "registration_submit": env("REGISTRATION_SUBMIT_RATE_LIMIT", default="5/m/ip,20/h/ip"),
    "registration_submit_head": env("REGISTRATION_SUBMIT_HEAD_RATE_LIMIT", default="10/h/key"),
}
# Operators must enrol an authenticator app or a security key (ehealth_portal.mfa); recovery codes
# come with either. WebAuthn needs a host name (not an IP address) and HTTPS, except in development.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "eHealth portal"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"

# --- HTTP security --------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Uploads: signatures and register dumps are small; anything bigger is refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
SIGNATURE_MAX_BYTES = env.int("SIGNATURE_MAX_BYTES", default=1024 * 1024)
# Any request body above this is refused with 413 before it is read (ehealth_portal.uploads); file uploads
# are counted as they arrive too, for bodies without an honest Content-Length. The largest legitimate body:
# a signature and its detached content (the check page), or an uploaded signature beside one made in the
# browser, base64 (the wizard's review step, which refuses the pair with its reason), plus form fields.
# The admin takes no file uploads (register dumps are loaded with `manage.py import_edr`).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=3 * SIGNATURE_MAX_BYTES)
FILE_UPLOAD_HANDLERS = [
    "ehealth_portal.uploads.BodyLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "uk"
LANGUAGES = [("uk", _("Ukrainian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Kyiv"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
# Served at the site's root (/favicon.ico, asked for by browsers and bots on every kind of page).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# --- Email ----------------------------------------------------------------------------------------
# Every message is stored in the Email table (the outbox) and sent by a task; the backend below
# delivers it. Without EMAIL_URL nothing is delivered: one line per message is logged (no body, so no
# token links in the log) and development reads the message at /dev/outbox/.
EMAIL_BACKEND = "ehealth_portal.email_backends.OutboxLogBackend"
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
# Sent messages keep their token links this long (a developer opens them at /dev/outbox/); then the
# hourly purge replaces the tokens with [redacted].
EMAIL_BODY_RETENTION_HOURS = env.int("EMAIL_BODY_RETENTION_HOURS", default=24)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="eHealth <noreply@ehealth.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
DEV_OUTBOX_ENABLED = DEBUG

# --- SMS and patients' codes (declarations) -------------------------------------------------------
# Every SMS is stored (declarations.SmsMessage) and sent by a task with retries. Without SMS_GATEWAY_URL
# the development backend keeps it for /dev/outbox/sms/; with it, the HTTP backend posts
# {"phone_number", "body"} with SMS_GATEWAY_TOKEN as a bearer token.
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")
SMS_BACKEND = env(
    "SMS_BACKEND",
    default="declarations.sms.HttpSmsBackend" if SMS_GATEWAY_URL else "declarations.sms.OutboxSmsBackend",
)
SMS_BODY_RETENTION_HOURS = env.int("SMS_BODY_RETENTION_HOURS", default=1)  # then the code is redacted
OTP_CODE_TTL_SECONDS = env.int("OTP_CODE_TTL_SECONDS", default=15 * 60)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=3)
OTP_SENDS_PER_HOUR = env.int("OTP_SENDS_PER_HOUR", default=5)  # codes to one phone within an hour
# A scan travels in one request body, so it fits within REQUEST_BODY_MAX_BYTES (with room for the form).
DECLARATION_SCAN_MAX_BYTES = env.int("DECLARATION_SCAN_MAX_BYTES", default=REQUEST_BODY_MAX_BYTES - 64 * 1024)

# --- Tasks (Celery) -------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # embedded default: tasks run in-process
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://localhost/"  # with a host name: kombu warns about a missing one
CELERY_RESULT_BACKEND = None  # outcomes are recorded in our own tables
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis gives a message whose worker vanished (killed whole, not just a pool child) to another worker after
# this long (s): longer than any task may be held, a pull's included (checked in "CNAP monitoring").
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The periodic schedule lives here, in code; the beat scheduler copies it into its tables.
CELERY_BEAT_SCHEDULE = {
    "send-pending-emails": {
        "task": "ehealth_portal.tasks.email_send_pending",
        "schedule": 300.0,
    },
    "redact-sent-email-bodies": {
        "task": "ehealth_portal.tasks.email_bodies_redact",
        "schedule": 3600.0,
    },
    "resume-registration-checks": {  # web applications whose check task was lost (broker down)
        "task": "registry.tasks.registration_applications_resume_task",
        "schedule": 300.0,
    },
    "expire-employee-requests": {
        "task": "registry.tasks.employee_requests_expire_task",
        "schedule": 3600.0,
    },
    "pull-cnap-systems": {  # daily, at a quiet hour for CNAPs (Kyiv time)
        "task": "monitoring.tasks.pull_runs_schedule_task",
        "schedule": crontab(minute=30, hour=env.int("MONITORING_PULL_HOUR", default=3)),
    },
    "recover-cnap-pull-runs": {
        "task": "monitoring.tasks.pull_runs_recover_task",
        "schedule": 600.0,
    },
    "expire-declaration-requests": {
        "task": "declarations.tasks.declaration_requests_expire_task",
        "schedule": 3600.0,
    },
    "send-pending-sms": {
        "task": "declarations.tasks.sms_send_pending_task",
        "schedule": 300.0,
    },
    "redact-sent-sms": {
        "task": "declarations.tasks.sms_bodies_redact_task",
        "schedule": 3600.0,
    },
}

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ehealth_portal.authentication.ApiKeyAuthentication",
        "ehealth_portal.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["ehealth_portal.api.EnvelopeRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ehealth_portal.api.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "ehealth_portal.api.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "ehealth_portal.api_schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "ehealth_portal.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        "signature_check": "60/min",
        "verification_start": "60/hour",
        "person_search": "120/hour",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "eHealth registration portal API",
    "DESCRIPTION": "Central registration component: dictionaries, legal entities, employees, declarations.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI's deep links put a link inside each operation's toggle button (nested controls, WCAG
    # 4.1.2), and its syntax colours are below 4.5:1 (1.4.3); see also static/css/swagger.css.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "syntaxHighlight": {"activated": False}},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Named after their models, not after a hash of their values (two models have a `Status`).
    "ENUM_NAME_OVERRIDES": {
        "EmployeeStatusEnum": "registry.models.Employee.Status",
        "EmployeeRequestStatusEnum": "registry.models.EmployeeRequest.Status",
        "EmployeeRequestNewStatusEnum": ["NEW"],  # what a new request says of itself
        "DeclarationStatusEnum": "declarations.models.Declaration.Status",
        "DeclarationRequestStatusEnum": "declarations.models.DeclarationRequest.Status",
        "VerificationStatusEnum": "declarations.models.Verification.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ehealth_portal.api.postprocess_envelope",
    ],
}

# --- Qualified electronic signatures --------------------------------------------------------------
# Trust anchors (PEM bundle) and CRLs (a file or a folder of PEM/DER CRLs). `devpki` writes both
# under var/pki for development; production points these at the qualified trust list.
SIGNATURE_CA_BUNDLE = env.path("SIGNATURE_CA_BUNDLE", default=VAR_DIR / "pki" / "trust-bundle.pem")
SIGNATURE_CRLS = env.path("SIGNATURE_CRLS", default=VAR_DIR / "pki" / "crls")
# soft: a CA without a current CRL is accepted (development); hard: refused, "revocation_unknown" (production,
# docs/security.md).
SIGNATURE_REVOCATION = env.str("SIGNATURE_REVOCATION", default="soft")
if SIGNATURE_REVOCATION not in ("soft", "hard"):
    raise ImproperlyConfigured(f"SIGNATURE_REVOCATION must be soft or hard, not {SIGNATURE_REVOCATION!r}.")
SIGNATURE_BACKENDS = env.list("SIGNATURE_BACKENDS", default=["cms"])
_unknown_backends = set(SIGNATURE_BACKENDS) - {"cms"}
if _unknown_backends:
    # There is no "skip verification" backend: anything else fails at start-up.
    raise ImproperlyConfigured(f"Unknown SIGNATURE_BACKENDS: {sorted(_unknown_backends)}")
DEVPKI_DIR = VAR_DIR / "pki"

# --- Facility registration -----------------------------------------------------------------------
# The state register (ЄДР) lookup: the local copy loaded by `import_edr`; an online register API can
# replace it by naming another class with the same interface (registry.edr.StateRegister).
STATE_REGISTER_BACKEND = env("STATE_REGISTER_BACKEND", default="registry.edr.LocalStateRegister")
# Positions a facility's head may hold (POSITION dictionary): directors, chief doctors, acting heads, ФОП.
OWNER_POSITIONS = env.list(
    "OWNER_POSITIONS", default=["P1", "P2", "P3", "P4", "P5", "P22", "P23", "P24", "P25", "P26"]
)
# Map tiles for the public map and the location picker (Leaflet URL template) and their attribution.
MAP_TILE_URL = env("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors")

# --- Content Security Policy (django-csp) ---------------------------------------------------------
# No inline script or event handler anywhere: scripts load only from our own origin (static/ with
# static/vendor/, and Swagger UI's init script served as a file); data for scripts goes through
# json_script or data attributes. Images may also come from the map tiles' origin.
_tiles = urlsplit(MAP_TILE_URL)
MAP_TILE_ORIGIN = f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}"  # {s} subdomains: a wildcard
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", MAP_TILE_ORIGIN],  # data: Swagger UI's icons
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Secrets at rest ------------------------------------------------------------------------------
# Fernet keys, newest first (ehealth_portal.encryption). Development gets a fixed, published key.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LWluLXByb2Q="] if DEBUG else [],
)
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS (a Fernet key: `Fernet.generate_key()`).")

# --- CNAP monitoring ------------------------------------------------------------------------------
# The daily pull asks each system for [today - N days, today]: late updates are caught by re-pulls.
MONITORING_PULL_WINDOW_DAYS = env.int("MONITORING_PULL_WINDOW_DAYS", default=7)
if not 0 <= MONITORING_PULL_WINDOW_DAYS <= 30:  # the window is one request: 31 days at most
    raise ImproperlyConfigured("MONITORING_PULL_WINDOW_DAYS is a number of days from 0 to 30.")
MONITORING_PULL_RUN_TIME_LIMIT = env.int("MONITORING_PULL_RUN_TIME_LIMIT", default=1800)  # s, one attempt
# A queued run whose task has not started this long after (a lost message) is queued again.
MONITORING_PULL_RECOVER_AFTER = env.int("MONITORING_PULL_RECOVER_AFTER", default=1800)
# A system is asked one thing at a time: a run finding another of its system running waits this long (s).
MONITORING_PULL_BUSY_DELAY = env.int("MONITORING_PULL_BUSY_DELAY", default=30)
# A running attempt holds its run for this long (s) and renews the hold every quarter of it; a run whose
# worker died is taken over once the hold has run out, well before the run's time limit.
MONITORING_PULL_LEASE_SECONDS = env.int("MONITORING_PULL_LEASE_SECONDS", default=120)
if not 1 <= MONITORING_PULL_LEASE_SECONDS < MONITORING_PULL_RUN_TIME_LIMIT:
    raise ImproperlyConfigured("MONITORING_PULL_LEASE_SECONDS is at least 1 and below the run time limit.")
# The public regional summary is cached per period for this many seconds.
MONITORING_PUBLIC_CACHE_SECONDS = env.int("MONITORING_PUBLIC_CACHE_SECONDS", default=600)
MONITORING_PULL_PAGE_CAP = env.int("MONITORING_PULL_PAGE_CAP", default=2000)  # pages in one run
MONITORING_PULL_MAX_PAGE_BYTES = env.int("MONITORING_PULL_MAX_PAGE_BYTES", default=16 * 1024 * 1024)
MONITORING_PULL_CONNECT_TIMEOUT = env.float("MONITORING_PULL_CONNECT_TIMEOUT", default=5.0)
MONITORING_PULL_READ_TIMEOUT = env.float("MONITORING_PULL_READ_TIMEOUT", default=30.0)  # per socket read
MONITORING_PULL_PAGE_DEADLINE = env.float("MONITORING_PULL_PAGE_DEADLINE", default=120.0)  # per whole page
MONITORING_PULL_RETRIES = env.int("MONITORING_PULL_RETRIES", default=4)  # network errors and 5xx only
MONITORING_PULL_RETRY_BACKOFF = env.int("MONITORING_PULL_RETRY_BACKOFF", default=60)  # s, doubled each time
MONITORING_FAILING_AFTER = env.int("MONITORING_FAILING_AFTER", default=3)  # failed runs in a row
# A pull's message stays unacknowledged through its retry countdown and its attempt: Redis must not hand
# it to a second worker meanwhile.
_longest_backoff = MONITORING_PULL_RETRY_BACKOFF * 2 ** max(MONITORING_PULL_RETRIES - 1, 0)
_pull_unacked = MONITORING_PULL_RUN_TIME_LIMIT + 60 + _longest_backoff  # s: a retry wait, then a hard limit
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= _pull_unacked:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed MONITORING_PULL_RUN_TIME_LIMIT + 60 plus the longest retry backoff."
    )
# Production refuses endpoints on private, loopback and link-local addresses (no SSRF into our
# network); development and tests talk to the loopback simulator.
MONITORING_ALLOW_PRIVATE_TARGETS = env.bool("MONITORING_ALLOW_PRIVATE_TARGETS", default=DEBUG)

# --- Logging --------------------------------------------------------------------------------------
# Token links (invitations, status pages, password resets) are redacted by a filter on every handler.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "ehealth_portal.redaction.RedactTokensFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's defaults give these their own unfiltered handlers (request warnings, runserver's
        # access log): no handlers here, so they reach the console above.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # In-process tasks: no "Task ... succeeded" line per task in the web server's console.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        "fontTools": {"level": "WARNING"},  # the PDF font subsetter's dozens of INFO lines per document
    },
}
