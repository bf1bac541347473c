"""`flask shop …`: connect a store from the command line, import and reconcile its orders."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Account, ImportRun
from app.services import connect as connecting
from app.services import connect_input
from app.services.imports import start_import
from app.services.reconcile import connected_account_ids, reconcile_account

shop_cli = AppGroup("shop", help="Connect Shopify stores and import their orders.")


def _account(slug: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.slug == slug))
    if account is None:
        raise click.ClickException(f"No account with the slug {slug!r} (see the portal address /r/<slug>).")
    return account


@shop_cli.command("connect")
@click.option("--account-slug", required=True, help="The Boomerang account to connect.")
@click.option("--domain", required=True, help="The store, e.g. my-store.myshopify.com.")
@click.option("--token", required=True, envvar="SHOPIFY_ACCESS_TOKEN",
              help="Admin API access token (shpat_…); or set SHOPIFY_ACCESS_TOKEN.")
@click.option("--secret", required=True, envvar="SHOPIFY_API_SECRET",
              help="The app's API secret key (signs webhooks); or set SHOPIFY_API_SECRET.")
@click.option("--api-origin", default=None, help="Another Admin API origin (the sandbox).")
def connect_command(account_slug, domain, token, secret, api_origin):
    """Connect an account with an admin custom-app token, then import recent orders."""
    account = _account(account_slug)
    try:
        shop = connect_input.parse_shop(domain)
        origin = connect_input.parse_api_origin(api_origin)
        connect_input.check_available(account, shop)
        grant = connecting.legacy_token_grant(token, secret)
        result = connecting.connect(account, shop, grant, origin)
    except connect_input.ConnectError as error:
        db.session.rollback()
        option = {"shop_domain": "--domain", "access_token": "--token", "api_secret": "--secret",
                  "api_origin": "--api-origin"}.get(error.field or "", "")
        raise click.ClickException(f"{option + ': ' if option else ''}{error} Nothing was saved.") from None
    account = result.account
    click.echo(f"Connected {account.slug!r} to {result.shop.name} ({account.shop_domain}), "
               f"plan {account.shop_plan or 'unknown'}, currency {account.currency}.")
    click.echo(f"  Permissions: {', '.join(account.granted_scopes) or 'none reported'}")
    for scope, purpose in result.missing_scopes:
        click.echo(f"  Missing {scope}: Boomerang cannot {purpose}.")
    if result.window_capped_from:
        click.echo(f"  Return window lowered from {result.window_capped_from} to "
                   f"{account.return_window_days} days (no read_all_orders).")
    if account.protected_data_readable is False:
        click.echo("  Customer names, emails and addresses are hidden from this app: request "
                   "protected customer data access for it in Shopify.")
    _echo_run(result.import_run.id)


def _echo_run(run_id: int) -> None:
    db.session.expire_all()
    run = db.session.get(ImportRun, run_id)
    total = f" of {run.total}" if run.total is not None else ""
    click.echo(f"  Import {run.id}: {run.status}, {run.imported}{total} orders"
               f"{' (' + run.method + ')' if run.method else ''}.")
    if run.window_note:
        click.echo(f"  {run.window_note}")
    if run.error:
        click.echo(f"  Error: {run.error}")


@shop_cli.command("import")
@click.option("--account-slug", required=True)
def import_command(account_slug):
    """Import the account's recent orders (or continue a stopped import)."""
    account = _account(account_slug)
    if not account.is_connected:
        raise click.ClickException("That account's store is not connected.")
    run = start_import(account)
    _echo_run(run.id)


@shop_cli.command("reconcile")
@click.option("--account-slug", default=None, help="One account; every connected one if omitted.")
def reconcile_command(account_slug):
    """Fetch orders updated since the last sweep (the periodic job, run now)."""
    ids = [_account(account_slug).id] if account_slug else connected_account_ids()
    for account_id in ids:
        click.echo(f"account {account_id}: {reconcile_account(account_id)}")
