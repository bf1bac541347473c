"""Encryption at rest for Shopify tokens and secrets (MultiFernet: newest key first)."""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretUnreadable(RuntimeError):
    """A stored secret cannot be decrypted with any configured key."""


def _fernet() -> MultiFernet:
    keys = current_app.config["TOKEN_ENCRYPTION_KEYS"]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(plaintext: str | None) -> str | None:
    """Encrypt with the newest key; None stays None."""
    if plaintext is None:
        return None
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(ciphertext: str | None) -> str | None:
    """Decrypt with whichever configured key made it; None stays None."""
    if ciphertext is None:
        return None
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret could not be decrypted with TOKEN_ENCRYPTION_KEYS") from None


def rotate_secret(ciphertext: str | None) -> str | None:
    """Re-encrypt under the newest key (after a key was added at the front of the list)."""
    if ciphertext is None:
        return None
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret could not be decrypted with TOKEN_ENCRYPTION_KEYS") from None
