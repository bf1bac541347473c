"""Settings read from the environment.

`Config` is the production-shaped base; `DevelopmentConfig` is what `make demo` runs (an SQLite file
and in-process jobs when nothing else is configured); `TestConfig` is strict and fast. A config is
chosen by `BOOMERANG_ENV` (production | development | test) unless `create_app` is given one.
"""
import os
import tempfile
import secrets
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

# The Admin API version the GraphQL documents are written and validated for (one place).
from app.shopify.client import DEFAULT_API_VERSION

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
# Also the bound where no app config is at hand (a bare Flask app's request context).
DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS = 5.0


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message is one line saying which and why."""


def _env_list(name: str) -> list[str]:
    raw = os.environ.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, whatever scheme the platform hands us."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Production settings; everything secret must come from the environment."""

    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    TOKEN_ENCRYPTION_KEYS = _env_list("TOKEN_ENCRYPTION_KEYS")
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'boomerang.sqlite3'}")
    )
    # skip_autocommit_rollback: an autocommitted connection (webhook intake) has nothing to roll
    # back when it returns to the pool, so don't pay a round trip for it.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "skip_autocommit_rollback": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Jobs run on RQ when Redis is configured, otherwise in-process after the response.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND") or None
    RQ_FAILURE_TTL_SECONDS = int(os.environ.get("RQ_FAILURE_TTL_SECONDS", 7 * 24 * 3600))
    # Every Redis call is bounded, so a frozen Redis holds a request (a webhook's 200, /healthz)
    # for at most these seconds; an idle pooled connection is pinged before use after the interval.
    REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", 0.5))
    # How long the analytics page's figures are kept at most (app/services/analytics_cache.py; a
    # change to the returns drops them sooner); 0: computed on every request.
    ANALYTICS_CACHE_SECONDS = int(os.environ.get("ANALYTICS_CACHE_SECONDS", 600))
    REDIS_CONNECT_TIMEOUT = float(os.environ.get("REDIS_CONNECT_TIMEOUT", 0.5))
    REDIS_HEALTH_CHECK_INTERVAL = int(os.environ.get("REDIS_HEALTH_CHECK_INTERVAL", 15))
    # After a failed enqueue, a process queues nothing for this long (what it stored meanwhile is
    # queued by the sweepers), so requests do not each wait out the timeout on a sick Redis.
    REDIS_RETRY_AFTER_SECONDS = float(os.environ.get("REDIS_RETRY_AFTER_SECONDS", 2))
    # A worker waits for a job at most RQ_WORKER_TTL - 15 s per call (RQ's socket timeout is 10 s
    # more); when Redis goes away it reconnects, waiting at most this long between attempts.
    RQ_WORKER_TTL = int(os.environ.get("RQ_WORKER_TTL", 35))
    WORKER_RECONNECT_MAX_SECONDS = float(os.environ.get("WORKER_RECONNECT_MAX_SECONDS", 4))
    # A worker lowers its own CPU priority by this much (os.nice) so that, on a host it shares with
    # the web server, a burst of background work never delays a webhook's or a page's answer.
    WORKER_NICE = int(os.environ.get("WORKER_NICE", 10))
    # The periodic sweeps (deliveries, issuing, Shopify returns) run every this many seconds
    # instead of on their cron times when set (tests shorten it).
    SWEEP_INTERVAL_SECONDS = int(os.environ.get("SWEEP_INTERVAL_SECONDS", 0)) or None
    # How long the issuing sweeps leave work that a job was queued for before calling its enqueue
    # lost (a bulk close queues many items, and the plan's bucket issues a few per second).
    SWEEP_GRACE_SECONDS = int(os.environ.get("SWEEP_GRACE_SECONDS", 300))
    # /healthz answers within this many seconds whatever its dependencies do.
    HEALTHZ_TIMEOUT_SECONDS = float(os.environ.get("HEALTHZ_TIMEOUT_SECONDS", 0.8))
    SCHEDULER_ENABLED = _env_bool("SCHEDULER_ENABLED", False)
    # In-process jobs (no Redis): a failed job is tried again after each of its retry intervals
    # times this factor (tests shorten them), on the jobs thread.
    JOBS_RETRY_INTERVAL_SCALE = float(os.environ.get("JOBS_RETRY_INTERVAL_SCALE", 1.0))
    JOBS_INPROCESS_RETRIES = _env_bool("JOBS_INPROCESS_RETRIES", True)
    # In-process jobs queued by a request run on a background thread after the response; off (the
    # test config), when the response is closed (app.queue.backends.InProcessBackend).
    JOBS_INPROCESS_THREAD = True
    # SQLite: the longest a write waits for another writer's lock; past it a page answers 503.
    SQLITE_BUSY_TIMEOUT_SECONDS = float(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS",
                                                       DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS))

    SHOPIFY_API_VERSION = os.environ.get("SHOPIFY_API_VERSION", DEFAULT_API_VERSION)
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # This deployment's own Shopify app, for the OAuth install (multi-store deployments).
    SHOPIFY_APP_CLIENT_ID = os.environ.get("SHOPIFY_APP_CLIENT_ID") or None
    SHOPIFY_APP_CLIENT_SECRET = os.environ.get("SHOPIFY_APP_CLIENT_SECRET") or None
    SHOPIFY_APP_SCOPES = _env_list("SHOPIFY_APP_SCOPES") or [
        "read_orders", "write_orders", "read_all_orders", "read_products", "read_returns", "write_returns",
        "write_gift_cards", "write_customers", "write_draft_orders", "write_inventory", "read_locations",
        "read_fulfillments", "read_locales"]
    # Lets an admin point a store at another Admin API origin (the sandbox). Off in production:
    # the origin receives the store's token and, for OAuth, this deployment's client secret.
    SHOPIFY_API_ORIGIN_ALLOWED = _env_bool("SHOPIFY_API_ORIGIN_ALLOWED", False)
    # Seconds a person waits for Shopify while connecting (the live check).
    SHOPIFY_CONNECT_TIMEOUT = float(os.environ.get("SHOPIFY_CONNECT_TIMEOUT", 10))
    # First poll of a bulk export, in seconds (it grows by half each poll).
    IMPORT_BULK_POLL_SECONDS = float(os.environ.get("IMPORT_BULK_POLL_SECONDS", 2))

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or "returns@localhost"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # A dashboard left open all day must still post: the token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # The portal's items form carries photos (app/domain/photos.py: 10 MB each, at most 10 per item):
    # its own larger limit, set on that request only; a body past it is a 413 page.
    PHOTO_REQUEST_MAX_BYTES = int(os.environ.get("PHOTO_REQUEST_MAX_BYTES", 60 * 1024 * 1024))
    # Where photos are kept: the local directory, unless an S3 bucket is named (app/photos/storage.py).
    PHOTO_DIR = os.environ.get("PHOTO_DIR") or str(INSTANCE_DIR / "photos")
    PHOTO_S3_BUCKET = os.environ.get("PHOTO_S3_BUCKET") or None
    PHOTO_S3_ENDPOINT_URL = os.environ.get("PHOTO_S3_ENDPOINT_URL") or None
    PHOTO_S3_REGION = os.environ.get("PHOTO_S3_REGION") or None
    PHOTO_S3_ACCESS_KEY_ID = os.environ.get("PHOTO_S3_ACCESS_KEY_ID") or None
    PHOTO_S3_SECRET_ACCESS_KEY = os.environ.get("PHOTO_S3_SECRET_ACCESS_KEY") or None
    # Photos uploaded in the portal but never part of a submitted return are deleted after this.
    PHOTO_PENDING_HOURS = int(os.environ.get("PHOTO_PENDING_HOURS", 24))
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # `POST /webhooks/shopify` answered ahead of Flask's request machinery
    # (app/webhooks/fast_path.py). Off here; the served app (wsgi.py) switches it on.
    WEBHOOK_FAST_PATH = False
    # Shopify's largest order bodies are a few hundred KB; anything far past that is refused.
    WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", 2 * 1024 * 1024))
    # Carrier payloads are a few kilobytes even with a long history; anything near this is not one.
    TRACKING_WEBHOOK_MAX_BYTES = 512 * 1024
    # Deliveries Shopify triggered longer ago, or further ahead of this server's clock, are set
    # aside (app.services.intake.check_fresh: Shopify retries for 4 hours, rarely is a day late).
    WEBHOOK_MAX_AGE_HOURS = float(os.environ.get("WEBHOOK_MAX_AGE_HOURS", 48))
    WEBHOOK_CLOCK_SKEW_MINUTES = float(os.environ.get("WEBHOOK_CLOCK_SKEW_MINUTES", 15))
    # A delivery still unprocessed this long after it arrived is re-enqueued by the sweeper.
    WEBHOOK_SWEEP_AFTER_SECONDS = int(os.environ.get("WEBHOOK_SWEEP_AFTER_SECONDS", 180))
    # A delivery whose work failed this many times is dead: no more retries, listed for admins
    # (Dead deliveries page) until one retries it. With the job's retries (10 s, 1, 5 and 15 min)
    # the fifth attempt runs about 21 minutes after the delivery arrived.
    # Outbound webhooks (the retailer's endpoints): http:// and loopback addresses are allowed only
    # where this is on (tests and development: the tests' receiver and the demo's run on 127.0.0.1).
    OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK = False
    OUTBOUND_WEBHOOKS_CONNECT_TIMEOUT = float(os.environ.get("OUTBOUND_WEBHOOKS_CONNECT_TIMEOUT", 3))
    OUTBOUND_WEBHOOKS_TOTAL_TIMEOUT = float(os.environ.get("OUTBOUND_WEBHOOKS_TOTAL_TIMEOUT", 10))
    OUTBOUND_WEBHOOKS_CLOCK = None  # a callable returning an aware datetime stands in for now (tests)
    WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", 5))
    # With RQ, intake only stores a delivery; the dispatcher of each `flask jobs worker` looks for
    # new ones this often and queues them in batches of at most this many (one shop per batch).
    DISPATCH_INTERVAL_SECONDS = float(os.environ.get("DISPATCH_INTERVAL_SECONDS", 0.2))
    DISPATCH_BATCH_SIZE = int(os.environ.get("DISPATCH_BATCH_SIZE", 100))
    # …unless this many jobs already wait in the intake queue (then the next batch grows instead).
    DISPATCH_MAX_WAITING = int(os.environ.get("DISPATCH_MAX_WAITING", 2))
    # …or the last claim is still being processed, for at most this long (app/services/dispatch.py).
    DISPATCH_CLAIM_LEASE_SECONDS = float(os.environ.get("DISPATCH_CLAIM_LEASE_SECONDS", 10))
    # A confirmer holds a shop's API budget for this long (renewed every batch), and confirms one
    # shop for at most this many seconds before the next shop's turn (a confirm job: its successor).
    CONFIRM_LEASE_SECONDS = int(os.environ.get("CONFIRM_LEASE_SECONDS", 60))
    CONFIRM_JOB_SECONDS = int(os.environ.get("CONFIRM_JOB_SECONDS", 240))
    # An item being issued belongs to the worker that claimed it for this long; after that it is
    # reconciled with Shopify and tried again. It must exceed Shopify's search lag (gift cards and
    # draft orders are found by search) and one call's timeout.
    ISSUE_LEASE_SECONDS = int(os.environ.get("ISSUE_LEASE_SECONDS", 120))

    # Proxies in front of the app that append X-Forwarded-For (a load balancer, a PaaS router):
    # their count, so rate limits key on the client's address. 0 trusts no forwarded header.
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", 0))

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # A down or frozen Redis costs a request at most the Redis timeouts above; limits then count in
    # memory (with a warning) and Redis is tried again after RATELIMIT_RETRY_SECONDS.
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": REDIS_SOCKET_TIMEOUT,
                                 "socket_connect_timeout": REDIS_CONNECT_TIMEOUT}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_RETRY_SECONDS = float(os.environ.get("RATELIMIT_RETRY_SECONDS", 5))
    RATELIMIT_KEY_PREFIX = "boomerang-limits"
    RATELIMIT_HEADERS_ENABLED = True
    # Failed logins (app/rate_limits.py): per address, and per email (the latter refuses only
    # addresses that failed themselves, so it never locks out the right password).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 10 minutes;50 per day")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "10 per hour;50 per day")
    # Failed portal order look-ups, per shop and address and per shop and order number; a portal
    # session lasts PORTAL_SESSION_MINUTES.
    PORTAL_LOOKUP_RATE_LIMIT = os.environ.get("PORTAL_LOOKUP_RATE_LIMIT", "10 per minute;60 per hour")
    PORTAL_ORDER_RATE_LIMIT = os.environ.get("PORTAL_ORDER_RATE_LIMIT", "10 per 10 minutes;50 per day")
    PORTAL_SESSION_MINUTES = int(os.environ.get("PORTAL_SESSION_MINUTES", 120))
    # A status link works this many days after it was made or after its return's last step,
    # whichever is later (app.portal.session.link_expires_at); a lookup makes a fresh one.
    PORTAL_STATUS_LINK_DAYS = int(os.environ.get("PORTAL_STATUS_LINK_DAYS", 90))
    # A shopper waits on the exchange variant list and the stock re-check: keep it short.
    PORTAL_SHOPIFY_TIMEOUT = float(os.environ.get("PORTAL_SHOPIFY_TIMEOUT", 4.0))
    # Seconds the settings pages wait for Shopify (the return address and the locations they show).
    SETTINGS_SHOPIFY_TIMEOUT = 4.0

    PASSWORD_HASH_METHOD = "scrypt"

    # Everything secret has been given; production refuses to start otherwise.
    REQUIRE_SECRETS = True


class DevelopmentConfig(Config):
    """`make demo`: SQLite and in-process jobs unless told otherwise; demo secrets are generated."""

    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SCHEDULER_ENABLED = _env_bool("SCHEDULER_ENABLED", True)
    REQUIRE_SECRETS = False
    SHOPIFY_API_ORIGIN_ALLOWED = _env_bool("SHOPIFY_API_ORIGIN_ALLOWED", True)
    OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK = _env_bool("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", True)


class TestConfig(Config):
    """Strict and fast: its own database, cheap hashing, no scheduler, no secrets from the env."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///" + str(INSTANCE_DIR / "test.sqlite3"))
    )
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    # Every test's database starts afresh (its ids again from 1): figures kept by another would
    # answer for it. The cache's own test turns it on.
    ANALYTICS_CACHE_SECONDS = 0
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # On, as in production, but generous; the rate-limit tests tighten the limits themselves
    # (the limit is read per request).
    RATELIMIT_STORAGE_URI = "memory://"
    LOGIN_RATE_LIMIT = "10000 per minute"
    LOGIN_ACCOUNT_RATE_LIMIT = "10000 per minute"
    SIGNUP_RATE_LIMIT = "10000 per minute"
    PORTAL_LOOKUP_RATE_LIMIT = "10000 per minute"
    PORTAL_ORDER_RATE_LIMIT = "10000 per minute"
    # In-process jobs run when the response is closed, so a test sees their effect at once; a
    # failure is not tried again on another thread, outside the test's transaction.
    JOBS_INPROCESS_THREAD = False
    JOBS_INPROCESS_RETRIES = False
    # Off for test-client tests, which post forms directly; CSRF tests and every browser test
    # (the e2e app) switch it back on.
    WTF_CSRF_ENABLED = False
    # pbkdf2 with few rounds keeps a suite of logins fast; production uses scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SCHEDULER_ENABLED = False
    REQUIRE_SECRETS = False
    PUBLIC_BASE_URL = "http://localhost"
    SHOPIFY_API_ORIGIN_ALLOWED = True
    SHOPIFY_CONNECT_TIMEOUT = 5.0
    OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK = True
    IMPORT_BULK_POLL_SECONDS = 0.2
    # Each test run keeps its photos apart from the demo's (tests that look at files set their own).
    PHOTO_DIR = str(Path(tempfile.gettempdir()) / f"boomerang-test-photos-{os.getpid()}")


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_from_env() -> type[Config]:
    """The config class named by BOOMERANG_ENV (development when unset)."""
    name = os.environ.get("BOOMERANG_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"BOOMERANG_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None


def ensure_secrets(config: dict) -> None:
    """Fill or check SECRET_KEY and TOKEN_ENCRYPTION_KEYS.

    Production refuses to start without them. Development generates them once into `instance/`
    so sessions and encrypted tokens survive a restart of `make demo`.
    """
    if config.get("REQUIRE_SECRETS"):
        if not config.get("SECRET_KEY"):
            raise ConfigError("SECRET_KEY is not set; refusing to start in production without it")
        if not config.get("TOKEN_ENCRYPTION_KEYS"):
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS is not set (comma-separated Fernet keys, newest first); "
                "refusing to start in production without it"
            )
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret("secret_key", lambda: secrets.token_hex(32))
    if not config.get("TOKEN_ENCRYPTION_KEYS"):
        config["TOKEN_ENCRYPTION_KEYS"] = [
            _instance_secret("token_encryption_key", lambda: Fernet.generate_key().decode())
        ]
    for key in config["TOKEN_ENCRYPTION_KEYS"]:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError("TOKEN_ENCRYPTION_KEYS holds a value that is not a Fernet key") from None


def _instance_secret(name: str, make) -> str:
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()
