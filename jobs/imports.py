"""Store connection jobs: the initial order import, the webhook subscriptions and the product facts."""
from app.queue import job
from app.services import imports, product_facts, webhook_subscriptions


@job
def run_import_job(run_id: int) -> str:
    """Import (or continue importing) one ImportRun; safe to run twice."""
    return imports.run_import(run_id)


@job
def sync_webhooks_job(account_id: int) -> dict:
    """One subscription per topic at this deployment's webhook address; safe to run twice."""
    return webhook_subscriptions.sync_webhooks(account_id)


@job
def sync_products_job(account_id: int) -> int:
    """Store every product's facts for the rules (type, tags, collections); safe to run twice."""
    return product_facts.sync_products(account_id)
