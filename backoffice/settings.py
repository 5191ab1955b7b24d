"""Settings for Front Desk for Wix Bookings — one file, driven by the environment.

Embedded default (nothing set): SQLite under var/, the built-in Wix sandbox with demo data,
django-tasks on the database backend. Production: DATABASE_URL, DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS and real Wix credentials (see .env.example).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from backoffice.logs import logging_config
from bookings_app.wix.config import WixConfigError, resolve_wix_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

try:
    WIX = resolve_wix_config(env.ENVIRON, default_sandbox_state=str(VAR_DIR / "wix-sandbox.sqlite3"))
except WixConfigError as exc:
    raise ImproperlyConfigured(f"Wix settings: {exc}") from None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not WIX.is_sandbox:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (a long random string) when connecting to a live Wix site.")
    SECRET_KEY = "sandbox-only-insecure-key-do-not-use-with-live-wix"  # noqa: S105
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# A stale token (someone signed in or out on this device since the page was opened): say so.
CSRF_FAILURE_VIEW = "bookings_app.views.auth.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    # Before django_tasks_db: its ``db_worker`` command is ours (a heartbeat, recovery at start).
    "bookings_app",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files: served pre-compressed, before gzip
    # Pages are gzipped (a 100-person roster: ~235 KB of HTML, ~10 KB gzipped). BREACH: what is
    # secret in a page body is the CSRF token, which Django masks afresh in every response; gzip
    # pads each response with random bytes (Heal The Breach); and the session cookie is
    # SameSite=Lax, so another site cannot make a signed-in browser fetch a page it could time.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL byte in the path, the query or a form field: 400 here, before any view or query.
    "bookings_app.middleware.NulGuard",
    # The session's idle timeout moves on with what a person does (not with background polls).
    "bookings_app.middleware.SessionIdle",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        # Django's engine, letting each render's context go once drawn (backoffice/template_backend.py).
        "NAME": "django",
        "BACKEND": "backoffice.template_backend.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bookings_app.context_processors.wix",
            ],
        },
    },
    {
        # Only for what Django's template language renders too slowly: the roster row, drawn for
        # every participant of a class (bookings_app/jinja_env.py). Its templates live under
        # templates/jinja2/ and are loaded through this engine only (engines["jinja2"]).
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "bookings_app.jinja_env.environment"},
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Keep a web worker's database connection between requests (checked before reuse). Opening a
# PostgreSQL connection for every request added ~10 ms to each page under gunicorn (the
# 120-person roster over HTTP: median 48 ms with a new connection per request, 38 ms reusing one).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web app and the worker share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: PostgreSQL compiles a query whose estimated cost is high (correlated subqueries
    # make it so: the drift watchdog's) at ~30 ms a time, more than the query takes to run.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "sync"],
    }
}

# How long a desk action can be undone before the worker pushes it to Wix.
DESK_UNDO_SECONDS = env.int("DESK_UNDO_SECONDS", default=8)
# How long the worker's claim on a desk action holds: past it, the worker is taken for dead and
# the next push takes the action over, resuming from its saved steps.
DESK_PUSH_LEASE_SECONDS = env.int("DESK_PUSH_LEASE_SECONDS", default=600)
# The header warns staff when desk actions have waited longer than this past their undo window.
DESK_BACKLOG_WARN_SECONDS = env.int("DESK_BACKLOG_WARN_SECONDS", default=120)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Every sign-in (the desk's page, /admin/login/, any authenticate()) is throttled per username and
# address, counted in the database so all web processes share it (services/sign_ins.py).
AUTHENTICATION_BACKENDS = ["bookings_app.auth_backend.ThrottledModelBackend"]

# The drift watchdog (``selectors.drift``): a desk action waiting for Wix, or needing attention,
# for longer than DRIFT_STUCK_MINUTES is "stuck"; a disagreement the sync may still mend by itself
# (a payment Wix took a moment ago) waits DRIFT_GRACE_MINUTES; sessions and plan charges older
# than DRIFT_LOOKBACK_DAYS are history, no longer watched (the sync reads the past week, so older
# drift could not be mended by it anyway).
DRIFT_STUCK_MINUTES = env.int("DRIFT_STUCK_MINUTES", default=15)
DRIFT_GRACE_MINUTES = env.int("DRIFT_GRACE_MINUTES", default=10)
DRIFT_LOOKBACK_DAYS = env.int("DRIFT_LOOKBACK_DAYS", default=7)
# Exports of more rows than this are prepared in the background, with a progress bar
# (``services.export_jobs``); smaller ones download at once.
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=5000)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("BUSINESS_TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG and not WIX.is_sandbox)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Desk tablets are shared: a session ends after this many hours with nobody using it (moved on by
# what a person does, not by a page's own refreshes: bookings_app/middleware.py SessionIdle), and,
# when asked, when the browser closes.
SESSION_COOKIE_AGE = int(env.float("DJANGO_SESSION_IDLE_HOURS", default=12) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
# Behind a TLS proxy (nginx, a load balancer) that sets X-Forwarded-Proto — and strips any the
# client sent — request.is_secure() must believe it: secure redirects, CSRF's origin check. Off
# by default: trusted from a client directly, the header would let anyone claim HTTPS.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only, in production (the secure cookies' default): plain HTTP is redirected, and browsers
# are told to use nothing else for a year (HSTS). /healthz/ is exempt from the redirect: a load
# balancer probes it over plain HTTP inside the network. Behind a TLS proxy, set
# DJANGO_TRUST_X_FORWARDED_PROTO too, or every request looks like HTTP and redirects for ever.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if SESSION_COOKIE_SECURE else 0)
# includeSubDomains covers the app's own host's subdomains (desk.club.example's, not the club's
# other sites). Preloading into browsers is the domain owner's decision (hstspreload.org, for the
# whole registrable domain): off unless DJANGO_SECURE_HSTS_PRELOAD=1, and check --deploy's
# reminder of it silenced — the one check silenced here.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Secrets never reach an error page (DEBUG's included) or a log line: bookings_app/redaction.py.
# Any handler added below needs the "redact_secrets" filter too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "bookings_app.redaction.SecretsFilter"
DEFAULT_EXCEPTION_REPORTER = "bookings_app.redaction.SecretsReporter"

# LOG_FORMAT=json: one JSON object per line with the structured fields (every Wix call, every
# desk-action state change); text otherwise. Secrets are redacted either way (backoffice/logs.py).
try:
    LOGGING = logging_config(
        log_format=env.str("LOG_FORMAT", default="text").strip().lower(), level=env.str("LOG_LEVEL", default="INFO")
    )
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
