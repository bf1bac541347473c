"""Every job, declared once: its dotted name in ``jobs/``, queue, timeout and retries.

App code names a job from this table (``app.queue.enqueue``); the job's decorator in ``jobs/``
reads its own entry (``app.queue.job``), and a test checks every name resolves to its job. A job's
function name ends in ``_job``, so it never shares a name with the service function it calls.
"""
from __future__ import annotations

from dataclasses import dataclass

# "webhooks" (the retailer's outbound webhooks) is last and has its own worker process in the
# Procfile: a burst of deliveries to a slow receiver never waits ahead of issuing on "actions".
QUEUES = ("default", "intake", "imports", "actions", "maintenance", "webhooks")


@dataclass(frozen=True)
class JobSpec:
    """How one kind of job is queued."""

    name: str
    queue: str
    timeout: int
    retry_intervals: tuple[int, ...]

    def __post_init__(self):
        if self.queue not in QUEUES:
            raise ValueError(f"unknown queue {self.queue!r}")


# Retries of issuing jobs start after the call lease (120 s by default): a retry reconciles with
# Shopify first and must not find the lease still held by its own failed try.
SPECS = {spec.name: spec for spec in (
    # Four retries: with the first try, WEBHOOK_MAX_ATTEMPTS (5) attempts within about 21 minutes.
    JobSpec("jobs.intake.process_webhook_delivery_job", "intake", 120, (10, 60, 300, 900)),
    # A dispatcher's batch of stored deliveries; a failed or killed batch is left to the sweeper.
    JobSpec("jobs.intake.process_delivery_batch_job", "intake", 120, ()),
    # Confirming a shop's orders from the Admin API; the lease stops two from spending one bucket.
    JobSpec("jobs.intake.confirm_orders_job", "intake", 300, (30, 120)),
    JobSpec("jobs.intake.sweep_unprocessed_deliveries_job", "intake", 300, ()),
    # Items issued the old way (refundCreate, giftCardCreate, $0 draft orders) finish on it.
    JobSpec("jobs.actions.issue_item_job", "actions", 180, (150, 600, 1800)),
    JobSpec("jobs.actions.restock_item_job", "actions", 120, (60, 300, 1800)),
    JobSpec("jobs.actions.run_bulk_close_job", "actions", 3600, (30, 300)),
    JobSpec("jobs.actions.sweep_issuing_job", "maintenance", 300, ()),
    # A prepaid label: a retry reads the purchase back by its stored ids before buying again.
    JobSpec("jobs.labels.buy_label_job", "actions", 120, (30, 120, 600)),
    JobSpec("jobs.labels.void_unused_label_job", "actions", 120, (30, 120, 600)),
    JobSpec("jobs.labels.sweep_labels_job", "maintenance", 300, ()),
    JobSpec("jobs.rules.match_return_rules_job", "default", 120, (10, 60, 300)),
    JobSpec("jobs.rules.sweep_rules_returns_job", "maintenance", 300, ()),
    JobSpec("jobs.shopify_returns.plan_shopify_returns_job", "actions", 120, (30, 300, 1800)),
    JobSpec("jobs.shopify_returns.advance_shopify_return_job", "actions", 300, (150, 600, 1800)),
    JobSpec("jobs.shopify_returns.refresh_order_returns_job", "default", 120, (30, 300)),
    JobSpec("jobs.shopify_returns.follow_refunds_job", "maintenance", 300, ()),
    JobSpec("jobs.shopify_returns.sweep_shopify_returns_job", "maintenance", 300, ()),
    JobSpec("jobs.imports.run_import_job", "imports", 6 * 3600, (30, 120, 600)),
    JobSpec("jobs.imports.sync_webhooks_job", "default", 120, (30, 300, 1800)),
    JobSpec("jobs.imports.sync_products_job", "imports", 3600, (60, 300, 1800)),
    JobSpec("jobs.mail.send_outbox_email_job", "default", 60, (30, 300, 1800)),
    # One attempt each; the back-off is the row's (next_attempt_at), re-queued by the sweeper.
    JobSpec("jobs.outbound.deliver_outbound_job", "webhooks", 60, ()),
    JobSpec("jobs.outbound.sweep_outbound_deliveries_job", "webhooks", 120, ()),
    JobSpec("jobs.maintenance.purge_all_expired_orders_job", "maintenance", 3600, (60, 600)),
    JobSpec("jobs.maintenance.purge_account_orders_job", "maintenance", 3600, (60, 600)),
    JobSpec("jobs.maintenance.sweep_pending_photos_job", "maintenance", 600, (60,)),
    JobSpec("jobs.reconcile.reconcile_all_accounts_job", "maintenance", 300, ()),
    JobSpec("jobs.reconcile.fill_parcels_all_accounts_job", "maintenance", 300, ()),
    JobSpec("jobs.reconcile.reconcile_account_job", "imports", 1800, (60, 300)),
    JobSpec("jobs.reconcile.fill_account_parcels_job", "imports", 1800, (60, 300)),
)}
