"""One env-driven settings module.

Every knob is a ``KILN_*`` environment variable; the defaults give a working
development platform on an embedded SQLite database under ``var/``.
``KILN_ENV=production`` switches on the hardened profile that passes
``kiln check --deploy``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"KILN_{name}", default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
KILN_ENV = env("ENV", "development")
PRODUCTION = KILN_ENV == "production"

# Off unless asked for: a demo must never show a stack trace.
DEBUG = env_bool("DEBUG")
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("KILN_SECRET_KEY must be set when KILN_ENV=production")
    SECRET_KEY = "kiln-development-only-not-secret"  # noqa: S105 - development default

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "huey.contrib.djhuey",
    "kiln.web",
    "kiln.accounts",
    "kiln.registry",
    "kiln.demo",
    "kiln.factors",
    "kiln.intake",
    "kiln.accounting",
    "kiln.grid",
    "kiln.screening",
    "kiln.incidents",
    "kiln.notifications",
    "kiln.reports",
    "kiln.review",
    "kiln.monitoring",
    "kiln.efficiency",
    "kiln.ledger",
    "kiln.ops",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "rules",
    "kiln.audit",
]

MIDDLEWARE = [
    "kiln.ops.metrics.MetricsMiddleware",  # first: counts and times every response, redirects included
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kiln.accounts.middleware.SecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTH_USER_MODEL = "accounts.User"
ROOT_URLCONF = "kiln.urls"
WSGI_APPLICATION = "kiln.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kiln.web.context.platform",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kiln.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue instead of failing with "database is locked".
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # 16 KiB pages (taken only by a new database file): bulk imports write and checkpoint fewer pages.
        "init_command": (
            "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs (huey) -------------------------------------------------
HUEY_URL = env("HUEY_URL")
if HUEY_URL.startswith("redis://"):
    HUEY = {"huey_class": "huey.RedisHuey", "name": "kiln", "url": HUEY_URL, "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kiln",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        # Tests run tasks in-process unless they start a real consumer.
        "immediate": env_bool("HUEY_IMMEDIATE", default=False),
    }

# --- identity -----------------------------------------------------------------
# Password policy (every knob a KILN_PASSWORD_* variable).
KILN_PASSWORD_MIN_LENGTH = int(env("PASSWORD_MIN_LENGTH", "10"))
KILN_PASSWORD_MIN_CLASSES = int(env("PASSWORD_MIN_CLASSES", "3"))  # of lower, upper, digit, symbol
KILN_PASSWORD_HISTORY = int(env("PASSWORD_HISTORY", "5"))  # last N passwords may not be reused
KILN_PASSWORD_MAX_AGE_DAYS = int(env("PASSWORD_MAX_AGE_DAYS", "90"))  # 0: passwords never expire
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": KILN_PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "kiln.accounts.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": KILN_PASSWORD_MIN_CLASSES},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kiln.accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"history": KILN_PASSWORD_HISTORY}},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins before any password check
    "rules.permissions.ObjectPermissionBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# django-allauth: username + password, TOTP / recovery codes / WebAuthn, OpenID Connect single sign-on.
# Accounts are created by administrators (invitations, SCIM), never by public sign-up.
ACCOUNT_ADAPTER = "kiln.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "kiln.accounts.adapters.SocialAccountAdapter"
MFA_ADAPTER = "kiln.accounts.adapters.MFAAdapter"
ACCOUNT_FORMS = {"login": "kiln.accounts.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False  # the session ends with the browser and after SESSION_COOKIE_AGE
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = int(env("REAUTHENTICATION_SECONDS", "300"))
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {"login_failed": False}  # lockout is django-axes' job (below)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kiln] "
# Roles in kiln.accounts.roles.MFA_REQUIRED_ROLES must enrol a second factor before anything else;
# KILN_MFA_ENFORCE=0 switches that off (a local demo only; never in production).
KILN_MFA_ENFORCE = env_bool("MFA_ENFORCE", default=True) or PRODUCTION
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env("MFA_ISSUER", "Kiln")
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION  # WebAuthn over plain http://localhost in development
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting SSO is a POST (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # Kiln matches SSO identities itself (adapters.SocialAccountAdapter)
SOCIALACCOUNT_REQUESTS_TIMEOUT = int(env("OIDC_TIMEOUT", "10"))
# OpenID Connect single sign-on against the organisation's identity provider.
KILN_OIDC_SERVER_URL = env("OIDC_SERVER_URL")  # issuer URL; /.well-known/openid-configuration is appended
KILN_OIDC_PROVIDER_ID = env("OIDC_PROVIDER_ID", "sso")
KILN_OIDC_AUTO_CREATE = env_bool("OIDC_AUTO_CREATE")  # create unknown SSO users (inactive until given a role)
SOCIALACCOUNT_PROVIDERS: dict = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []}}
if KILN_OIDC_SERVER_URL:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append(
        {
            "provider_id": KILN_OIDC_PROVIDER_ID,
            "name": env("OIDC_NAME", "Single sign-on"),
            "client_id": env("OIDC_CLIENT_ID"),
            "secret": env("OIDC_CLIENT_SECRET"),
            "settings": {"server_url": KILN_OIDC_SERVER_URL, "fetch_userinfo": True},
        }
    )

# django-axes: lock an account after N failed logins; an administrator unlocks it
# (admin "Access attempts", the user page, or `kiln axes_reset_username <name>`).
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = (float(env("LOGIN_COOLOFF_HOURS")) if env("LOGIN_COOLOFF_HOURS") else None)  # None: until unlocked
# By account only by default: locking by IP address would lock out a whole office behind one NAT.
# Many failures from one address show as an audit alert (KLN-AUD-ALERT-002) instead.
AXES_LOCKOUT_PARAMETERS = env_list("LOCKOUT_BY", "username")
SILENCED_SYSTEM_CHECKS = [] if "ip_address" in AXES_LOCKOUT_PARAMETERS else ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# Invitations and notifications go through Django's mail backend.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("FROM_EMAIL", "kiln@localhost")
KILN_INVITATION_DAYS = int(env("INVITATION_DAYS", "7"))
KILN_SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")  # for links in e-mail sent outside a request
# Audit log alerts (kiln.audit.alerts): failed logins and exports per time window.
KILN_AUDIT_BRUTE_FORCE_MINUTES = int(env("AUDIT_BRUTE_FORCE_MINUTES", "15"))
KILN_AUDIT_MASS_EXPORT_MINUTES = int(env("AUDIT_MASS_EXPORT_MINUTES", "60"))
KILN_AUDIT_MASS_EXPORT_COUNT = int(env("AUDIT_MASS_EXPORT_COUNT", "5"))
KILN_AUDIT_EXPORT_MAX_ROWS = int(env("AUDIT_EXPORT_MAX_ROWS", "100000"))
# API tokens: the longest lifetime a user may choose.
KILN_TOKEN_MAX_DAYS = int(env("TOKEN_MAX_DAYS", "365"))

# --- i18n: Chinese first --------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kiln" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploaded files ------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "kiln" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Outside production, serve straight from the app folders so a missing collectstatic never breaks a page.
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- security ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env("SESSION_AGE", str(8 * 3600)))
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- logging ------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Kiln ---------------------------------------------------------------------------
KILN_PLATFORM_NAME = _("Kiln industrial carbon platform")
# Upload limits enforced by every intake door.
KILN_MAX_UPLOAD_BYTES = int(env("MAX_UPLOAD_BYTES", str(100 * 1024 * 1024)))
# Ed25519 seed (hex or base64) that signs the evidence ledger's tree heads; required in production.
KILN_LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY")
# Verification keys of retired signing keys (hex public keys), so old tree heads and codes still verify.
KILN_LEDGER_RETIRED_PUBLIC_KEYS = env_list("LEDGER_RETIRED_PUBLIC_KEYS")
# Monthly evidence is due this many days after the month ends (national ETS: 40).
KILN_DEPOSIT_DEADLINE_DAYS = int(env("DEPOSIT_DEADLINE_DAYS", "40"))
# Evidence files may not exceed this; an XLSX may not inflate beyond the second figure (zip bombs).
KILN_MAX_EVIDENCE_BYTES = int(env("MAX_EVIDENCE_BYTES", str(KILN_MAX_UPLOAD_BYTES)))
KILN_MAX_XLSX_UNCOMPRESSED_BYTES = int(env("MAX_XLSX_UNCOMPRESSED_BYTES", str(1 << 30)))
# Key that encrypts external-database connection strings at rest (falls back to the secret key).
KILN_SQLSOURCE_KEY = env("SQLSOURCE_KEY")

# --- operations (kiln.ops): readiness, metrics, backups -----------------------------
# /metrics answers 404 unless a bearer token or an allow-listed network (CIDRs) is configured.
KILN_METRICS_TOKEN = env("METRICS_TOKEN")
KILN_METRICS_ALLOW = env_list("METRICS_ALLOW")  # e.g. "10.0.0.0/8,127.0.0.1/32"
KILN_READY_MIN_FREE_MB = int(env("READY_MIN_FREE_MB", "1024"))  # /readyz fails below this free space in VAR_DIR
KILN_BACKUP_DIR = Path(env("BACKUP_DIR", str(VAR_DIR / "backups")))
KILN_BACKUP_KEEP = int(env("BACKUP_KEEP", "7"))  # nightly backups kept; 0 keeps all
KILN_BACKUP_AT = env("BACKUP_AT", "02:00")  # local time (TIME_ZONE) of the nightly backup
KILN_PG_BIN_DIR = env("PG_BIN_DIR")  # where pg_dump / pg_restore live when not on PATH
