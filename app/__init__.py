"""Boomerang: a self-hosted returns portal for Shopify retailers.

`create_app` assembles the app from small register_* helpers and nothing else. Each helper
imports what it binds when the app is built, not when this package is imported: every module
below imports this package first, and a unit test of the domain, a benchmark or the sandbox
importing one module must not load every blueprint, model, service and RQ with it.
"""
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import INSTANCE_DIR, config_from_env, ensure_secrets


def create_app(config: type | Mapping | None = None) -> Flask:
    """Build the Flask app. `config` is a config class, or a mapping applied over the env's class."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    from app.uploads import UploadRequest  # at build time: importing app stays cheap
    app.request_class = UploadRequest
    load_config(app, config)
    register_proxy_fix(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_jobs(app)
    register_fast_paths(app)
    register_commands(app)
    register_template_helpers(app)
    register_milestone_listeners(app)
    register_i18n(app)
    return app


def load_config(app: Flask, config: type | Mapping | None) -> None:
    """Apply the config class (or env class + overrides), then fill or check the secrets."""
    if isinstance(config, Mapping):
        app.config.from_object(config.get("CONFIG_CLASS") or config_from_env())
        app.config.update(config)
    else:
        app.config.from_object(config or config_from_env())
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        # SQLite runs its transactions through explicit BEGINs on an "autocommit" DBAPI
        # connection (app/extensions.py); those must still be rolled back on return to the pool.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("skip_autocommit_rollback", None)
        # pysqlite's timeout is SQLite's busy wait, in seconds (app/extensions.py takes it further).
        options["connect_args"] = {"timeout": app.config["SQLITE_BUSY_TIMEOUT_SECONDS"],
                                   **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    ensure_secrets(app.config)


def register_proxy_fix(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, take the client's address and scheme from the headers
    they append (X-Forwarded-For, X-Forwarded-Proto); with 0, forwarded headers are ignored."""
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def register_extensions(app: Flask) -> None:
    """Bind the extensions from app/extensions.py."""
    from app.extensions import csrf, db, limiter, login_manager, migrate  # at build time: importing app stays cheap

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    import app.models  # registers every table on db.metadata
    from app.services import analytics_cache  # at build time: importing app stays cheap

    analytics_cache.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount the audience blueprints."""
    from app.auth import bp as auth_bp  # at build time: importing app stays cheap
    from app.dashboard import bp as dashboard_bp  # at build time: importing app stays cheap
    from app.extensions import csrf, limiter  # at build time: importing app stays cheap
    from app.health import bp as health_bp  # at build time: importing app stays cheap
    from app.portal import bp as portal_bp  # at build time: importing app stays cheap
    from app.routing import install_converters  # at build time: importing app stays cheap
    from app.webhooks import bp as webhooks_bp  # at build time: importing app stays cheap

    install_converters(app)
    # Webhooks are authenticated by signatures, not sessions, and all come from the few
    # addresses of Shopify or a carrier: per-address limits and CSRF make no sense there.
    csrf.exempt(webhooks_bp)
    limiter.exempt(webhooks_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(health_bp)
    app.register_blueprint(portal_bp, url_prefix="/r")


def register_milestone_listeners(app: Flask) -> None:
    """Import the services that listen to a return's milestones, so every process (web, worker,
    commands) has them registered (app/services/milestones.py)."""
    import app.services.outbound_webhooks  # noqa: F401 - at build time: registers its listener
    import app.services.shopper_emails  # noqa: F401 - at build time: registers its listener


def register_errorhandlers(app: Flask) -> None:
    """Friendly error pages (HTML) or JSON, never a stack trace."""
    from app.errors import init_app  # at build time: importing app stays cheap

    init_app(app)


def register_security(app: Flask) -> None:
    """Login handling, CSRF errors and response headers."""
    from app.security import init_app  # at build time: importing app stays cheap

    init_app(app)


def register_jobs(app: Flask) -> None:
    """Pick the job backend: RQ when Redis is configured, in-process otherwise."""
    from app.queue.backends import init_app  # at build time: importing app stays cheap

    init_app(app)


def register_fast_paths(app: Flask) -> None:
    """Shopify deliveries answered ahead of Flask's request machinery (app/webhooks/fast_path.py)."""
    from app.webhooks.fast_path import install  # at build time: importing app stays cheap

    install(app)


def register_commands(app: Flask) -> None:
    """Operator commands: `flask users …`, `flask tokens rotate`, `flask demo seed`, `flask jobs …`."""
    from app.cli import init_app  # at build time: importing app stays cheap

    init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Jinja settings and helpers shared by every template."""
    from app.templating import init_app  # at build time: importing app stays cheap

    init_app(app)


def register_i18n(app: Flask) -> None:
    """The portal and its emails in the shopper's language (Flask-Babel; the dashboard is English)."""
    from app.i18n import init_app  # at build time: importing app stays cheap

    init_app(app)
