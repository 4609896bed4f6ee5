"""Settings for csplatform, read from the environment only (django-environ).

The defaults describe the embedded mode (a laptop or a demo): an embedded PostgreSQL and a
server-less Celery broker under ``var/``. Production sets ``DEBUG=false`` and real ``DATABASE_URL`` /
``CELERY_BROKER_URL`` values; unsafe production values stop the process at start-up.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# The development key is public (it is in this file). Production refuses it.
DEVELOPMENT_SECRET_KEY = "csplatform-development-key-not-for-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)

if not DEBUG:
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DEBUG is false but SECRET_KEY is the development key or shorter than 50 characters. "
            "Set SECRET_KEY to a long random value."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is false but ALLOWED_HOSTS is empty. Set ALLOWED_HOSTS.")

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "csplatform",
    "accounts",
    "segmentation",
    "playbooks",
    "engagement",
    "integrations",
]

MIDDLEWARE = [
    "csplatform.middleware.RequestIdMiddleware",
    # First after the request id: request.htmx is then set even for a database outage answered
    # by an outer middleware or by handler500.
    "django_htmx.middleware.HtmxMiddleware",
    "csplatform.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csplatform.middleware.ApiBodySizeLimitMiddleware",
    "csplatform.middleware.JsonDepthLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "csplatform.middleware.HtmxVaryMiddleware",
    # Our 404 page even with DEBUG (never the technical page listing every URL pattern).
    "csplatform.middleware.ErrorPagesMiddleware",
    "csplatform.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csplatform.urls"
WSGI_APPLICATION = "csplatform.wsgi.application"

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
                "csplatform.context_processors.roles",
            ],
        },
    }
]

# --- Database --------------------------------------------------------------------------------
# PostgreSQL is the only database. Without DATABASE_URL (an empty value in an .env file counts as
# unset) the embedded server under VAR_DIR is started or joined (csplatform/embedded_db.py).
_database_url = env.str("DATABASE_URL", default="")
if not _database_url:
    from csplatform.embedded_db import database_url as _embedded_database_url

    _database_url = _embedded_database_url(VAR_DIR)
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL names {DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}: csplatform runs on "
        "PostgreSQL only (postgres://user@host:5432/name, or unset for the embedded server)."
    )
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT compiles any statement the planner costs high, at 50-300 ms a statement; ours
# are many and short (a review chunk, a worklist, a summary), each cheaper than its compilation
# (a review chunk's pre-filter: 177 ms with JIT, 120 ms without).
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "csplatform.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the person's roles with them on every request.
    "csplatform.auth_backends.RolesModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# whitenoise warns at every start when the folder is missing (before the first collectstatic).
if not STATIC_ROOT.exists():
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Request limits -----------------------------------------------------------------------------
# A 1000-record sync is about 400 KB; 5 MB leaves room and answers 413 beyond.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # Producer and consumer share one folder: what one writes out the other reads in.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (remote control) messages; kombu's default is a folder in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Publishing must not hang a web request when the broker is down: one connection attempt, bounded
# socket waits, then the error. Nothing is lost: enqueue() keeps the task in the outbox table and
# the sweeper publishes it once the broker is back. (kombu's defaults retry for about 6 seconds per
# publish.) Workers reconnect by their own policy (broker_connection_max_retries), not this one.
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {"max_retries": 0, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 2, "socket_timeout": 5})
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A task whose on-commit publish failed is re-published by the sweeper after this many seconds.
DISPATCH_SWEEP_GRACE_SECONDS = env.int("DISPATCH_SWEEP_GRACE_SECONDS", default=30)
# Two queues. Work a person waits for (a sync's or an edit's tier re-evaluation, a few accounts)
# goes to ``interactive``, which a worker of its own consumes (Procfile, docker-compose.yml): a
# tier review's chunk tasks, on the default queue, can fill every slot of the other workers for
# minutes and must not delay it. A worker started without ``-Q`` consumes both queues, so a
# deployment without the interactive worker still runs everything.
CELERY_TASK_DEFAULT_QUEUE = "celery"
INTERACTIVE_QUEUE = "interactive"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(INTERACTIVE_QUEUE))
# Event-driven work on a few accounts (a sync, a touchpoint, a flag): the tier and the health a
# person is waiting to see.
CELERY_TASK_ROUTES = {
    "segmentation.reevaluate_accounts": {"queue": INTERACTIVE_QUEUE},
    "segmentation.compute_health_accounts": {"queue": INTERACTIVE_QUEUE},
}
# A tier review queues this many tasks; each claims chunks until none is left, so as many worker
# processes as that work on it at once (segmentation.services.reviews).
TIER_REVIEW_TASKS = env.int("TIER_REVIEW_TASKS", default=4)

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Customer Success <cs@csplatform.localhost>")
ANYMAIL = env.dict("ANYMAIL", default={})
# The email provider's tracking webhooks (/anymail/<provider>/tracking/) authenticate with HTTP
# basic auth: ANYMAIL_WEBHOOK_SECRET is "user:password", the credentials put in the provider's
# webhook URL. Without it the tracking endpoint refuses every request.
_anymail_webhook_secret = env.str("ANYMAIL_WEBHOOK_SECRET", default="")
if _anymail_webhook_secret:
    ANYMAIL["WEBHOOK_SECRET"] = _anymail_webhook_secret
# For EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- REST API -----------------------------------------------------------------------------------
# Reverse proxies in front of the app; the client address is read from X-Forwarded-For accordingly.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "csplatform.api_auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "csplatform.api_auth.RoleRequired",
        "csplatform.api_auth.ReadOnlyTokenPermission",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "csplatform.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "csplatform.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "csplatform.throttling.AnonRateThrottle",
        "csplatform.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="6000/minute"),
    },
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "csplatform API",
    "DESCRIPTION": "Tiered customer success management: accounts, CRM sync, tiers and engagement.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "csplatform.api_errors.document_error_responses",
    ],
    # Several models have a "kind" field with different choices: name their enums explicitly.
    "ENUM_NAME_OVERRIDES": {
        "TouchpointKindEnum": "engagement.models.touchpoints.TouchpointKind",
        "ServiceModuleKindEnum": "playbooks.models.catalogue.ModuleKind",
        "FlagKindEnum": "engagement.models.flags.FlagKind",
        "TierChangeSourceEnum": "segmentation.models.changes.ChangeSource",
        "TierChangeStatusEnum": "segmentation.models.changes.ChangeStatus",
    },
}

# API throttles (DRF) and sign-in lockouts (django-axes) count in this cache. Production runs several
# gunicorn workers, so it must be shared between processes: CACHE_URL names the Redis server (the
# deployment check warns without it). Without it, each process counts alone (fine for one process).
CACHES = {
    "default": (
        env.cache("CACHE_URL")
        if env.str("CACHE_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
SHARED_CACHE = CACHES["default"]["BACKEND"] not in (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)

# --- Login throttling (django-axes) -------------------------------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind a proxy the client address is the one the proxies appended (NUM_PROXIES from the right).
AXES_CLIENT_IP_CALLABLE = "csplatform.throttling.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# With a shared cache, failures and lockouts live there (every worker sees them at once, and the
# database is not written on each failed sign-in); without one, in the database (shared as well).
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler" if SHARED_CACHE else "axes.handlers.database.AxesDatabaseHandler"
)

# --- Security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^ready/$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # No inline scripts or styles: htmx runs with includeIndicatorStyles and allowEval off.
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "csplatform.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "csplatform.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Product settings -----------------------------------------------------------------------------
# Relationship economics (Storbacka): cost-to-serve = minutes x hourly cost + tickets x ticket cost.
CSM_HOURLY_COST = env.float("CSM_HOURLY_COST", default=75.0)
SUPPORT_TICKET_COST = env.float("SUPPORT_TICKET_COST", default=25.0)
# Storbacka quadrant thresholds: ACV at or above is "high revenue"; annual cost to serve at or
# above is "high cost".
ECONOMICS_HIGH_REVENUE_ACV = env.float("ECONOMICS_HIGH_REVENUE_ACV", default=50000.0)
ECONOMICS_HIGH_COST_TO_SERVE = env.float("ECONOMICS_HIGH_COST_TO_SERVE", default=5000.0)

# Engagement: flags from usage signals. A flag expires after FLAG_EXPIRY_DAYS unless resolved.
# Usage is compared between the latest usage period and the mean of the FLAG_BASELINE_PERIODS before.
FLAG_BASELINE_PERIODS = env.int("FLAG_BASELINE_PERIODS", default=4)
FLAG_USAGE_DROP_PERCENT = env.int("FLAG_USAGE_DROP_PERCENT", default=30)
FLAG_USAGE_SPIKE_PERCENT = env.int("FLAG_USAGE_SPIKE_PERCENT", default=50)
FLAG_TICKET_SURGE_FACTOR = env.float("FLAG_TICKET_SURGE_FACTOR", default=2.0)
FLAG_TICKET_SURGE_MIN = env.int("FLAG_TICKET_SURGE_MIN", default=5)
FLAG_RENEWAL_NEAR_DAYS = env.int("FLAG_RENEWAL_NEAR_DAYS", default=60)
FLAG_EXPIRY_DAYS = env.int("FLAG_EXPIRY_DAYS", default=14)
# Coverage: "share delivered on time" is measured over this trailing window.
COVERAGE_WINDOW_DAYS = env.int("COVERAGE_WINDOW_DAYS", default=90)
# An exceeding AE commitment accepted by leadership is an exception for this many days by default.
COMMITMENT_EXCEPTION_DAYS = env.int("COMMITMENT_EXCEPTION_DAYS", default=365)
# Worklist: renewals within this many days raise an account.
WORKLIST_RENEWAL_DAYS = env.int("WORKLIST_RENEWAL_DAYS", default=90)

# --- Journeys (automated low-touch email) ------------------------------------------------------
# Initial frequency cap (automated emails per contact per rolling 7 days); leadership edits it
# afterwards on the journeys page, where the global kill switch lives too.
JOURNEY_WEEKLY_CAP = env.int("JOURNEY_WEEKLY_CAP", default=2)
# Customer-facing links offered to templates as {{ links.<name> }}, e.g. help_center=https://...
JOURNEY_LINKS = env.dict("JOURNEY_LINKS", default={})
JOURNEY_UNSUBSCRIBE_MAX_AGE_DAYS = env.int("JOURNEY_UNSUBSCRIBE_MAX_AGE_DAYS", default=400)
# Emails claimed per sender round trip; a crashed sender leaves at most this many for review.
JOURNEY_SEND_BATCH_SIZE = env.int("JOURNEY_SEND_BATCH_SIZE", default=250)

# --- Outbound webhooks (Standard Webhooks) -----------------------------------------------------------
# Endpoints whose host resolves to a private, loopback or link-local address are refused (on
# creation and again before every delivery) unless this is true; by default only when DEBUG is.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=DEBUG)
# An answer later than this is a failure (and retried).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Failed deliveries are retried with exponential backoff for this long after the event.
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=72)
# An endpoint that has failed every delivery for this long is deactivated and its owner told.
WEBHOOK_DEACTIVATE_AFTER_DAYS = env.int("WEBHOOK_DEACTIVATE_AFTER_DAYS", default=3)
