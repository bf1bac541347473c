"""The account's prepaid label settings, saved together (the key stored encrypted)."""
from __future__ import annotations

from decimal import Decimal

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import Account


def save_label_settings(account: Account, *, provider: str, api_key: str | None, issue_on: str,
                        weight_oz: Decimal, carrier: str | None, ship_to: dict) -> None:
    """Store the label settings; an empty `api_key` keeps the stored one (it is never shown back).
    Choosing another provider forgets the old provider's key."""
    if provider != account.label_provider and not api_key:
        account.label_api_key_encrypted = None
    if api_key:
        account.label_api_key_encrypted = encrypt_secret(api_key)
    account.label_provider, account.label_issue_on = provider, issue_on
    account.label_weight_oz, account.label_carrier = weight_oz, carrier or None
    account.label_ship_to = ship_to
    db.session.commit()
