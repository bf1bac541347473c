"""`flask users …` (dashboard logins) and `flask tokens rotate` (the encrypted Shopify credentials)."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.crypto import rotate_secret
from app.extensions import db
from app.models import Account
from app.services.accounts import AccountError, sign_up

users_cli = AppGroup("users", help="Manage dashboard logins.")
tokens_cli = AppGroup("tokens", help="Encrypted Shopify credentials.")


@users_cli.command("create-admin")
@click.option("--store", required=True, help="Store name for the new account.")
@click.option("--email", required=True)
@click.password_option()
def create_admin(store: str, email: str, password: str) -> None:
    """Create an account and its admin login."""
    try:
        user = sign_up(store, email, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created account {user.account.slug!r} with admin {user.email}")


@tokens_cli.command("rotate")
def rotate_tokens() -> None:
    """Re-encrypt every stored secret under the newest TOKEN_ENCRYPTION_KEYS key."""
    fields = ("access_token_encrypted", "refresh_token_encrypted", "client_secret_encrypted",
              "webhook_secret_encrypted", "previous_webhook_secret_encrypted")
    count = 0
    for account in db.session.scalars(select(Account)):
        for field in fields:
            setattr(account, field, rotate_secret(getattr(account, field)))
        count += 1
    db.session.commit()
    click.echo(f"Re-encrypted the secrets of {count} account(s).")
