"""`flask demo seed`: a demo retailer with a login and a few orders, safe to run again; and
`flask demo run` (`make demo`): the app beside the sandbox, its demo stores connected to it."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import click
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import make_server

from app.config import INSTANCE_DIR
from app.demo.gate import SetupGate
from app.demo.returns import describe
from app.demo.sandbox import DEMO_SHOP, SandboxControl
from app.demo.seed import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from app.demo.stores import RULES_EMAIL, RULES_STORE, connect_demo, connect_rules_demo
from app.demo.labels import connect_demo_labels
from app.demo.tracking import connect_demo_carrier
from app.extensions import db
from app.models import Account, Order
from app.queue.schedule import PERIODIC, InProcessScheduler, Periodic

demo_cli = AppGroup("demo", help="The demo store for `make demo`.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Seed the demo store and print where to click."""
    user = seed_demo()
    click.echo(f"Demo store: {user.account.name}")
    click.echo(f"  Dashboard: http://127.0.0.1:5000/dashboard/   login {DEMO_EMAIL} / {DEMO_PASSWORD}")


def _echo_orders(rows: list[tuple[str, Order]]) -> None:
    width = max((len(order.email or "") for _, order in rows), default=0) + 2
    for label, order in rows:
        click.echo(f"                {order.name:<7} {order.email or '':<{width}}{label}")


def _echo_returns(base: str, returns) -> None:
    if not returns:
        return
    click.echo(f"  Returns:    {base}/dashboard/returns   made already, each with its Shopify return:")
    for ret in returns:
        click.echo(f"                {ret.rma_number:<9} {ret.order_name:<7} {describe(ret)}")


def demo_periodic():
    """The periodic jobs, with pending refunds followed every minute (every 15 otherwise), so a
    refund settled on the sandbox page shows in Boomerang soon."""
    return [Periodic(p.job, "* * * * *") if p.job == "jobs.shopify_returns.follow_refunds_job" else p
            for p in PERIODIC]


@demo_cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--sandbox-port", default=8001, type=int)
def run_command(host: str, port: int, sandbox_port: int) -> None:
    """Start the sandbox beside the app, connect the demo store to it, and serve until Ctrl-C."""
    app = current_app._get_current_object()
    base = f"http://{host}:{port}"
    app.config["PUBLIC_BASE_URL"] = base  # where the sandbox delivers webhooks
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    sandbox = SandboxControl(sandbox_url)
    process = None
    # `kill` (SIGTERM) stops the demo like Ctrl-C does, so the sandbox is stopped with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if not sandbox.answers():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        log = open(INSTANCE_DIR / "sandbox.log", "ab")
        # Webhooks a moment after the change, as Shopify sends them: with none, the app's job would
        # still be recording Shopify's answer when the webhook is stored, and SQLite refuses the
        # later of two writes that overlap like that (the job's record waits for its lease then).
        env = {"SANDBOX_WEBHOOK_DELAY": "2", **os.environ,
               "SANDBOX_STATE_FILE": os.environ.get("SANDBOX_STATE_FILE") or str(INSTANCE_DIR / "sandbox.pkl")}
        env.pop("FLASK_APP", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "sandbox", "run", "--host", "127.0.0.1",
             "--port", str(sandbox_port)], env=env, stdout=log, stderr=subprocess.STDOUT,
            # Started from a background shell job, SIGINT arrives ignored: give it back, so the
            # sandbox saves its state when asked to stop.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    server = None
    try:
        sandbox.wait()
        # Serve before the demo returns are made: the sandbox sends their webhooks at once, and
        # Shopify deletes a subscription whose deliveries fail eight times in a row. Request logs
        # wait until the instructions are printed.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        gate = SetupGate(app)
        try:
            server = make_server(host, port, gate, threaded=True)
        except OSError as error:
            raise click.ClickException(f"cannot serve on {base}: {error}") from None
        threading.Thread(target=server.serve_forever, name="demo-server", daemon=True).start()
        user, facts = connect_demo(sandbox_url)
        rules_user, rules_facts = connect_rules_demo(sandbox_url)
        carrier_lines = connect_demo_carrier(sandbox, [db.session.get(Account, user.account_id),
                                                       db.session.get(Account, rules_user.account_id)],
                                             first_scan=db.session.get(Account, user.account_id))
        carrier_lines += connect_demo_labels(sandbox, db.session.get(Account, user.account_id))
        db.session.commit()
        gate.open_and_replay()
        click.echo("")
        click.echo(f"Boomerang demo: {user.account.name}   (customer choice; credit notes are store credit)")
        click.echo(f"  Dashboard:  {base}/dashboard/   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
        click.echo(f"  Orders:     {base}/dashboard/orders   (initial import {facts['import']}; "
                   f"{facts['stored']} orders stored, the shop has {facts['orders']})")
        click.echo(f"  Sandbox:    {sandbox_url}/   (the fake Shopify: {DEMO_SHOP}); under \"Shopify returns\"")
        click.echo("              each return Boomerang made there: its items, dispositions, exchanges, refunds.")
        click.echo("  Try it:     on the sandbox page, \"Place an order\" for the demo shop; Shopify's")
        click.echo("              orders/create webhook reaches Boomerang and the order is in the")
        click.echo("              dashboard's orders list within seconds.")
        click.echo(f"  Portal:     {base}/r/{user.account.slug}   (what shoppers see); orders to try:")
        _echo_orders(facts["picks"] + facts["specials"])
        click.echo("              then, as staff, Close the return (Returns → the return): Boomerang processes its")
        click.echo("              Shopify return (the refund, credit or exchange; the units restocked) and closes it.")
        click.echo("  Refunds:    a pending refund marked paid (or failed) on the sandbox page shows in Boomerang")
        click.echo("              within a minute.")
        _echo_returns(base, facts["returns"])
        click.echo(f"  Outbox:     {base}/dashboard/outbox   (emails the demo would have sent)")
        click.echo("")
        click.echo(f"Second demo store: {RULES_STORE}   (rules mode; classic customer accounts, so credit notes "
                   "are gift cards)")
        click.echo(f"  Dashboard:  {base}/dashboard/rules   login {RULES_EMAIL} / {DEMO_PASSWORD}")
        click.echo("              the spec's three example rules decide each returned item; a return's page")
        click.echo("              shows which rule fired and what it saw. Process a return to issue it.")
        click.echo(f"  Portal:     {base}/r/{rules_user.account.slug}   orders to try:")
        _echo_orders(rules_facts["picks"] + rules_facts["specials"])
        _echo_returns(base, rules_facts["returns"])
        for line in carrier_lines:
            click.echo(line)
        click.echo(f"Serving on {base} (Ctrl-C stops the app and the sandbox)")
        logging.getLogger("werkzeug").setLevel(logging.INFO)
        if app.config.get("SCHEDULER_ENABLED") and not hasattr(app.extensions["jobs"], "queue"):
            InProcessScheduler(app, demo_periodic()).start()
        while True:
            time.sleep(3600)  # Ctrl-C or `kill` ends it
    finally:
        if server is not None:
            server.shutdown()
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # the sandbox saves its state on the way out
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
