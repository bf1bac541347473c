"""Jobs that keep every returned unit in a Shopify return and issue what it carries (DESIGN §2.9).

App code queues them by name (``app.queue``); each takes ids and is safe to run twice, at once on
several workers, and after a crash (app/services/shopify_returns.py says how)."""
from app.extensions import db
from app.models import Account
from app.queue import enqueue, job
from app.services import return_settlement, shopify_returns


@job
def plan_shopify_returns_job(return_id: int) -> str:
    """Plan a return's unplaced items into a new Shopify return and queue its creation."""
    ref_id = shopify_returns.plan_shopify_returns(return_id)
    return "nothing to plan" if ref_id is None else f"planned {ref_id}"


@job
def advance_shopify_return_job(ref_id: int) -> str:
    """Do what one Shopify return needs next (create, process, dispose, close, cancel)."""
    return shopify_returns.advance(ref_id)


@job
def refresh_order_returns_job(account_id: int, shopify_order_id: int) -> str:
    """After a returns/* webhook: Shopify's returnable quantities and merchant-made returns."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_connected:
        return "not connected"
    return f"{shopify_returns.refresh_order_returns(account, shopify_order_id)} made in Shopify"


@job
def follow_refunds_job() -> int:
    """Read pending refunds again; record the ones that became final."""
    return return_settlement.follow_refunds()


@job
def sweep_shopify_returns_job() -> int:
    """Queue the Shopify returns a lost enqueue or a dead worker left with work to do."""
    ref_ids, return_ids = shopify_returns.refs_to_sweep(), shopify_returns.returns_to_plan()
    db.session.remove()  # hold no transaction while the jobs run
    for ref_id in ref_ids:
        enqueue("jobs.shopify_returns.advance_shopify_return_job", ref_id)
    for return_id in return_ids:
        enqueue("jobs.shopify_returns.plan_shopify_returns_job", return_id)
    return len(ref_ids) + len(return_ids)
