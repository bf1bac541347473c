"""The second demo store of `make demo`: rules mode, with the spec's three example rules."""
import click
from sqlalchemy import select

from app.demo import DEMO_PASSWORD, _demo_shop, _Sandbox
from app.extensions import db
from app.models import Account, User
from app.services.accounts import sign_up

RULES_EMAIL = "admin@demo-rules.com"
RULES_STORE = "Demo Rules Co"
RULES_SHOP = "demo-rules.myshopify.com"


def connect_rules_demo(sandbox_url: str) -> User:
    """Make the login, the sandbox shop and the connection, seed the three example rules and
    switch customer choice off. Safe to run again."""
    from app.services import connect as connecting
    from app.services.imports import latest_run
    from app.services.rules import seed_rules_demo

    user = db.session.scalar(select(User).where(User.email == RULES_EMAIL))
    if user is None:
        user = sign_up(RULES_STORE, RULES_EMAIL, DEMO_PASSWORD)
    account = db.session.get(Account, user.account_id)
    sandbox = _Sandbox(sandbox_url)
    shop, token = _demo_shop(sandbox, RULES_SHOP, RULES_STORE, orders=80, seed=7)
    origin = f"{sandbox.url}/store/{RULES_SHOP}"
    run = latest_run(account.id)
    if not (account.is_connected and account.api_origin == origin and run is not None and run.status == "completed"):
        try:
            connecting.connect(account, RULES_SHOP, connecting.legacy_token_grant(token, shop["client_secret"]), origin)
        except connecting.ConnectError as error:
            raise click.ClickException(f"connecting the rules demo store failed: {error}") from None
    db.session.commit()
    seed_rules_demo(db.session.get(Account, user.account_id))
    db.session.commit()
    return db.session.get(User, user.id)
