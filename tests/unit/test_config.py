"""Configuration: production refuses to start without its secrets, with a one-line reason."""
import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.config import Config, ConfigError, ensure_secrets, normalise_database_url


def production(**overrides):
    values = {"CONFIG_CLASS": Config, "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "SECRET_KEY": "s" * 32, "TOKEN_ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}
    values.update(overrides)
    return values


def test_production_starts_with_its_secrets():
    app = create_app(production())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("missing, named", [("SECRET_KEY", "SECRET_KEY"),
                                             ("TOKEN_ENCRYPTION_KEYS", "TOKEN_ENCRYPTION_KEYS")])
def test_production_refuses_to_start_without_a_secret(missing, named):
    empty = "" if missing == "SECRET_KEY" else []
    with pytest.raises(ConfigError) as error:
        create_app(production(**{missing: empty}))
    message = str(error.value)
    assert named in message and "\n" not in message


def test_a_malformed_encryption_key_is_refused():
    with pytest.raises(ConfigError, match="not a Fernet key"):
        create_app(production(TOKEN_ENCRYPTION_KEYS=["not-a-key"]))


def test_development_generates_demo_secrets_once(tmp_path, monkeypatch):
    monkeypatch.setattr("app.config.INSTANCE_DIR", tmp_path)
    first = {"REQUIRE_SECRETS": False}
    ensure_secrets(first)
    second = {"REQUIRE_SECRETS": False}
    ensure_secrets(second)
    assert first["SECRET_KEY"] and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["TOKEN_ENCRYPTION_KEYS"] == second["TOKEN_ENCRYPTION_KEYS"]
    Fernet(first["TOKEN_ENCRYPTION_KEYS"][0])  # a usable key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # not readable by others


@pytest.mark.parametrize("url, expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected
