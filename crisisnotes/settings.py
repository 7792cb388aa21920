"""Settings for crisisnotes, read from environment variables only (django-environ).

Unset variables give the embedded default that `make run` uses: a SQLite file under var/, a
filesystem Celery broker (no Redis needed), console e-mail and DEBUG on. With
DJANGO_ENV=production every unsafe default is refused at start-up instead of being used.
"""

from pathlib import Path
from typing import Any

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from crisisnotes.storage_settings import s3_private_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}."
    )

# Everything the app writes at run time (SQLite file, broker folder, exported files) lives here,
# outside static/ and any public path.
VAR_DIR = Path(env.str("CRISISNOTES_VAR_DIR", default=str(BASE_DIR / "var")))

_DEV_SECRET = "dev-only-insecure-key-never-used-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else _DEV_SECRET)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crisisnotes.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, the worker and the scheduler share one file in the embedded default:
    # WAL and immediate transactions keep them from failing with "database is locked".
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The team page's covering indexes (INCLUDE columns, sessions/models) are PostgreSQL's;
    # SQLite builds them on their key columns alone, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Production connects as two PostgreSQL roles (crisisnotes.db_roles, docs/production.md):
# DATABASE_URL is the runtime role, with data grants only; `migrate` and `db_roles` connect as
# the tables' owner given here. Unset (embedded default, tests): DATABASE_URL does both.
DATABASE_OWNER_URL = env.str("DATABASE_OWNER_URL", default="")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections in production: a new PostgreSQL connection per request made a one-query
# page about 4x slower (bench/pages_bench.py, docs/scaling.md). A connection lives a minute and
# is checked before reuse, so a restarted database or pooler costs a reconnect, not an error.
DATABASES["default"].setdefault(
    "CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
)
DATABASES["default"].setdefault(
    "CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=PRODUCTION)
)
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) may outlive the
# transaction that made it on a server connection the next transaction does not get: turn them
# off there (docs/scaling.md).
DATABASES["default"].setdefault(
    "DISABLE_SERVER_SIDE_CURSORS", env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
)

if PRODUCTION:
    problems = []
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if DEBUG:
        problems.append("DEBUG must be off")
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL must point at PostgreSQL (postgres://...)")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the hosts the app is served on")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with DJANGO_ENV=production: " + "; ".join(problems) + "."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crisisnotes.accounts",
    "crisisnotes.audit",
    "crisisnotes.notifications",
    "sessions.apps.CrisisSessionsConfig",
    "safety",
]

MIDDLEWARE = [
    "crisisnotes.request_log.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "crisisnotes.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The interface language: Accept-Language or the language cookie for anonymous pages;
    # UserLanguageMiddleware (after authentication) then applies a signed-in user's choice.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "crisisnotes.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crisisnotes.accounts.idle.IdleTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "crisisnotes.middleware.ClinicTimeZoneMiddleware",
    "crisisnotes.accounts.mfa.MfaRequiredMiddleware",
    "crisisnotes.middleware.NoStoreMiddleware",
    "crisisnotes.middleware.AuditDeniedMiddleware",
    # Last, as django-axes asks: it turns locked-out logins into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crisisnotes.urls"
WSGI_APPLICATION = "crisisnotes.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crisisnotes.notifications.context_processors.notifications",
                "crisisnotes.js_catalog.js_catalog",
                "crisisnotes.accounts.idle.idle_context",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first so a locked-out username never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in is django-allauth's flow (so its MFA stage runs after the password): by username, no
# sign-up (clinic admins create accounts), no e-mail verification step (addresses are set by
# the clinic). Lockout stays with django-axes, so allauth's own rate limits are off.
ACCOUNT_ADAPTER = "crisisnotes.accounts.mfa.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_RATE_LIMITS = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_SECONDS", default=300)
# Two-factor authentication (allauth.mfa): an authenticator app (TOTP) and recovery codes.
# Required for clinic admins, operators, and everyone in a clinic with Clinic.require_mfa.
MFA_ADAPTER = "crisisnotes.accounts.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "crisisnotes"
MFA_ALLOW_UNVERIFIED_EMAIL = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if DJANGO_ENV == "test":
    # Tests create hundreds of users; the default PBKDF2 spends most of the fast layer's CPU on
    # hashing. Never in development or production, where the real hasher stays.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The client's address (audit log and lockout): REMOTE_ADDR with no proxy; behind N trusted
# reverse proxies the N-th X-Forwarded-For entry from the right (crisisnotes.net.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login throttling: after AXES_FAILURE_LIMIT failures for one username from one address, or from
# one address whatever the usernames, logins from that address are locked for AXES_COOLOFF_TIME
# hours. Never a username alone: an outsider must not be able to lock a counselor out from
# elsewhere. A clinic admin can unlock a user early. Every failure is also audited.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "crisisnotes.net.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Absolute limit of a session (from sign-in, whatever the activity).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
# The session cookie ends with the browser: closing it on a shared computer signs out.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Inactivity timeout for users without a clinic (operators); each clinic sets its own
# (Clinic.idle_timeout_minutes, default 15). crisisnotes.accounts.idle enforces it.
IDLE_TIMEOUT_MINUTES = env.int("IDLE_TIMEOUT_MINUTES", default=15)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): only our own origin, no inline script or style (what
# templates once inlined lives in static/), no plugins, no framing, forms post only to us.
# Bootstrap's CSS draws a few icons from data: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Browser features a clinic's note-taking app never needs (crisisnotes.middleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
CSRF_FAILURE_VIEW = "crisisnotes.views.csrf_failure"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are refused by the browser unless Secure, Path=/ and without a Domain:
    # a sibling subdomain cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # The health check answers plain HTTP from the container network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# The interface is in English or Spanish (docs/i18n.md): each user picks theirs; the client copy
# of a safety plan is in the client's language. Catalogues live in locale/ (compiled by the
# install step: `manage.py compilemessages`).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", gettext_lazy("English")), ("es", gettext_lazy("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Exported records are private files: storage "private" (crisisnotes/storage.py), sent only
# through the download view that checks and audits the requester. A folder by default; an
# S3-compatible bucket when PRIVATE_S3_BUCKET is set (docs/production.md "Exported files").
PRIVATE_STORAGE_DIR = Path(env.str("PRIVATE_STORAGE_DIR", default=str(VAR_DIR / "private")))
MEDIA_ROOT = PRIVATE_STORAGE_DIR
PRIVATE_S3_BUCKET = env.str("PRIVATE_S3_BUCKET", default="")
EXPORT_PRESIGNED_SECONDS = env.int("EXPORT_PRESIGNED_SECONDS", default=60)
if PRIVATE_S3_BUCKET:
    STORAGES["private"] = s3_private_storage(
        bucket=PRIVATE_S3_BUCKET,
        endpoint_url=env.str("PRIVATE_S3_ENDPOINT_URL", default=""),
        region=env.str("PRIVATE_S3_REGION", default=""),
        access_key=env.str("PRIVATE_S3_ACCESS_KEY_ID", default=""),
        secret_key=env.str("PRIVATE_S3_SECRET_ACCESS_KEY", default=""),
        addressing_style=env.str("PRIVATE_S3_ADDRESSING_STYLE", default=""),
        presigned_seconds=EXPORT_PRESIGNED_SECONDS,
    )
else:
    STORAGES["private"] = {"BACKEND": "crisisnotes.storage.PrivateFileSystemStorage"}
# How a checked and audited download leaves: "stream" (through the app, the default) or
# "presigned" (a redirect to a link to the bucket that expires in EXPORT_PRESIGNED_SECONDS).
EXPORT_DOWNLOAD = env.str("EXPORT_DOWNLOAD", default="stream")
if EXPORT_DOWNLOAD not in ("stream", "presigned"):
    raise ImproperlyConfigured('EXPORT_DOWNLOAD must be "stream" or "presigned".')
if EXPORT_DOWNLOAD == "presigned" and not PRIVATE_S3_BUCKET:
    raise ImproperlyConfigured(
        "EXPORT_DOWNLOAD=presigned needs the S3 storage (PRIVATE_S3_BUCKET)."
    )
# Exported files are deleted this long after the export finished (and never before its download
# link expired); the job row stays. See docs/compliance.md "Retention".
EXPORT_RETENTION_HOURS = env.int("EXPORT_RETENTION_HOURS", default=72)
# Bulk exports are split into chunks any worker takes (docs/architecture.md "Background work"):
# a chunk whose worker has not reported for EXPORT_STALL_SECONDS is taken over by another, and a
# job is fanned out to EXPORT_PARALLEL_TASKS task messages (about the number of worker processes).
EXPORT_STALL_SECONDS = env.int("EXPORT_STALL_SECONDS", default=30)
EXPORT_PARALLEL_TASKS = env.int("EXPORT_PARALLEL_TASKS", default=4)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="crisisnotes <noreply@crisisnotes.invalid>"
)
# Every e-mail is an outbox row sent by a Celery task (crisisnotes.notifications): a relay that
# hangs costs a worker EMAIL_TIMEOUT seconds, never a page; a failed attempt is retried after
# EMAIL_RETRY_SECONDS, doubling each time (at most an hour), until EMAIL_MAX_ATTEMPTS, then the
# row says "gave up".
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
EMAIL_RETRY_SECONDS = env.int("EMAIL_RETRY_SECONDS", default=60)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)
if PRODUCTION and EMAIL_CONFIG["EMAIL_BACKEND"] in {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}:
    raise ImproperlyConfigured(
        "Refusing to start with DJANGO_ENV=production: EMAIL_URL must name a real mail relay "
        "(smtp://, smtp+tls:// or smtp+ssl://); the console backend would print password-reset "
        "links and notifications to the log."
    )

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery. With no broker configured we never fall back to Celery's AMQP default (a RabbitMQ on
# localhost would silently take the messages): the embedded default is a filesystem broker that
# `make run` serves with a local worker and beat, so reminders and exports still run.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=""))
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # Without this kombu writes its exchange table to ./control wherever the process runs.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Re-delivery of unacknowledged tasks (acks_late) after this long; longer than any task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tests give each run its own queue so a stray worker on the machine never takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# Log lines carry the request id; production writes one JSON object a line for the collector
# (LOG_FORMAT=json), development and tests plain text.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "crisisnotes.request_log.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "ERROR"},
    },
}
# Readiness gives up on the broker after this many seconds (a load balancer polls it often).
READINESS_BROKER_TIMEOUT = env.float("READINESS_BROKER_TIMEOUT", default=2.0)

# Errors go to Sentry when a DSN is configured. No personal data: client records never leave
# the clinic's systems, so request bodies, cookies and user details are not sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=DJANGO_ENV,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# The read-only FHIR endpoint for partner systems (docs/fhir.md): off unless asked for.
FHIR_API_ENABLED = env.bool("FHIR_API_ENABLED", default=False)
# Live supervision: how often open pages ask the server for changes, in seconds (htmx polling;
# docs/architecture.md says why not server-sent events). Browser tests use 1.
LIVE_BOARD_POLL_SECONDS = env.int("LIVE_BOARD_POLL_SECONDS", default=5)
CONSULT_POLL_SECONDS = env.int("CONSULT_POLL_SECONDS", default=5)
NOTIFICATION_POLL_SECONDS = env.int("NOTIFICATION_POLL_SECONDS", default=20)
