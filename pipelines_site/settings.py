"""stagecast settings: everything from the environment, read through strict helpers (healthchecks style)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def project_dir(name: str) -> Path:
    """templates/ or static/: inside the package once installed (pyproject.toml maps them there in a wheel),
    beside it in a checkout."""
    installed = Path(__file__).resolve().parent / name
    return installed if installed.is_dir() else BASE_DIR / name


def envstr(name: str, default: str = "") -> str:
    """A setting, or its ``<NAME>_FILE`` variant (for secrets mounted as files)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw in ("1", "True", "true"):
        return True
    if raw in ("0", "False", "false"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1/True/true or 0/False/false, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


def envchoice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = envstr(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required (or set DEBUG=1 for a development instance)")
    SECRET_KEY = "stagecast-insecure-development-key-not-for-production-use-0123456789"

DATA_DIR = Path(envstr("STAGECAST_DATA_DIR", str(BASE_DIR / ".stagecast"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
PIPELINES_DIRS = [Path(p) for p in envlist("STAGECAST_PIPELINES_DIRS", str(BASE_DIR / "pipelines"))]

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# --- HTTPS (`python manage.py check --deploy` is clean with DEBUG=0, a SECRET_KEY and a real host) ----
# A team server is reached over HTTPS, usually through a reverse proxy that terminates TLS. The hardening
# is on by default when DEBUG=0 and ALLOWED_HOSTS names a host beyond this machine's loopback names; an
# instance only this machine can reach (the benchmarks, `serve` with DEBUG=0) keeps plain HTTP working.
# STAGECAST_HTTPS=1/0 decides outright; each Django setting below can still be set on its own.
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
HTTPS = envbool("STAGECAST_HTTPS", not DEBUG and not set(ALLOWED_HOSTS) <= _LOOPBACK_HOSTS)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
# The container's health check asks over plain HTTP from inside (pipelines_site/healthcheck.py).
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", HTTPS)
# Browsers remember HSTS for max-age seconds, refusing plain HTTP to the host all that time:
# SECURE_HSTS_SECONDS=0 turns it off while HTTPS is being tried out.
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The preload directive alone puts the host on no list; submitting it to hstspreload.org would.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", HTTPS)
# Only behind a proxy that sets X-Forwarded-Proto on every request (and is the only way in): otherwise a
# client could claim HTTPS itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("SECURE_PROXY_SSL_HEADER", False) else None

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "executions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pipelines_site.urls"
ASGI_APPLICATION = "pipelines_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [project_dir("templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in the data dir unless DATABASE_URL names another database. With a worker and the web process
# writing at once, SQLite needs WAL and IMMEDIATE transactions, or read-then-write transactions fail
# with "database is locked" (measured: shared/notes/stack-measurements.md §9).
_database_url = envstr("DATABASE_URL")
if _database_url:
    # Health checks: a pooled connection that PostgreSQL dropped (a restart, an idle timeout) is replaced
    # before a request uses it, instead of failing that request.
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "stagecast.sqlite3")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Closed after each use: kept open per thread (as for PostgreSQL) they saved ~1 ms per SSE viewer's
    # start but held ~10 MB more in the web process after a few hundred runs (BENCHMARKS.md, memory).
    DATABASES["default"]["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 0)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [project_dir("static")]
# The image collects static files outside the data dir (STAGECAST_STATIC_ROOT), so a volume mounted there
# cannot hide them; whitenoise (in MIDDLEWARE) serves them from Daphne.
STATIC_ROOT = Path(envstr("STAGECAST_STATIC_ROOT", str(DATA_DIR / "staticfiles"))).resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Hashed file names, compressed copies and a year's cache headers — once `collectstatic` has run with it on
# (the image does); without a collected manifest every `{% static %}` would fail, so it is off by default.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if envbool("STAGECAST_STATIC_MANIFEST", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A run's input may be up to a million characters (4 MB as UTF-8 at most) of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker takes a run only when it has a free process for it. Prefetched runs would wait behind a long
# one on a busy worker while another sits idle, and a worker killed with prefetched runs would strand
# them as `queued` until Redis's visibility timeout (an hour) hands them out again.
CELERY_WORKER_DISABLE_PREFETCH = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# Executions a worker runs at once (its prefork pool); 0: one per CPU core. `-c` on the command line wins.
CELERY_WORKER_CONCURRENCY = envint("STAGECAST_WORKER_CONCURRENCY", 0) or None
# A pool process is replaced (after the run it is on) once its peak memory passes this many MB. Each
# 1 MB of output leaves ~0.2 MB behind in the process's C heap (BENCHMARKS.md, Findings 2);
# the SDKs are preloaded in the worker's parent, so the new process is ready at once. 0: never.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = envint("STAGECAST_WORKER_MAX_MEMORY_MB", 512) * 1024 or None
# print() in a task stays a print: every log line comes from LOGGING below, never from Celery's own setup.
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

#: The event log (ExecutionEvent rows) of executions that ended more than this many days ago is pruned by
#: beat every hour (`manage.py pruneevents --days N` by hand); stage outputs and figures stay. 0: keep all.
EVENT_RETENTION_DAYS = envint("STAGECAST_EVENT_RETENTION_DAYS", 0)
if EVENT_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("STAGECAST_EVENT_RETENTION_DAYS must be 0 (keep every event) or a number of days")

# Logs: one line per record. JSON on a server (a log collector parses it; a traceback stays on its line),
# readable text on a development instance. The servers (Daphne, Celery) log to stdout; a management
# command logs to stderr, because its stdout is its output (`runpipeline --json`, `createapitoken`).
LOG_FORMAT = envchoice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
_MANAGEMENT_COMMAND = Path(sys.argv[0]).name in ("manage.py", "django-admin", "stagecast")
LOG_STREAM = envchoice("LOG_STREAM", "stderr" if _MANAGEMENT_COMMAND else "stdout", ("stdout", "stderr"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "pipelines_site.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "stream": f"ext://sys.{LOG_STREAM}"}
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        # A worker's "celery@host ready." line, whatever LOG_LEVEL says: process runners and the tests wait for it.
        "celery.apps.worker": {"level": "INFO"},
    },
}
