"""Settings for the whole site, read from environment variables (see README)."""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from chevereto.core.s3config import s3_client_config
from chevereto.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CHEVERETO_VAR_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = secret_key("SECRET_KEY", VAR_DIR / "secret_key")
DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("CHEVERETO_TESTING", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Addresses (or CIDR ranges) of reverse proxies allowed to set X-Forwarded-For.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR range"
        ) from None
_SECURE_PROXY_SSL = env_bool("SECURE_PROXY_SSL", False)
if _SECURE_PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Security headers and cookies (chevereto.core.securityheaders adds CSP) ----------------
# Cookies travel over https only when the site is served over https (always, behind a TLS
# proxy); `make run` on http://127.0.0.1 keeps working with the defaults.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _SECURE_PROXY_SSL)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Readable by scripts on purpose: the API docs send it back as X-CSRFToken (the pages read
# the token from their forms). It is worthless without the HttpOnly session cookie.
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 86400, minimum=60)
# Sent by SecurityMiddleware only on https requests (request.is_secure()).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 86400, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", "same-origin")
X_FRAME_OPTIONS = "DENY"
# Where pages may load pictures and videos from besides this site: uploads may live on S3
# or a CDN (add e.g. an http:// endpoint of a test bucket here).
CSP_MEDIA_SOURCES = env_list("CSP_MEDIA_SOURCES", ["https:"])

INSTALLED_APPS = [
    "dashboard.apps.DashboardAdminConfig",  # django.contrib.admin with the dashboard site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "chevereto.core",
    "accounts",
    "albums",
    "uploads",
    "social",
    "moderation",
    "imports",
    "dashboard",
    "web",
    "api_v1",
    "api_v4",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chevereto.core.securityheaders.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chevereto.core.clientip.ClientIPMiddleware",
    "chevereto.core.banmiddleware.BanMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = env_str("ROOT_URLCONF", "chevereto.urls")
WSGI_APPLICATION = "chevereto.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# ModelBackend, hashing once on every failed login (no timing tells who has an account).
AUTHENTICATION_BACKENDS = ["accounts.backends.LoginBackend"]
LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
APPEND_SLASH = False

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
                "chevereto.context_processors.site",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # WAL lets the web server and the worker read while the other writes.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Kept open between the requests of a thread (sync and gthread workers): opening
            # SQLite again (its pragmas) and closing it (a WAL checkpoint when it is the last
            # connection) cost every request about 4 ms. The gevent worker still closes its
            # connections after each request (chevereto/core/slowclients.py).
            "CONN_MAX_AGE": 600,
            # A file, like the real thing: an in-memory test database locks whole tables
            # and ignores the busy timeout, so concurrent tests would see failures no
            # deployment can have.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's defaults, then the PHP bcrypt of users imported from Chevereto (import_chevereto):
# last, so their next login rewrites the hash with the first one.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.CheveretoBcryptHasher",
]

# --- Cache: the throttling counters (accounts/throttle.py) -------------------------------
# Counters must be shared by every gunicorn worker (and every machine): Django's default,
# a per-process memory cache, would give each worker its own count. Redis when CACHE_URL
# names one; otherwise a table in the site's database, which every process already shares
# and which needs no server (a file cache under var/ would not reach a second machine).
# Its table is made by `migrate` (accounts migration 0003).
CACHE_URL = env_str("CACHE_URL", "").strip()
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "chv"),
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL or empty, got {CACHE_URL!r}")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "chevereto_cache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "chv"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# Login and API-key throttling (accounts/throttle.py, README "Throttling").
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
API_KEY_FAILURES_PER_ADDRESS = env_int("API_KEY_FAILURES_PER_ADDRESS", 10, minimum=1)
SIGNUP_EMAILS_PER_ADDRESS = env_int("SIGNUP_EMAILS_PER_ADDRESS", 10, minimum=1)
THROTTLE_WINDOW = env_int("THROTTLE_WINDOW", 900, minimum=1)
THROTTLE_LOCKOUT = env_int("THROTTLE_LOCKOUT", 60, minimum=1)
THROTTLE_LOCKOUT_MAX = env_int("THROTTLE_LOCKOUT_MAX", 900, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True


# -- Email (password reset links) ---------------------------------------------------------
def email_settings() -> dict[str, object]:
    """The email backend from the environment: printed to the console unless EMAIL_HOST
    names an SMTP server, so a fresh install never needs a mail server to run."""
    config: dict[str, object] = {
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "DEFAULT_FROM_EMAIL": env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost"),
    }
    host = env_str("EMAIL_HOST", "").strip()
    if not host:
        return config
    use_tls = env_bool("EMAIL_USE_TLS", False)
    use_ssl = env_bool("EMAIL_USE_SSL", False)
    if use_tls and use_ssl:
        # Django would refuse this only when the first email is sent, long after start-up.
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
    config.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=host,
        EMAIL_PORT=env_int("EMAIL_PORT", 465 if use_ssl else 587 if use_tls else 25, minimum=1),
        EMAIL_HOST_USER=env_str("EMAIL_HOST_USER", ""),
        EMAIL_HOST_PASSWORD=env_str("EMAIL_HOST_PASSWORD", ""),
        EMAIL_USE_TLS=use_tls,
        EMAIL_USE_SSL=use_ssl,
        EMAIL_TIMEOUT=env_int("EMAIL_TIMEOUT", 15, minimum=1),
    )
    return config


globals().update(email_settings())

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app folders where collectstatic may not have run.
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Media storage -------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()
MEDIA_URL = "/"
S3_BUCKET = env_str("S3_BUCKET", "")
if S3_BUCKET:
    _s3_options: dict[str, object] = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
        "region_name": env_str("S3_REGION", "") or None,
        "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
        "custom_domain": env_str("S3_CUSTOM_DOMAIN", "") or None,
        "addressing_style": env_str("S3_ADDRESSING_STYLE", "") or None,
        "location": env_str("S3_LOCATION", ""),
        "signature_version": "s3v4",
        "file_overwrite": False,
        "default_acl": None,
        # Public buckets (or a CDN domain) serve files directly; private ones get signed URLs.
        "querystring_auth": env_bool("S3_QUERYSTRING_AUTH", True),
        # Uploads never overwrite one another (If-None-Match: *); off for servers without it.
        "conditional_writes": env_bool("S3_CONDITIONAL_WRITES", True),
        # Bounded waits: a hung endpoint fails an upload in seconds, not minutes.
        "client_config": s3_client_config(
            addressing_style=env_str("S3_ADDRESSING_STYLE", "") or None,
            connect_timeout=env_int("S3_CONNECT_TIMEOUT", 5, minimum=1),
            read_timeout=env_int("S3_READ_TIMEOUT", 30, minimum=1),
        ),
    }
    MEDIA_STORAGE: dict[str, object] = {
        "BACKEND": "uploads.s3.MediaS3Storage",
        "OPTIONS": {k: v for k, v in _s3_options.items() if v is not None},
    }
else:
    MEDIA_STORAGE = {
        # FileSystemStorage that removes what a failed write (a full disk) left behind.
        "BACKEND": "uploads.localstorage.LocalStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploaded files always go to a temporary file (hashed while they stream in), so that
# storing one on local disk is a rename, and memory stays flat whatever the size.
FILE_UPLOAD_HANDLERS = ["uploads.handlers.HashingTemporaryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
# Beside the media folder by default, so that storing an upload is a rename, not a copy.
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR", str(VAR_DIR / "tmp"))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# Hard ceiling for non-file request data (base64 sources travel as form fields); the
# per-user size limit from the dashboard is checked before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 160 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# Slow clients (chevereto.core.slowclients, README "Web server and slow clients"): a body
# must bring 64 KB every REQUEST_BODY_TIMEOUT seconds or it is answered 408; bodies up to
# REQUEST_BODY_BUFFER_MAX are read in full before any view runs; WEB_APP_SLOTS requests per
# web process run views at once; a response that makes no progress for
# RESPONSE_SEND_TIMEOUT seconds is dropped.
REQUEST_BODY_TIMEOUT = env_int("REQUEST_BODY_TIMEOUT", 20, minimum=1)
REQUEST_BODY_BUFFER_MAX = env_int("REQUEST_BODY_BUFFER_MAX", 32 * 1024 * 1024, minimum=0)
WEB_APP_SLOTS = env_int("WEB_APP_SLOTS", 8, minimum=1)
RESPONSE_SEND_TIMEOUT = env_int("RESPONSE_SEND_TIMEOUT", 60, minimum=1)

# Folders that imports created through the API or the dashboard may read (a management
# command, run with shell access, may read any): import_folder paths and import_chevereto
# media roots must lie inside one of them.
IMPORT_ROOTS = env_list("IMPORT_ROOTS", [str(VAR_DIR / "imports")])

# URL uploads may reach loopback only in tests: anything else is an SSRF hole.
UPLOAD_URL_ALLOW_LOOPBACK = env_bool("UPLOAD_URL_ALLOW_LOOPBACK", False)
UPLOAD_URL_TIMEOUT = env_int("UPLOAD_URL_TIMEOUT", 15, minimum=1)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 150_000_000, minimum=1)
# Animated images: at most this many frames (each frame also within UPLOAD_MAX_PIXELS).
UPLOAD_MAX_FRAMES = env_int("UPLOAD_MAX_FRAMES", 1000, minimum=1)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
REDIS_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": 3600,
    # A Redis that accepts connections but never answers (a half-open connection, a hung
    # server) must not hold an upload's enqueue forever: Redis answers in milliseconds,
    # and the worker's own BRPOP returns every second.
    "socket_timeout": 3,
    "socket_connect_timeout": 2,
}
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("out", "processed", "control"):
        (CELERY_QUEUE_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # One folder for both directions: producers and the worker share the queue.
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        # Kombu's exchange tables: under var/ with the queue, never in the working folder.
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        # The longest the worker waits whenever it takes nothing (the queue is empty, or it
        # already holds its prefetch): a message renamed into the folder wakes it at once
        # (chevereto.fsbroker's inotify watch); Kombu's 1 s of plain sleep made 2 tasks/s.
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time per process on Redis. On the filesystem broker the worker (no event loop)
# blocks on its busy pool while holding the next message, so a little more prefetch never
# piles up there: it lets the worker take the next message before the ack of the last,
# instead of sleeping a polling interval while a process waits.
CELERY_WORKER_PREFETCH_MULTIPLIER = 4 if CELERY_BROKER_URL.startswith("filesystem://") else 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connections before and after every task unless
# told to reuse them. Opening SQLite again (its pragmas, its schema) cost each task about a
# quarter of the CPU of a photo's thumb and medium; a local file has no server to lose.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    CELERY_DB_REUSE_MAX = 100
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-expired-uploads": {
        "task": "uploads.tasks.purge_expired",
        "schedule": float(env_int("PURGE_EXPIRED_EVERY", 60, minimum=1)),
    },
    # Page views are inserted as hits and folded into the counters in batches.
    # Import jobs whose worker died (no heartbeat for a while) are queued again.
    "resume-stale-imports": {
        "task": "imports.tasks.imports_resume_stale",
        "schedule": float(env_int("IMPORT_RESUME_EVERY", 300, minimum=1)),
    },
    "fold-view-counts": {
        "task": "social.tasks.fold_views",
        "schedule": float(env_int("FOLD_VIEWS_EVERY", 60, minimum=1)),
    },
    # Derivatives whose task was lost (the broker was down at upload time) are queued again.
    "requeue-missing-derivatives": {
        "task": "uploads.tasks.requeue_missing_derivatives",
        "schedule": float(env_int("DERIVATIVES_REQUEUE_EVERY", 300, minimum=1)),
    },
    # Purges whose worker died (or whose enqueue found the broker down) carry on.
    "resume-purges": {
        "task": "moderation.tasks.purge_resume",
        "schedule": float(env_int("PURGE_RESUME_EVERY", 300, minimum=1)),
    },
}
# Enqueueing must never make an upload fail: a broker that is down is given up on quickly
# and the derivatives are then made on demand.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Worker limits. A pool process whose resident memory passed this (KiB) after a task is
# replaced by a fresh one; worker processes also refuse, before decoding, pictures whose
# render would not fit in it (chevereto.celery). The default fits a render at the default
# UPLOAD_MAX_PIXELS (README, "Worker limits"). 0: no limit.
# How much lower than the web the worker's CPU priority is (0-19, `nice`): on one machine a
# burst of uploads is answered first and its derivatives follow in the slack; anything
# requested before the worker gets to it is made on demand (DESIGN §4).
CELERY_WORKER_NICE = env_int("CELERY_WORKER_NICE", 10, minimum=0)
if CELERY_WORKER_NICE > 19:
    raise ImproperlyConfigured(f"CELERY_WORKER_NICE must be at most 19, got {CELERY_WORKER_NICE}")
CELERY_WORKER_MAX_MEMORY_PER_CHILD = (
    env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 1536 * 1024, minimum=0) or None
)
# Seconds a derivative task may run: at the soft limit it is interrupted (and fails), at the
# hard one its process is killed and replaced. The upload keeps working either way: its
# derivatives are made on demand when first requested. A soft limit of 0 means none.
# Celery sends a task's limits with it: web processes and workers must read the same values.
DERIVATIVES_TIME_LIMIT = env_int("DERIVATIVES_TIME_LIMIT", 300, minimum=1)
DERIVATIVES_SOFT_TIME_LIMIT = env_int("DERIVATIVES_SOFT_TIME_LIMIT", 240, minimum=0)
CELERY_TASK_ANNOTATIONS = {
    "uploads.tasks.generate_derivatives": {
        "time_limit": DERIVATIVES_TIME_LIMIT,
        "soft_time_limit": DERIVATIVES_SOFT_TIME_LIMIT or None,
    }
}

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "api_v4.errors.exception_handler",
    # A JSON body nested past the recursion limit answers 400, not 500; a body bigger than
    # an operation without uploads can need answers 413 unread (uploads.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "uploads.parsers.SafeJSONParser",
        "uploads.parsers.BoundedFormParser",
        "uploads.parsers.StreamingMultiPartParser",
    ],
    # `format` is an upload parameter of API V1, not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chevereto-compatible image hosting API",
    "DESCRIPTION": "API V1.1 (Chevereto/ImgBB compatible uploads) and API V4.",
    "VERSION": "4.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page loads Swagger UI from our own static files, so it works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would fetch an image from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api_v4.schema.close_bodies_hook",
        "api_v4.schema.site_wide_responses_hook",
        # Links between operations (create an album -> read/edit/delete it) for clients
        # and for schemathesis' stateful phase.
        "api_v4.schema_links.add_links_hook",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Delete tokens and API keys are masked in every line (chevereto.core.redact).
    "filters": {"redact": {"()": "chevereto.core.redact.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # runserver's request lines go through the same masking handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is empty")
