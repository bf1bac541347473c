"""`flask returns record-legacy` and `flask orders fill-fulfillments`: one-off repairs of stored data."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Account
from app.services import legacy_returns, parcel_fill
from app.services.reconcile import connected_account_ids

returns_cli = AppGroup("returns", help="Returns in Shopify.")
orders_cli = AppGroup("orders", help="Stored orders.")


def _account_id(slug: str) -> int:
    account = db.session.scalar(select(Account).where(Account.slug == slug))
    if account is None:
        raise click.ClickException(f"No account {slug!r}.")
    return account.id


@returns_cli.command("record-legacy")
@click.option("--account", "slug", default=None, help="Only this account (its portal slug).")
@click.option("--apply", "apply_", is_flag=True, help="Record them in Shopify (without it: only list).")
def record_legacy(slug: str | None, apply_: bool) -> None:
    """Record credit notes and exchanges issued before Shopify returns as processed Shopify
    returns with no money and no restock. Lists them only, unless --apply."""
    account_id = _account_id(slug) if slug else None
    records = legacy_returns.unrecorded(account_id)
    if not records:
        click.echo("Nothing to record: every credit note and exchange is in a Shopify return.")
        return
    for record in records:
        units = ", ".join(f"{title} × {qty}" for _id, title, qty in record.items)
        if apply_:
            record = legacy_returns.record_legacy_return(record.return_id)
        click.echo(f"{record.rma_number} (order {record.order_name}): {units} — {record.outcome}")
    if not apply_:
        click.echo(f"Dry run: {len(records)} return(s) would be recorded. Run again with --apply to record them.")


@orders_cli.command("fill-fulfillments")
@click.option("--account", "slug", default=None, help="Only this account (its portal slug).")
def fill_fulfillments(slug: str | None) -> None:
    """Read from Shopify the parcels (shipping and delivery dates, units) of stored orders that
    lack them, so return windows can count from delivery. Safe to run again: it only reads what
    is still missing."""
    ids = [_account_id(slug)] if slug else connected_account_ids()
    for account_id in ids:
        result = parcel_fill.fill_account(account_id)
        left = parcel_fill.missing(account_id)
        click.echo(f"account {account_id}: {result}; still missing: {left}")
