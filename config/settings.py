"""Marelle settings: one module, read from the environment.

MARELLE_ENV selects safe defaults: "production" (the default: no debug, a secret key is required),
"demo" (the local demo: e-mails written to var/mail/, tasks run eagerly) or "test".
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MARELLE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


MARELLE_ENV = os.environ.get("MARELLE_ENV") or ("test" if "pytest" in sys.modules else "production")
if MARELLE_ENV not in {"production", "demo", "test"}:
    raise ImproperlyConfigured(f"MARELLE_ENV={MARELLE_ENV!r}: use production, demo or test.")
IS_PRODUCTION = MARELLE_ENV == "production"
TESTING = MARELLE_ENV == "test"
# Parallel test workers (pytest-xdist names them gw0, gw1…) each get their own media files and
# platform cache, as pytest-django gives each its own database.
_WORKER = f"-{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""

DEBUG = env_bool("DEBUG", default=False)


def _local_secret_key() -> str:
    """A stable key for the demo and tests, kept out of the repository in var/."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random SECRET_KEY in the environment "
            "(or set MARELLE_ENV=demo for a local demo)."
        )
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if IS_PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Applications -------------------------------------------------------------------------------
SHARED_APPS = [
    # Before django_tenants, so /admin/ renders Django's own admin templates: django-tenants'
    # versions colour apps from request.tenant, which our public pages leave at None (the
    # admin lives on the public schema only), and every admin page then failed.
    "django.contrib.admin",
    "django_tenants",
    "tenants",
    "shared_apps.common",
    "shared_apps.accounts",
    "shared_apps.families",
    "shared_apps.notifications",
    "shared_apps.audit",
    "shared_apps.directory",
    "shared_apps.wallet",
    "shared_apps.payments",
    "shared_apps.jobs",
    # The operators' console (/operateur/): its health snapshots live in the public schema.
    "console",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",  # Content-Security-Policy (see the security block below)
]
TENANT_APPS = [
    "tenant_apps.catalog",
    "tenant_apps.enrollments",
    "tenant_apps.backoffice",
    "tenant_apps.bookings",
    "tenant_apps.billing",
]
# The demo data (`manage.py demo`) has no models and no schema: installed for its command only.
INSTALLED_APPS = [
    *SHARED_APPS,
    *(app for app in TENANT_APPS if app not in SHARED_APPS),
    "demo",
]

TENANT_MODEL = "tenants.Commune"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New communes are cloned from this migrated, empty schema (see tenants/services.py).
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_LIMIT_SET_CALLS = True
# Issue 15 (tenants/middleware.py): requests for one commune that follow each other on a
# connection send its `SET search_path` once. Off under tests, whose pinned query counts count
# that SET whatever request came before; tests/tenants turn it on to test it.
TENANT_KEEP_SEARCH_PATH = not TESTING
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Security headers (the CSP, no-store on personal answers): see the security block below.
    "shared_apps.common.headers.ContentSecurityPolicyMiddleware",
    "shared_apps.common.headers.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The commune is resolved from the path before anything touches the database.
    "tenants.middleware.CommuneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "tenants.context_processors.commune",
                "shared_apps.payments.context_processors.top_up",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    from config import embedded_db

    _socket_dir, EMBEDDED_POSTGRES_STARTED_HERE = embedded_db.ensure_running()
    _db_name = os.environ.get("MARELLE_DB_NAME", "marelle")
    embedded_db.ensure_database(_socket_dir, _db_name)
    DATABASES = {"default": {"NAME": _db_name, "USER": "postgres", "HOST": _socket_dir, "PORT": ""}}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "parent-home"  # "Mon espace": the next bookings, wallet, requests
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
_MEDIA_DIR = f"test-media{_WORKER}" if TESTING else "media"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / _MEDIA_DIR))
# Supporting documents: what a parent may upload, checked by content, not by name.
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
MEDIA_URL = "/media-not-served/"  # documents are never served from a public URL
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG

# --- Cache --------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL and not TESTING  # tests keep their caches to themselves, Redis or not
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Platform-wide entries (the commune routing version): read alike from any schema (no schema
# prefix) and by every process — Redis, or without it files in var/ that the demo's workers
# share (a per-process memory cache would let each worker keep its own idea of the communes).
CACHES["platform"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL and not TESTING
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache" / (f"platform-test{_WORKER}" if TESTING else "platform"),
    }
)
CACHES["platform"]["KEY_PREFIX"] = "platform"
# Keys are prefixed with the current schema, so communes never read each other's entries.
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
CACHES["default"]["REVERSE_KEY_FUNCTION"] = "django_tenants.cache.reverse_key"

# --- E-mail -------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Marelle <ne-pas-repondre@marelle.fr>")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif TESTING:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
elif IS_PRODUCTION:
    raise ImproperlyConfigured("EMAIL_HOST is not set: production must be able to send e-mail.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Celery -------------------------------------------------------------------------------------
# Without a broker (tests, demo) tasks run in-process, still only after the transaction commits.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
# The test suite runs tasks in-process even where Redis is there (CI): the one test that needs a
# real worker (tests/jobs/test_worker.py) sends to it explicitly.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or TESTING
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Operators told by e-mail when a scheduled job fails (comma-separated; empty: the JobRun row and
# the error log only). See shared_apps/jobs.
JOBS_ALERT_EMAILS = env_list("JOBS_ALERT_EMAILS")
# Scheduled jobs (shared_apps/jobs: each retried with backoff and recorded in JobRun, shown to
# operators at /operateur/taches/). crontab hours are Paris time (CELERY_TIMEZONE).
CELERY_BEAT_SCHEDULE = {
    "release-unpaid-card-orders": {
        "task": "tenant_apps.bookings.tasks.release_unpaid_orders_everywhere",
        "schedule": crontab(minute="*/5"),
    },
    "retry-unmatched-provider-events": {
        "task": "shared_apps.payments.tasks.retry_unmatched_webhook_events_task",
        "schedule": crontab(minute="*/2"),
    },
    "delete-stale-carts": {
        "task": "tenant_apps.bookings.tasks.delete_stale_carts_everywhere",
        "schedule": crontab(minute=15),
    },
    # Before the usual noon deadlines: a family told at 8:00 has the morning to book.
    "booking-reminders": {
        "task": "tenant_apps.bookings.tasks.send_booking_reminders_everywhere",
        "schedule": crontab(hour=8, minute=0),
    },
    "low-balance-emails": {
        "task": "tenant_apps.catalog.tasks.send_low_balance_emails_everywhere",
        "schedule": crontab(hour=7, minute=30),
    },
    # Last month's invoices, every morning: the first run of a month issues them, the next ones
    # find its InvoiceRun and do nothing (so a failed 1st is caught up on the 2nd).
    "monthly-invoices": {
        "task": "tenant_apps.billing.tasks.build_last_month_invoices_everywhere",
        "schedule": crontab(hour=5, minute=30),
    },
    # The operators' console: every commune's health row (console.health), idempotent.
    "console-commune-health": {
        "task": "console.tasks.refresh_health_task",
        "schedule": 900.0,
    },
    "verify-ledger": {
        "task": "shared_apps.wallet.tasks.verify_ledger_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "reconcile-with-provider": {
        "task": "shared_apps.payments.tasks.reconcile_with_provider_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "prune-job-runs": {
        "task": "shared_apps.jobs.tasks.prune_job_runs_task",
        "schedule": crontab(hour=4, minute=0),
    },
}
CART_IDLE_HOURS = 6  # expired carts untouched this long are deleted
BOOKING_REMINDER_HOURS = 48  # remind when next week's first deadline is this close
RECONCILIATION_DAYS = 3  # the provider's objects of the last days compared with ours
RECONCILIATION_SETTLE_MINUTES = 15  # younger ones wait for their notification
JOBS_KEEP_DAYS = 30  # runs kept this long (failed ones: JOBS_KEEP_FAILED_DAYS)
JOBS_KEEP_FAILED_DAYS = 180

# --- Wallet -------------------------------------------------------------------------------------
# Operators may switch off the "all services" pocket where public accounting rules require it.
WALLET_GENERAL_CREDIT_ENABLED = env_bool("WALLET_GENERAL_CREDIT_ENABLED", True)
WALLET_TOP_UP_MIN_CENTS = 500
WALLET_TOP_UP_MAX_CENTS = 50_000

# Card payments for something else than a top-up are fulfilled by the code that sold it.
PAYMENT_FULFILMENT_HOOKS = {
    "checkout": "tenant_apps.bookings.services.card_orders.fulfil_checkout",
    "invoice": "tenant_apps.billing.services.collection.settle_invoice_payment",
}
# …and told when the payment failed (a rejected direct debit: the family is e-mailed).
PAYMENT_FAILURE_HOOKS = {
    "invoice": "tenant_apps.billing.services.collection.on_invoice_payment_failed",
}
# A signed `setup_intent.*` notification (a SEPA mandate being set up): its commune reads the
# set-up's state again from the provider.
PAYMENT_SETUP_HOOK = "tenant_apps.billing.services.mandates.on_setup_notification"
UNPAID_ORDER_MINUTES = 30

# --- Stripe -------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # e.g. a localstripe server
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "20"))

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shared_apps.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shared_apps.common.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "shared_apps.common.parsers.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Sign-up, token and reset requests per client address (login failures: django-axes), the
    # address coming from shared_apps.common.client_ip like everywhere else.
    "DEFAULT_THROTTLE_CLASSES": ["shared_apps.common.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("AUTH_THROTTLE_RATE", "30/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API Marelle",
    "DESCRIPTION": "Portail famille des communes : comptes, familles, services, réservations, "
    'porte-monnaie. Erreurs : {"error": {"code", "message", "fields"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/(c/[^/]+/)?api/v1",
    # The error format and its statuses, on every operation (shared_apps/common/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shared_apps.common.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AccessRequestStatusEnum": "tenant_apps.enrollments.models.RequestStatus",
        "PaymentStatusEnum": "shared_apps.payments.models.PaymentStatus",
    },
}

# --- Security (issue 15: headers, cookies, API tokens) --------------------------------------------
# Kept in one block. Tested by tests/security/test_headers.py (production settings are loaded
# in a subprocess there).
# API tokens, one per device (shared_apps.accounts.api_tokens): expire this many days after their
# last use; the expiry slides forward at most once an hour, so most requests write nothing.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
API_TOKEN_TOUCH_SECONDS = 3600
# Content-Security-Policy on every answer (django-csp; shared_apps.common.headers adds the card
# provider's origins from STRIPE_JS_URL / STRIPE_API_BASE). Scripts: our static files only (no
# inline script, no handler attribute: templates load static/js/*). Styles: ours, plus the
# nonce'd <style> of the commune's colour. Nothing may frame us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = TrueSESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script reads it: forms carry the token
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True


# --- Platform -----------------------------------------------------------------------------------
# The address the platform is served at, as people reach it: every absolute link (e-mails,
# payment return addresses) is built on it by shared_apps.common.links.absolute_url.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/")
if not PUBLIC_BASE_URL:
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            "PUBLIC_BASE_URL is not set: production needs the address it is served at, e.g. "
            "https://marelle.example.fr (links in e-mails are built on it)."
        )
    PUBLIC_BASE_URL = "http://localhost:8000"
if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", PUBLIC_BASE_URL):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL={PUBLIC_BASE_URL!r}: write it as http(s)://host[:port][/path]."
    )
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # reset and verification links expire after 24 hours
FAMILY_INVITATION_DAYS = 7
# Where family code finds the communes' bookings (dotted paths: no import of tenant apps).
FAMILY_BOOKINGS_HOOKS = {
    "upcoming_of_child": "tenant_apps.bookings.selectors.upcoming_reservations_of_child",
    "cancel_upcoming_of_child": (
        "tenant_apps.bookings.services.cancellation.cancel_upcoming_reservations_of_child"
    ),
}

# Where "Mes services" (public) finds the family's access requests in every commune.
FAMILY_ACCESS_REQUESTS_HOOK = "tenant_apps.enrollments.selectors.request_states_everywhere"

# --- Client addresses and abuse budgets -----------------------------------------------------------
# How many reverse proxies of ours stand in front of gunicorn, each appending the address it saw
# to X-Forwarded-For (deploy/: nginx or the ingress = 1). 0: the header is ignored, REMOTE_ADDR is
# the client. Read by shared_apps.common.client_ip, the one resolver for every budget below.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# E-mails a client address can make us send per hour (sign-up, reset, verification, invitations).
MAIL_REQUESTS_PER_ADDRESS_PER_HOUR = int(os.environ.get("MAIL_REQUESTS_PER_ADDRESS_PER_HOUR", "20"))
# Account forms (access, sign-up, password, reset) posted per client address per minute.
ACCOUNT_FORM_POSTS_PER_MINUTE = 30
# One verification or reset e-mail per account in this many seconds.
ACCOUNT_MAIL_INTERVAL_SECONDS = 300
# Invitations: per family per day, and to one address per day whoever sends them.
FAMILY_INVITATIONS_PER_DAY = 3
INVITATIONS_PER_RECIPIENT_PER_DAY = 3

# Login throttling (django-axes): 5 failures lock the account and the client address for
# 15 minutes. The account is the normalised e-mail, the address comes from client_ip.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shared_apps.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "shared_apps.accounts.lockout.address_of"
AXES_USERNAME_CALLABLE = "shared_apps.accounts.lockout.login_of"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Where the family's statement and childcare attestation (public) read each commune's schema.
FAMILY_STATEMENT_HOOK = "tenant_apps.billing.family_selectors.statement_everywhere"
FAMILY_CHILDCARE_HOOK = "tenant_apps.billing.family_selectors.childcare_paid_everywhere"

# --- Observability (shared_apps/common/observability.py, deploy/README.md "Observability") -------
# Kept in one block: request ids and JSON logs, Sentry, Prometheus, readiness. Replaces the
# LOGGING above.
from shared_apps.common import observability as _observability  # noqa: E402

# First: names the request (X-Request-ID) and answers /healthz, /readyz and /metrics before the
# host check and the https redirect. django-prometheus times everything in between, by view name.
MIDDLEWARE = [
    "shared_apps.common.observability.RequestContextMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# JSON lines on stdout in production (LOG_FORMAT=json|text), one line per request (ACCESS_LOG).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if IS_PRODUCTION else "text")
LOGGING = _observability.logging_config(
    level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
    json=LOG_FORMAT == "json",
    access_log=env_bool("ACCESS_LOG", IS_PRODUCTION),
)
# Celery workers log through the LOGGING above (JSON, with task id and commune), not their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Sentry only with a DSN; no personal data (observability.scrub_event).
SENTRY_ENABLED = _observability.init_sentry(environment=MARELLE_ENV)
# /metrics: "Authorization: Bearer <METRICS_TOKEN>", or without a token the internal network only.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
PROMETHEUS_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))
READINESS_CACHE_SECONDS = float(os.environ.get("READINESS_CACHE_SECONDS", "5"))
if IS_PRODUCTION:
    # HSTS preload commits the whole domain and its subdomains to https for years, which only
    # the operator of the domain can decide: opt in with SECURE_HSTS_PRELOAD=1. Until then the
    # check that recommends it (security.W021) is silenced so that `check --deploy` stays clean.
    if "SECURE_HSTS_PRELOAD" not in globals():
        SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
