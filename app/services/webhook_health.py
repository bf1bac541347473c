"""Whether Shopify's webhooks reach this store's account, and what to do when they do not.

Five signals, read together (none alone is proof, each points at a cause):
- deliveries from the shop refused for a bad signature (the secret Boomerang holds is not the
  app's: the store was connected with another app's secret, or the secret was rotated);
- deliveries set aside as stale (``intake.check_fresh``): triggered too long ago or ahead of this
  server's clock (the clock is off, or someone replays old deliveries);
- the subscription check (``webhook_subscriptions.sync_webhooks``, at connect and then hourly):
  it could not run, or found subscriptions gone — Shopify deletes a subscription made through the
  API after 8 consecutive failed deliveries (https://shopify.dev/changelog/updates-to-webhook-retry-mechanism,
  docs/reference/shopify-api.md §1.3; the sandbox does the same: sandbox/webhooks.py);
- the age of the last delivery against orders placed since: orders came, webhooks did not;
- orders the reconciliation found that no webhook brought (recorded by ``services.reconcile``).
Deliveries whose every attempt failed (dead: ``dead_deliveries``, listed with their errors on the
Dead deliveries page) are counted beside them, and those still waiting an hour after they
arrived, never tried to the end (the workers do not run).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select, update

from app.domain.formatting import format_datetime
from app.extensions import db
from app.models import Account, Order, PendingDelivery, WebhookDelivery
from app.services.dead_deliveries import count_dead, is_dead, max_attempts

# A signal this old is history, not trouble.
RECENT = timedelta(hours=24)
# How long a webhook may take to come after its order: Shopify sends within seconds; minutes
# allow for its retries and ours.
GRACE = timedelta(minutes=10)
# Not processed after this long, yet not dead: nothing has been trying (the sweeper queues a
# waiting delivery every 2 minutes, and a delivery is dead within about 21 minutes of attempts).
STUCK_AFTER = timedelta(hours=1)
ORDER_TOPICS = ("orders/create", "orders/updated")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Problem:
    """One sign of trouble: what was seen, and what the retailer can do about it."""

    key: str
    what: str
    todo: str
    # The dashboard page (endpoint) where admins act on it, if there is one.
    link: str | None = None
    link_text: str | None = None


@dataclass
class WebhookHealth:
    """The webhook state of one account, for the store page and the overview."""

    connected: bool
    last_delivery_at: datetime | None = None
    dead: int = 0
    stuck: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def trouble(self) -> bool:
        """Something the retailer should act on."""
        return bool(self.problems)


def _recent(moment: datetime | None, now: datetime, since: datetime | None) -> bool:
    """Within RECENT, and after the store was last connected (a reconnect starts afresh)."""
    return moment is not None and moment > now - RECENT and (since is None or moment >= since)




def last_delivery_at(account_id: int) -> datetime | None:
    """When the latest delivery from the shop was received (one probe of its index)."""
    return db.session.scalar(select(WebhookDelivery.received_at).where(WebhookDelivery.account_id == account_id)
                             .order_by(WebhookDelivery.received_at.desc()).limit(1))


def stuck_deliveries(account_id: int, now: datetime | None = None) -> int:
    """Deliveries stored more than STUCK_AFTER ago, still not processed and not dead."""
    now = now or _utcnow()
    return db.session.scalar(select(func.count()).select_from(PendingDelivery).join(PendingDelivery.delivery).where(
        WebhookDelivery.account_id == account_id, ~is_dead(),
        WebhookDelivery.received_at < now - STUCK_AFTER)) or 0


def _orders_without_webhook(account: Account, last: datetime | None, now: datetime) -> int:
    """Orders placed after the last delivery (and after connecting), early enough that their
    webhook should have come: they reached us through the reconciliation alone."""
    since = max(moment for moment in (last, account.connected_at, now - RECENT) if moment is not None)
    return db.session.scalar(select(func.count()).select_from(Order).where(
        Order.account_id == account.id, Order.created_at > since + GRACE, Order.created_at < now - GRACE)) or 0


def webhook_health(account: Account, now: datetime | None = None) -> WebhookHealth:
    """The signals above for one account, each with what to do; nothing for a store never connected."""
    if not account.shop_domain or account.connected_at is None:
        return WebhookHealth(connected=False)
    now = now or _utcnow()
    since = account.connected_at
    last = last_delivery_at(account.id)
    health = WebhookHealth(connected=account.is_connected, last_delivery_at=last,
                           dead=count_dead(account.id), stuck=stuck_deliveries(account.id, now))
    problems = health.problems
    if _recent(account.webhooks_refused_at, now, since):
        count = account.webhooks_refused_count or 1
        problems.append(Problem(
            "refused",
            f"Boomerang refused {count} deliver{'ies' if count != 1 else 'y'} from {account.shop_domain} because "
            f"{'their signatures do' if count != 1 else 'its signature does'} not match the app's secret "
            f"(the last at {format_datetime(account.webhooks_refused_at, 'utc')}).",
            "The secret Boomerang holds is not the one Shopify signs with: the store was connected with "
            "another app's secret, or the secret was rotated. Connect the store again (Store page) with the app's "
            "current API secret key (or client secret)."))
    if _recent(account.webhooks_stale_at, now, since) and account.webhooks_stale_count:
        count = account.webhooks_stale_count
        problems.append(Problem(
            "stale",
            f"Boomerang set aside {count} signed deliver{'ies' if count != 1 else 'y'} from {account.shop_domain} "
            f"that Shopify triggered too long ago or ahead of this server's clock "
            f"(the last at {format_datetime(account.webhooks_stale_at, 'utc')}).",
            "Nothing is lost: the sync reads the store's orders every 10 minutes. Check that this server's clock "
            "is right (it should follow NTP). If it is, someone may be sending old deliveries again."))
    if account.webhooks_error:
        problems.append(Problem(
            "subscriptions",
            f"Boomerang could not check the store's webhook subscriptions: {account.webhooks_error}",
            "New orders still arrive through the sync every 10 minutes. Make sure the app keeps its "
            "permissions, then connect the store again (Store page); Boomerang checks every hour."))
    if _recent(account.webhooks_recreated_at, now, since):
        problems.append(Problem(
            "recreated",
            f"Shopify had removed the subscription{'s' if ',' in (account.webhooks_recreated or '') else ''} for "
            f"{account.webhooks_recreated}; Boomerang made "
            f"{'them' if ',' in (account.webhooks_recreated or '') else 'it'} "
            f"again at {format_datetime(account.webhooks_recreated_at, 'utc')}.",
            "Shopify removes a subscription after 8 deliveries in a row fail. Check that this server is "
            "reachable from the internet at its webhook address and answers within 5 seconds."))
    missing = _orders_without_webhook(account, last, now) if account.is_connected else 0
    if missing:
        problems.append(Problem(
            "silent",
            (f"No webhook has arrived since {format_datetime(last, 'utc')}" if last else "No webhook has arrived yet")
            + f", but {missing} order{'s were' if missing != 1 else ' was'} placed since.",
            "Those orders reached Boomerang only through the sync every 10 minutes. Check the "
            "signature and subscription messages here; if there are none, check that Shopify can reach "
            "this server's webhook address."))
    if _recent(account.webhooks_missed_at, now, since) and account.webhooks_missed_count:
        count = account.webhooks_missed_count
        problems.append(Problem(
            "missed",
            f"The sync found {count} order{'s' if count != 1 else ''} that no webhook brought "
            f"(the last sweep at {format_datetime(account.webhooks_missed_at, 'utc')}).",
            "Orders still arrive, up to 10 minutes late. Look at the other messages here for the cause."))
    if health.dead:
        problems.append(Problem(
            "dead",
            f"{health.dead} deliver{'ies' if health.dead != 1 else 'y'} from Shopify could not be processed in "
            f"{max_attempts()} attempts.",
            "Boomerang no longer retries them. See the error of each, fix the cause (a disconnected store, "
            "a worker that stopped), then retry them.", "dashboard.dead_deliveries_page", "Dead deliveries"))
    if health.stuck:
        problems.append(Problem(
            "stuck",
            f"{health.stuck} deliver{'ies have' if health.stuck != 1 else 'y has'} waited over an hour "
            f"without being processed.",
            "Check that the worker processes and Redis run: Boomerang processes them as soon as they do."))
    return health


def _bump(count_column, at_column, now: datetime, by: int):
    """Add to a run of signals, or start a new run when the last one is older than RECENT."""
    return case((at_column.is_(None) | (at_column < now - RECENT), by), else_=count_column + by)


def _record_run(count_column, at_column, account_id: int, by: int, now: datetime | None) -> None:
    now = now or _utcnow()
    db.session.execute(update(Account).where(Account.id == account_id).values(
        {count_column: _bump(count_column, at_column, now, by), at_column: now}))


def record_refused(account_id: int, refusals: int = 1, now: datetime | None = None) -> None:
    """Note deliveries refused for a bad signature from a known shop (committed)."""
    _record_run(Account.webhooks_refused_count, Account.webhooks_refused_at, account_id, refusals, now)
    db.session.commit()


def record_stale(account_id: int, deliveries: int = 1, now: datetime | None = None) -> None:
    """Note signed deliveries set aside as stale (committed)."""
    _record_run(Account.webhooks_stale_count, Account.webhooks_stale_at, account_id, deliveries, now)
    db.session.commit()


def record_missed(account_id: int, orders: int, now: datetime | None = None) -> None:
    """Note orders the reconciliation stored that no webhook had brought (the caller commits)."""
    _record_run(Account.webhooks_missed_count, Account.webhooks_missed_at, account_id, orders, now)
