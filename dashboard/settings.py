"""Settings, all from the environment, with safe development defaults.

Production hardening is one switch: DJANGO_PRODUCTION=1 (then DJANGO_SECRET_KEY is required
and `manage.py check --deploy` is clean).
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

PRODUCTION = env.bool("DJANGO_PRODUCTION", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = (
    env.str("DJANGO_SECRET_KEY")
    if PRODUCTION
    else env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-" + "x" * 32)
)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)

# The embedded sandbox API (an optional app): on by default only when no real API is configured,
# and never by default in production. Off, it is neither installed nor routed, and the dashboard
# has no upstream until OPENAI_API_KEY is set.
SANDBOX_ENABLED = env.bool(
    "SANDBOX_ENABLED", default=not env.str("OPENAI_API_KEY", default="") and not PRODUCTION
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "dashboard",
    "dashboard.catalogue",
    "dashboard.cleanup",
    "dashboard.usage",
    "django_tasks_db",
    *(["dashboard.sandbox"] if SANDBOX_ENABLED else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dashboard.accounts.HtmxLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.logging.ForbiddenLogMiddleware",
]

# Background work (catalogue refreshes, pruning): django-tasks-db's queue in the database, run by
# `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.dashboard",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (runserver) and processes share one file: wait for locks, write-ahead log.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # A transaction takes the write lock when it begins, so a writer waits (`timeout`)
            # instead of failing at once with "database is locked" on a read-to-write upgrade.
            "transaction_mode": "IMMEDIATE",
        }
    )
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://dashboard")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins allowed per username from one client address, and per address (any
# usernames), within LOGIN_LOCKOUT_SECONDS; then a wait of LOGIN_LOCKOUT_SECONDS that doubles
# with each further failure, up to LOGIN_LOCKOUT_MAX_SECONDS (dashboard/login_throttle.py).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
# Reverse proxies in front of the app whose X-Forwarded-For entries are trusted (0: none, the
# client is REMOTE_ADDR). Behind one proxy (a load balancer), set 1.
TRUSTED_PROXY_HOPS = env.int("DJANGO_TRUSTED_PROXY_HOPS", default=0)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=24 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_FAILURE_VIEW = "dashboard.accounts.csrf_failure"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP inside
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Upstream API -------------------------------------------------------------------------
# Without OPENAI_API_KEY the dashboard talks to its embedded sandbox, in-process.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="") or None
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or "https://api.openai.com/v1"
OPENAI_ORG_ID = env.str("OPENAI_ORG_ID", default="") or None
OPENAI_PROJECT_ID = env.str("OPENAI_PROJECT_ID", default="") or None
# The default upstream's organization Admin API key (optional): the Usage API's "last used".
OPENAI_ADMIN_KEY = env.str("OPENAI_ADMIN_KEY", default="") or None
UPSTREAM_TIMEOUT = env.float("UPSTREAM_TIMEOUT", default=15.0)
UPSTREAM_MAX_RETRIES = env.int("UPSTREAM_MAX_RETRIES", default=2)
# The total time a page waits on the upstream: every attempt and every Retry-After wait
# (background work and management commands may wait longer).
UPSTREAM_PAGE_BUDGET = env.float("UPSTREAM_PAGE_BUDGET", default=8.0)
# The most the dashboard reads of one answer: a list of models (100,000 models are ~15 MB),
# and anything else (one model, a delete's answer, an error).
UPSTREAM_MAX_RESPONSE_BYTES = env.int("UPSTREAM_MAX_RESPONSE_BYTES", default=16 * 1024 * 1024)
UPSTREAM_MAX_MODEL_BYTES = env.int("UPSTREAM_MAX_MODEL_BYTES", default=1024 * 1024)
MODELS_CACHE_SECONDS = env.int("MODELS_CACHE_SECONDS", default=60)
# More upstreams, like DATABASES: a JSON object alias -> options (dashboard/upstreams/config.py);
# the default one comes from the OPENAI_* variables above (or is the sandbox).
UPSTREAMS: dict[str, dict[str, object]] = env.json("UPSTREAMS", default={})

# --- Usage ("last used", from the Usage API with an upstream's admin key) -------------------
# How many UTC days back the first read goes (and the window kept), how often it reads again,
# and how long after a day ends it counts as complete (until then it is read again each run).
# Plain settings for now (not environment variables: those belong in the README's table).
USAGE_DAYS = 120
USAGE_REFRESH_SECONDS = 3600
USAGE_SETTLE_HOURS = 6.0

# --- Cleanup (deletion jobs) ----------------------------------------------------------------
# How many deletes one job has in flight at once, and the most models one job or selection holds.
CLEANUP_CONCURRENCY = env.int("CLEANUP_CONCURRENCY", default=4)
CLEANUP_MAX_ITEMS = env.int("CLEANUP_MAX_ITEMS", default=10_000)
# How long a job runner's claim on a job lasts without renewal (it renews every few seconds);
# a runner that was killed loses the job this long after its last renewal.
CLEANUP_LEASE_SECONDS = env.float("CLEANUP_LEASE_SECONDS", default=30.0)

# --- Sandbox ------------------------------------------------------------------------------
SANDBOX_KEYS = {"sk-sandbox-owner": "owner", "sk-sandbox-reader": "reader"}
SANDBOX_API_KEY = "sk-sandbox-owner"  # the key the dashboard itself uses in sandbox mode
SANDBOX_ORGANIZATION = "org-sandbox"
SANDBOX_ADMIN_KEY = "sk-sandbox-admin"  # the sandbox upstreams' admin key (its Usage API)
# Fault injection for tests and demos: "", "error-500", "error-429", "timeout", "malformed",
# "unavailable".
SANDBOX_FAILURE = env.str("SANDBOX_FAILURE", default="")
# Extra seconds every sandbox response takes (to see loading states, and in browser tests).
SANDBOX_LATENCY = env.float("SANDBOX_LATENCY", default=0.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "utc": {
            "()": "dashboard.logging.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"drop_403": {"()": "dashboard.logging.DropForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "utc"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        # A 403 is logged once, as the security event `http.403`, not again with a traceback.
        "django.request": {"filters": ["drop_403"]},
    },
}
