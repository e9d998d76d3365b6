"""Django settings, all from the environment (see README). SQLite under var/ when DATABASE_URL is unset."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("STUDIO_VAR_DIR", BASE_DIR / "var"))


def private_dir(path: Path) -> Path:
    """Create ``path`` readable by its owner only (the database, keys and videos live there)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if path.stat().st_uid == os.getuid():
            os.chmod(path, 0o700)
    except OSError:
        pass
    return path


DEBUG = os.environ.get("DEBUG", "").lower() in ("1", "true", "yes")
SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    # A stable per-installation key, kept out of git under var/.
    private_dir(VAR_DIR)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        try:  # readable by its owner only; O_EXCL: two processes starting at once keep one key
            with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(secrets.token_urlsafe(50))
        except FileExistsError:
            pass
    SECRET_KEY = key_file.read_text().strip()
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "daphne",  # ASGI runserver
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # static Swagger UI for /api/docs/
    "axes",
    "webapp.teams",
    "webapp.jobs",
    "webapp.studio",
    "webapp.architectures",
    "webapp.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "webapp.security.SecureCookiesOverHttps",  # before the session and CSRF ones: it sees their cookies
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "webapp.security.RefuseNulInText",  # before anything reads a parameter or a form
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login
]

ROOT_URLCONF = "webapp.urls"
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
            ]
        },
    }
]
ASGI_APPLICATION = "webapp.asgi.application"


def sqlite_database(path: Path | str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Web process and workers both write: wait for locks instead of failing.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }


def database_from_url(url: str | None) -> dict:
    if not url:
        private_dir(VAR_DIR)
        return sqlite_database(VAR_DIR / "studio.sqlite3")
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:////absolute/path.sqlite3 (how tests point their workers at the test database)
        return sqlite_database("/" + parsed.path.lstrip("/"))
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL: unsupported scheme {parsed.scheme!r} (use postgres://, sqlite:////path or leave unset for SQLite)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/"),
        "USER": parsed.username or "",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
    }


DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks there too (filled by collectstatic, if ever run)
# Daphne serves the static files through WhiteNoise, straight from static/ (no collectstatic step).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Login throttling (django-axes): 5 failures for one username from one address lock it for 15 minutes.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("STUDIO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# A strict Content Security Policy: the pages load only the studio's own files (no inline
# script or style, nothing from other hosts); the WebSocket is same-origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# HSTS is sent only on HTTPS responses (SecurityMiddleware checks request.is_secure()).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if os.environ.get("STUDIO_BEHIND_HTTPS_PROXY", "").lower() in ("1", "true", "yes"):
    # Only behind a proxy that sets this header itself (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every password a person sets (sign-up through an invitation, the password change page) passes these.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = os.environ.get("SECURE_COOKIES", "").lower() in ("1", "true", "yes")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- the studio: Redis, Channels, Celery ------------------------------------------------
# `make run` starts a private redis-server and sets REDIS_URL for every process it starts.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 defaults to a 5 s socket timeout, which kills idle consumers
            # (channels_redis#422): no timeout on the layer's connections.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "capacity": 1000,
            "expiry": 60,
            "prefix": "studio",
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True  # results are rows in the database
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]  # never pickle
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves its message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a busy training worker holds no second candidate
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}  # candidates train for long
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
# Jobs of webapp.jobs (task "jobs.run", a search's candidates among them) go to the queue their kind names
# when they are sent (candidates: "train"); other tasks to the default queue.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE

# Where prepared datasets, checkpoints and candidate outputs live. Workers on other machines
# must see the same paths (a shared file system), like the database and Redis.
STUDIO_DATA_DIR = Path(os.environ.get("STUDIO_DATA_DIR", VAR_DIR / "data"))
# Server folders that users may register as datasets (colon-separated). Never the data dir: it
# holds every team's videos and caches, and the studio refuses anything inside it.
STUDIO_DATASET_ROOTS = [Path(p) for p in os.environ.get("STUDIO_DATASET_ROOTS", "").split(os.pathsep) if p]
# A candidate whose worker has not reported for this long is handed to another worker.
STUDIO_HEARTBEAT_TIMEOUT = float(os.environ.get("STUDIO_HEARTBEAT_TIMEOUT", "60"))
# Learned edge weights of a network in training go to its viewers at most this often (seconds).
STUDIO_LIVE_WEIGHTS_INTERVAL = float(os.environ.get("STUDIO_LIVE_WEIGHTS_INTERVAL", "2"))
# Each worker reports its device and what it trains this often (seconds); the workers page reads it.
STUDIO_WORKER_BEAT_SECONDS = float(os.environ.get("STUDIO_WORKER_BEAT_SECONDS", "5"))
# A training worker's share of its GPU's memory (several share one card); the worker launcher
# (python -m webapp.trainworkers) sets it to about 1/N for N workers per GPU. Unset: no cap.
STUDIO_GPU_MEMORY_FRACTION = float(os.environ["STUDIO_GPU_MEMORY_FRACTION"]) if os.environ.get("STUDIO_GPU_MEMORY_FRACTION") else None
# Fair use of the workers: each team's limits unless the admin set its own (webapp.studio.services.limits).
STUDIO_TEAM_LIMITS = {
    "max_steps": int(os.environ.get("STUDIO_TEAM_MAX_STEPS", "5000")),
    "max_batch_size": int(os.environ.get("STUDIO_TEAM_MAX_BATCH_SIZE", "64")),
    "max_queued_trainings": int(os.environ.get("STUDIO_TEAM_MAX_QUEUED_TRAININGS", "16")),
}
# ONNX exports (jobs, one process each): at most this many in progress per team, each for at most this long.
STUDIO_TEAM_MAX_ACTIVE_EXPORTS = int(os.environ.get("STUDIO_TEAM_MAX_ACTIVE_EXPORTS", "2"))
STUDIO_EXPORT_TIMEOUT = float(os.environ.get("STUDIO_EXPORT_TIMEOUT", "3600"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["webapp.studio.authentication.SessionAuthentication"],
    # Signed in, and the team role the action needs (viewers read and comment only).
    "DEFAULT_PERMISSION_CLASSES": ["webapp.teams.permissions.TeamRolePermission"],
    "DEFAULT_SCHEMA_CLASS": "webapp.apikit.schema.StudioAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "webapp.apikit.params.Pagination",
    "PAGE_SIZE": 100,
    # Size, depth and finite numbers checked before any view sees a body.
    "DEFAULT_PARSER_CLASSES": ["webapp.apikit.parsers.SafeJSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "EXCEPTION_HANDLER": "webapp.apikit.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Video architecture studio API",
    "DESCRIPTION": "Datasets, architecture searches (experiments), their candidates and event streams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "DatasetStatusEnum": "webapp.studio.models.Dataset.Status",
        "ExperimentStatusEnum": "webapp.studio.models.Experiment.Status",
        "CandidateStatusEnum": "webapp.studio.models.Candidate.Status",
        "EvaluationStatusEnum": "webapp.architectures.evaluations.Evaluation.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"without_traceback": {"()": "webapp.security.WithoutTraceback"},
                "refusals_without_traceback": {"()": "webapp.security.RefusalsWithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "console_brief": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["without_traceback"]},
    },
    "loggers": {
        "webapp": {"handlers": ["console"], "level": os.environ.get("STUDIO_LOG_LEVEL", "INFO"), "propagate": False},
        # A bad Host header is the client's mistake: one warning line, no traceback.
        "django.security.DisallowedHost": {"handlers": ["console_brief"], "level": "WARNING", "propagate": False},
        "axes": {"handlers": ["console_brief"], "level": "WARNING", "propagate": False},
        # A refused request (403, 404, 400) is the server answering, not failing: one line, no traceback
        # (a logger's filter sees only what is logged on it: Django logs every response it refuses here).
        "django.request": {"filters": ["refusals_without_traceback"]},
    },
}
