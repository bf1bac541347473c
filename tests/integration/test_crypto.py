"""Secrets at rest: encrypted with the newest key, readable with any configured key, rotatable."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.crypto import SecretUnreadable, decrypt_secret, encrypt_secret
from app.extensions import db
from app.models import Account
from tests.factories import make_account


def test_a_secret_is_stored_encrypted_and_reads_back(app):
    account = make_account(access_token_encrypted=encrypt_secret("shpat_0123456789abcdef"))
    db.session.commit()
    raw = db.session.execute(text("SELECT access_token_encrypted FROM accounts WHERE id = :i"),
                             {"i": account.id}).scalar()
    assert "shpat_" not in raw
    assert decrypt_secret(raw) == "shpat_0123456789abcdef"


def test_rotation_re_encrypts_under_the_new_key_and_old_keys_still_read(app, monkeypatch):
    old_key = app.config["TOKEN_ENCRYPTION_KEYS"][0]
    account = make_account(access_token_encrypted=encrypt_secret("shpat_secret"))
    db.session.commit()
    new_key = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", [new_key, old_key])
    assert decrypt_secret(account.access_token_encrypted) == "shpat_secret"  # old key still reads
    result = app.test_cli_runner().invoke(args=["tokens", "rotate"])
    assert "Re-encrypted the secrets of" in result.output
    db.session.expire_all()
    rotated = db.session.get(Account, account.id).access_token_encrypted
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", [new_key])  # old key retired
    assert decrypt_secret(rotated) == "shpat_secret"


def test_a_secret_under_an_unknown_key_is_a_clear_error(app, monkeypatch):
    ciphertext = encrypt_secret("shpat_secret")
    monkeypatch.setitem(app.config, "TOKEN_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    with pytest.raises(SecretUnreadable, match="TOKEN_ENCRYPTION_KEYS"):
        decrypt_secret(ciphertext)
