"""Kaskad settings. Everything that differs between machines comes from the environment.

With no environment at all Kaskad runs on one machine: a SQLite file under var/ and an embedded
Celery broker (kombu's filesystem transport) that needs no server. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS; see README.md.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("KASKAD_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# Optional; real environment variables win. `make run` writes a development one on its first run
# (config/devrun.py). KASKAD_ENV_FILE names another file, or none when empty (the tests).
ENV_FILE = os.environ.get("KASKAD_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and os.path.isfile(ENV_FILE):
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-kaskad-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "django_htmx",
    # Kaskad, in dependency order: an app imports only from apps above it.
    "api",
    "customers",
    "channels",
    "campaigns",
    "analytics",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "api.middleware.RejectUnstorableParametersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The signed-in staff member's language and time zone (workspace.StaffProfile).
    "workspace.middleware.StaffPreferencesMiddleware",
    "workspace.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
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
                "django.template.context_processors.i18n",
                "workspace.context_processors.workspace",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kaskad.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids "database is locked"
    # upgrades from read to write transactions under concurrency.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file (not :memory:) so that a real Celery worker process can see the test database;
    # one per test run, so two runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-kaskad-{os.getpid()}.sqlite3")}
    # SQLite creates its file but not the folder, and var/ is not in git (a fresh clone lacks it).
    for folder in {VAR_DIR, Path(DATABASES["default"]["NAME"]).parent}:
        folder.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://kaskad")}
if "redis" in CACHES["default"]["BACKEND"].lower():
    # A cache that does not answer is given up on within a second (api/cache.py), not waited for.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 1)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 1)

# Staff logins (admin) are throttled by django-axes; API keys never go through these backends.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
# After AXES_FAILURE_LIMIT wrong passwords for one username from one IP address, that pair is
# locked out (HTTP 429) for AXES_COOLOFF_MINUTES. Locking by username alone would let anyone lock
# staff out; by IP alone, one office behind NAT would lock itself out. Behind a reverse proxy
# every client has the proxy's address, so this becomes a lockout per username.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner from every process that starts

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Locale and time --------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Staff work in English or Russian; customer-facing pages also speak Romanian.
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("ro", "Română")]
STAFF_LANGUAGES = [("en", "English"), ("ru", "Русский")]
# Top-level templates; each app with pages keeps its own catalogue in <app>/locale.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Region used to read phone numbers written without a country code ("8 916 123-45-67").
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="RU")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Security (production defaults; DEBUG relaxes them for a laptop) --------------------------
# Only behind a TLS-terminating proxy that sets X-Forwarded-Proto itself: without one, any client
# could send the header and make Django treat a plain HTTP request as HTTPS.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page (admin and API docs aside, see workspace/middleware.py): scripts, styles, images,
# frames and requests only from this origin. No inline script or style attribute anywhere in /app/.
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

# --- Staff workspace (/app/) -------------------------------------------------------------------
LOGIN_URL = "workspace:login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "workspace:login"

# Batches of 1,000 customers with attributes run to a few MB; the API answers 413 past this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- API --------------------------------------------------------------------------------------
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
API_IDEMPOTENCY_TTL_HOURS = 24
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasApiKeyScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_THROTTLE_RATE},
    "DEFAULT_PARSER_CLASSES": ["api.parsers.FastJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.KaskadAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kaskad API",
    "DESCRIPTION": (
        "Customer data, events and orders for CRM and shop integrations. "
        "Authenticate with `Authorization: Bearer <api key>` (create one with "
        "`python manage.py create_api_key NAME`)."
    ),
    "VERSION": "1.0.0",
    # 3.1 is plain JSON Schema, which is what pydantic writes for the request models (null types).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "customers.models.Channel",
        "ConsentStatusEnum": "customers.models.ConsentStatus",
        "OrderStatusEnum": "customers.models.Order.Status",
        "LifecycleStageEnum": "customers.models.LifecycleStage",
        "RfmSegmentEnum": "customers.models.RfmSegment",
        "MessageStatusEnum": "channels.models.MessageStatus",
        "MessageCategoryEnum": "channels.models.MessageCategory",
        "MessageSourceEnum": "channels.models.MessageSource",
        "ConversationStatusEnum": "channels.models.Conversation.Status",
        "PushKindEnum": "channels.models.PushSubscription.Kind",
        "SurveyKindEnum": "analytics.models.surveys.SurveyKind",
        # The same choice sets as plain values, as pydantic's JSON schema gives them.
        "ChannelValueEnum": "customers.models.Channel.values",
        "ConsentStatusValueEnum": "customers.models.ConsentStatus.values",
        # Segment rules (customers/segments/rules/schema.py).
        "RuleTextFieldEnum": "customers.segments.rules.schema.TEXT_FIELDS",
        "RuleDateTimeFieldEnum": "customers.segments.rules.schema.DATETIME_FIELDS",
        "RuleNoValueOpEnum": "customers.segments.rules.schema.NO_VALUE_OPS",
        # Message templates (campaigns/message_templates).
        "TemplateChannelEnum": "campaigns.message_templates.schemas.CHANNELS",
        "TemplateCategoryEnum": "campaigns.message_templates.models.TemplateCategory.values",
        # Broadcasts (campaigns/broadcasts).
        "BroadcastStatusEnum": "campaigns.broadcasts.models.BroadcastStatus",
        "BroadcastTimingEnum": "campaigns.broadcasts.models.Timing",
        "BroadcastAbMetricEnum": "campaigns.broadcasts.models.AbMetric",
        "BroadcastTimingValueEnum": "campaigns.broadcasts.models.Timing.values",
        "BroadcastAbMetricValueEnum": "campaigns.broadcasts.models.AbMetric.values",
        # Communication strategies (campaigns/planning).
        "StrategySchemeEnum": "campaigns.planning.models.Scheme",
        "StrategySchemeValueEnum": "campaigns.planning.models.Scheme.values",
        # Journeys (campaigns/journeys).
        "JourneyStatusEnum": "campaigns.journeys.models.JourneyStatus",
        "EnrollmentStateEnum": "campaigns.journeys.models.EnrollmentState",
    },
}

# --- Celery -----------------------------------------------------------------------------------
# Default broker: kombu's filesystem transport, so a real worker and beat run with no server.
EMBEDDED_BROKER_DIR = VAR_DIR / "broker"
# With a host named, kombu does not warn "No hostname was supplied" on every connection.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND",
    default=(
        f"file://{VAR_DIR / 'celery-results'}"
        if CELERY_BROKER_URL.startswith("filesystem")
        else CELERY_BROKER_URL
    ),
)
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(EMBEDDED_BROKER_DIR / "queue"),
        "data_folder_out": str(EMBEDDED_BROKER_DIR / "queue"),
        "processed_folder": str(EMBEDDED_BROKER_DIR / "processed"),
        "control_folder": str(EMBEDDED_BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A broker that does not answer fails a publish within a second (api/publishing.py) instead of
    # holding the request that asked for it for the OS's connect timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Sends get their own queue, so a big broadcast never waits behind segment refreshes.
CELERY_TASK_ROUTES = {
    "channels.tasks.deliver_messages": {"queue": "send"},
    # Broadcast chunks (render and store) have their own queue too: a million-customer launch
    # never delays a receipt waiting on "send", nor a segment refresh on "default".
    "campaigns.broadcasts.tasks.broadcast_chunk_send": {"queue": "broadcast"},
    # The journey engine: ticks, due runs and arriving outcomes, apart from bulk work.
    "campaigns.journeys.tasks.*": {"queue": "journeys"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Channels: providers, delivery, tracking (see docs/channels.md) --------------------------
# Public base URL of this Kaskad, for tracking links, unsubscribe links and webhook addresses.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# With the sandbox on, every channel sends to the sandbox outbox (kept in the database and shown
# in the admin) instead of a gateway. It is the embedded default (DEBUG) and never production's.
MESSAGING_SANDBOX = env.bool("MESSAGING_SANDBOX", default=DEBUG)

# Email: SMTP from EMAIL_URL, or any ESP through django-anymail (EMAIL_BACKEND + ANYMAIL).
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url("EMAIL_URL"))
# Django's SMTP backend, made cheaper per email for bulk sending (see channels/providers/smtp.py).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="channels.providers.smtp.EmailBackend")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kaskad <noreply@localhost>")
ANYMAIL = env.json(
    "ANYMAIL", default={}
)  # e.g. {"MAILGUN_API_KEY": "...", "WEBHOOK_SECRET": "u:p"}
# Optional address for mailto: unsubscribes, added to marketing email's List-Unsubscribe header.
LIST_UNSUBSCRIBE_MAILTO = env.str("LIST_UNSUBSCRIBE_MAILTO", default="")

# SMS: SMS_PROVIDER is the primary gateway; the other one, if configured, is the failover.
SMS_PROVIDER = env.str("SMS_PROVIDER", default="exolve")
EXOLVE_BASE_URL = env.str("EXOLVE_BASE_URL", default="https://api.exolve.ru").rstrip("/")
EXOLVE_API_KEY = env.str("EXOLVE_API_KEY", default="")
EXOLVE_SENDER = env.str("EXOLVE_SENDER", default="")
EXOLVE_WEBHOOK_SECRET = env.str("EXOLVE_WEBHOOK_SECRET", default="")
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")

# Messengers and push.
WHATSAPP_BASE_URL = env.str("WHATSAPP_BASE_URL", default="https://graph.facebook.com/v21.0")
WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = env.str("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
# The WhatsApp message templates Meta approved for this number, offered to agents outside the
# 24-hour customer service window: [{"name": "order_ready", "language": "ru", "params": ["name"]}].
WHATSAPP_TEMPLATES = env.json("WHATSAPP_TEMPLATES", default=[])
TELEGRAM_BASE_URL = env.str("TELEGRAM_BASE_URL", default="https://api.telegram.org").rstrip("/")
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
# How long a Telegram deep link (/start <token>) still binds the chat to the customer, in seconds.
TELEGRAM_LINK_MAX_AGE = env.int("TELEGRAM_LINK_MAX_AGE", default=30 * 24 * 60 * 60)
VIBER_BASE_URL = env.str("VIBER_BASE_URL", default="https://chatapi.viber.com/pa").rstrip("/")
VIBER_AUTH_TOKEN = env.str("VIBER_AUTH_TOKEN", default="")
VIBER_SENDER_NAME = env.str("VIBER_SENDER_NAME", default="Kaskad")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
FCM_BASE_URL = env.str("FCM_BASE_URL", default="https://fcm.googleapis.com").rstrip("/")
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_SERVICE_ACCOUNT_FILE = env.str("FCM_SERVICE_ACCOUNT_FILE", default="")
FCM_TOKEN_URL = env.str("FCM_TOKEN_URL", default="https://oauth2.googleapis.com/token")
TELEPHONY_WEBHOOK_SECRET = env.str("TELEPHONY_WEBHOOK_SECRET", default="")

# Delivery: timeouts, retries, and per-provider rate limits (messages per second, all workers).
PROVIDER_HTTP_TIMEOUT = env.float("PROVIDER_HTTP_TIMEOUT", default=10.0)
SEND_MAX_ATTEMPTS = env.int("SEND_MAX_ATTEMPTS", default=4)  # per provider, before failover
# Rate-limit answers (429) a message may get before they count as failed attempts: with the
# 10 s floor on each wait, at least ~8 minutes of a gateway saying "not now".
SEND_MAX_RATE_LIMITED = env.int("SEND_MAX_RATE_LIMITED", default=50)
# How long a worker holds the messages it is sending; a killed worker's rows return after it. It
# must outlast the slowest chunk: 100 sends that each run into PROVIDER_HTTP_TIMEOUT take 1,000 s.
SEND_CLAIM_SECONDS = env.int("SEND_CLAIM_SECONDS", default=1200)
PROVIDER_RATE_LIMITS = env.json(
    "PROVIDER_RATE_LIMITS",
    default={"exolve": 100, "twilio": 100, "whatsapp": 80, "telegram": 30, "viber": 50},
)
