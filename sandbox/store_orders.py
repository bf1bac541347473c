"""The store's orders: seeded, placed one at a time, changed; each change delivered as Shopify's
webhook would be. A part of ``Store`` (sandbox/store.py), which holds the state and the lock."""
from __future__ import annotations

import random

from . import seed as seeding
from .errors import SandboxError
from .fulfillments import fulfill_remaining, tell
from .models import Line, RefundRec, Shop
from .rest_payload import order_payload
from .shop_settings import PAYMENTS


class ShopOrders:
    """The order operations of ``Store``: they use its ``state``, ``lock``, ``clock``,
    ``webhooks``, ``get_shop``, ``next_seq`` and ``search_lag``."""

    def _index(self, shop: Shop, orders) -> None:
        for o in orders:
            shop.orders[o.id] = o
        keys = [(o.created_at, o.id) for o in orders]
        if shop.order_list and keys and keys[0] < (shop.order_list[-1].created_at,
                                                   shop.order_list[-1].id):
            shop.order_list.extend(orders)
            shop.order_list.sort(key=lambda o: (o.created_at, o.id))
        else:
            shop.order_list.extend(orders)

    def seed(self, shop: str, orders: int = 100, days: float = 30, seed: int = 1,
             end: float | None = None) -> int:
        """Generate ``orders`` orders over the last ``days`` days (no webhooks)."""
        shop_obj = self.get_shop(shop)
        if orders < 0 or days <= 0:
            raise SandboxError("orders must be >= 0 and days > 0")
        with self.lock:
            new = seeding.seed_orders(shop_obj, int(orders), float(days), int(seed),
                                      end if end is not None else self.clock.now())
            self._index(shop_obj, new)
        return len(new)

    def place_order(self, shop: str, seed: int | None = None, email: str | None = None,
                    variant_ids=None, quantity: int = 1, discount_code: str | None = None,
                    tags=None, country: str | None = None, created_at: float | None = None,
                    payment: str = "card", guest: bool = False, paid_in: str | None = None):
        """Create one order now and deliver ``orders/create`` to subscribers.

        ``payment``: card (captured), manual, cod or authorized (shop_settings.PAYMENTS);
        ``guest``: no customer on the order (the email stays); ``paid_in``: the presentment
        currency ("shop" for the shop's own, "customer" for the buyer's; else either, seeded)."""
        if payment not in PAYMENTS:
            raise SandboxError(f"payment must be one of {', '.join(PAYMENTS)}")
        shop_obj = self.get_shop(shop)
        rng = random.Random(seed if seed is not None else self.next_seq())
        now = self.clock.now() if created_at is None else created_at
        with self.lock:
            cid = shop_obj.id * 10_000_000 + 1_000_000 + len(shop_obj.customers)
            cust = seeding.make_customer(rng, cid, now)
            if email:
                cust.email = email.strip().lower()
            if country:
                match = [c for c in seeding.COUNTRIES if c[0] == country.upper()]
                if not match:
                    raise SandboxError(f"unknown country {country}")
                c = match[0]
                a = cust.address
                a.country_code, a.country, a.province, a.province_code = c[0], c[1], c[2], c[3]
                a.city, a.zip, cust.currency = c[4], c[5], c[6]
            shop_obj.customers[cust.id] = cust
            oid = shop_obj.next_id
            shop_obj.next_id += 1
            order = seeding.make_order(rng, shop_obj, oid, shop_obj.next_number, now, cust,
                                       sorted(shop_obj.variants), shop_obj.currency)
            shop_obj.next_number += 1
            if variant_ids:
                order.lines = []
                for idx, vid in enumerate(variant_ids):
                    v = shop_obj.variants.get(int(vid))
                    if v is None:
                        raise SandboxError(f"unknown variant {vid}")
                    order.lines.append(Line(id=oid * 16 + idx, variant_id=v.id,
                                            product_id=v.product_id, quantity=int(quantity),
                                            price=v.price, discount=0, fulfilled=0))
            if paid_in is not None:
                order.currency = shop_obj.currency if paid_in == "shop" else cust.currency
                order.rate = seeding.RATES.get(order.currency, 1.0) / seeding.RATES.get(shop_obj.currency, 1.0)
            if discount_code is not None:
                order.discount_code = discount_code or None
                pct = seeding.discount_percent(discount_code) if discount_code else 0
                order.discount_pct = pct
                for ln in order.lines:
                    ln.discount = ln.price * ln.quantity * pct // 100
            if tags is not None:
                order.tags = list(tags)
            order.gateway, order.financial = PAYMENTS[payment]
            if guest:
                del shop_obj.customers[cust.id]
                order.customer_id = None
            order.search_at = now + self.search_lag(shop_obj)
            self._index(shop_obj, [order])
        self._emit_order(shop_obj, order, "orders/create")
        return order

    def get_order(self, shop: str, order_id) -> object:
        """Return an order by numeric id or gid, or raise SandboxError(404)."""
        shop_obj = self.get_shop(shop)
        oid = int(str(order_id).rsplit("/", 1)[-1])
        order = shop_obj.orders.get(oid)
        if order is None:
            raise SandboxError(f"unknown order {order_id}", 404)
        return order

    def update_order(self, shop: str, order_id, tags=None, note=None, cancel: bool = False,
                     fulfill: bool = False, refund_line: int | None = None,
                     refund_quantity: int = 1, emit: bool = True):
        """Change an order and deliver ``orders/updated``.

        ``fulfill`` ships every line; ``refund_line`` (index) refunds that many units.
        """
        shop_obj = self.get_shop(shop)
        order = self.get_order(shop, order_id)
        now = self.clock.now()
        with self.lock:
            prev_updated = order.updated_at
            searchable = (order.updated_at, list(order.tags))
            if order.search_at is not None and now < order.search_at:
                # A second write inside the lag window: the index still has the older copy.
                searchable = order.search_prev_updated
            if tags is not None:
                order.tags = [t.strip() for t in (tags.split(",") if isinstance(tags, str)
                                                   else tags) if t.strip()]
            if note is not None:
                order.note = note
            shipped = None
            if fulfill:  # what is left to ship goes out as one more fulfillment
                shipped = fulfill_remaining(shop_obj, order, now)
            if cancel and order.cancelled_at is None:
                order.cancelled_at, order.cancel_reason = now, "CUSTOMER"
                order.financial = "VOIDED"
            if refund_line is not None:
                ln = order.lines[int(refund_line)]
                qty = int(refund_quantity)
                amount = (ln.price * ln.quantity - ln.discount) * qty // ln.quantity
                order.refunds.append(RefundRec(
                    id=order.id * 4 + 1 + len(order.refunds), created_at=now,
                    lines=[(int(refund_line), qty, "RETURN")], amount=amount, note=None,
                    transaction_id=order.id * 8 + 2 + len(order.refunds)))
            order.updated_at = max(now, prev_updated + 0.001)
            # The search index keeps showing the previous version until the lag passes.
            order.search_prev_updated = searchable
            order.search_at = now + self.search_lag(shop_obj)
        if emit:
            self._emit_order(shop_obj, order, "orders/updated")
            if shipped is not None:
                tell(self, shop_obj, order, shipped, "fulfillments/create")
        return order

    def _emit_order(self, shop: Shop, order, topic: str) -> None:
        self.webhooks.emit(shop, topic, lambda version: order_payload(self, shop, order))
