"""Operator commands: `flask users …`, `flask tokens rotate`, `flask jobs …`, `flask orders …`, `flask serve`."""
import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.serving import run_simple

from app.crypto import rotate_secret
from app.demo import demo_cli
from app.extensions import db
from app.models import Account
from app.queue import QUEUES
from app.queue import worker as queue_worker
from app.queue.backends import set_worker_app
from app.queue.schedule import InProcessScheduler
from app.queue.worker_threads import Confirmer, Dispatcher
from app.services import legacy_returns, parcel_fill
from app.services.accounts import AccountError, sign_up
from app.services.reconcile import connected_account_ids
from app.shop_cli import shop_cli

users_cli = AppGroup("users", help="Manage dashboard logins.")
tokens_cli = AppGroup("tokens", help="Encrypted Shopify credentials.")
jobs_cli = AppGroup("jobs", help="Background jobs: worker and scheduler.")
returns_cli = AppGroup("returns", help="Returns in Shopify.")
orders_cli = AppGroup("orders", help="Stored orders.")


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


@jobs_cli.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker (with its scheduler, which runs retries) over the named queues; it
    reconnects when Redis goes away and comes back. With `intake` among the queues, the worker's
    dispatcher (stored webhook deliveries to batch jobs) and confirmer (orders stored from webhook
    bodies read back from the Admin API) threads run beside it."""
    _require_redis()
    queue_worker.import_jobs()

    app = current_app._get_current_object()
    set_worker_app(app)
    if app.config["WORKER_NICE"] > 0:
        os.nice(app.config["WORKER_NICE"])  # raising one's own niceness needs no privilege
    names = queues or QUEUES
    if "intake" in names:
        # The dispatcher uses this process's connection pool; a forked child (RQ's scheduler) must not
        # share those connections, so each child starts with a fresh pool.
        engine = db.engine
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        Dispatcher(app).start()
        Confirmer(app).start()
    queue_worker.run_worker(app, names, burst=burst)


@jobs_cli.command("cron")
def cron() -> None:
    """Queue the periodic jobs on time (run exactly one); it reconnects when Redis goes away."""
    _require_redis()
    queue_worker.run_cron(current_app._get_current_object())


def _require_redis() -> None:
    if not hasattr(current_app.extensions["jobs"], "queue"):
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")


@returns_cli.command("record-legacy")
@click.option("--account", "slug", default=None, help="Only this account (its portal slug).")
@click.option("--apply", "apply_", is_flag=True, help="Record them in Shopify (without it: only list).")
def record_legacy(slug: str | None, apply_: bool) -> None:
    """Record credit notes and exchanges issued before Shopify returns as processed Shopify
    returns with no money and no restock. Lists them only, unless --apply."""
    account_id = None
    if slug:
        account = db.session.scalar(select(Account).where(Account.slug == slug))
        if account is None:
            raise click.ClickException(f"No account {slug!r}.")
        account_id = account.id
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
    ids = connected_account_ids()
    if slug:
        account = db.session.scalar(select(Account).where(Account.slug == slug))
        if account is None:
            raise click.ClickException(f"No account {slug!r}.")
        ids = [account.id]
    for account_id in ids:
        result = parcel_fill.fill_account(account_id)
        left = parcel_fill.missing(account_id)
        click.echo(f"account {account_id}: {result}; still missing: {left}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Serve the app for the embedded default, with the in-process periodic timer."""
    app = current_app._get_current_object()
    if app.config.get("SCHEDULER_ENABLED") and not hasattr(app.extensions["jobs"], "queue"):
        InProcessScheduler(app).start()
    # app.run() refuses to run inside a `flask` command; werkzeug's server is what it would use.
    run_simple(host, port, app, threaded=True, use_reloader=False)


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (users_cli, tokens_cli, jobs_cli, returns_cli, orders_cli, serve, demo_cli, shop_cli):
        app.cli.add_command(command)
