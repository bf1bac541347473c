"""Per-shop settings a test changes through the control API, and per-app approvals.

- ``customer_accounts``: ``new`` (default) or ``classic``, served as
  ``Shop.customerAccountsV2.customerAccountsVersion``; store credit refunds need ``new``
  (docs/reference/shopify-returns.md §6.4, changelog "Refund to Store Credit").
- ``gift_card_limit``: the most a gift card made through the API may hold, in minor units of the
  shop currency (default 2,000.00; §6.5: Shopify's help centre via a third party, and the limit
  belongs to each shop as ``giftCardConfiguration.issueLimit``).
- ``primary_locale``: the shop's primary language (default ``en``), served by ``shopLocales`` as its
  one published locale (needs read_locales or read_markets_home; shopify.dev queries/shopLocales).
- ``refund_outcome``: what the payment provider does with refunds made from now on: ``success``
  (default), ``pending`` (settled later through the control API) or ``failure``
  (§6.10: OrderTransactionStatus; a refund can be pending for days or fail). One order can have
  its own outcome (``order_refund_outcome``), so a demo shop holds an order whose refunds stay
  pending beside one whose refunds fail.

Settings live in the shop's issuing state (created on first use), so state files written before
them still load. Apps lacking protected customer data approval are listed in the store state.
"""
from __future__ import annotations

import re

from . import issuing

DEFAULTS = {"customer_accounts": "new", "gift_card_limit": 200_000, "refund_outcome": "success",
            "primary_locale": "en"}
# A locale as Shopify names one: an ISO 639 language, optionally with a region or script.
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,4})?")
CHOICES = {"customer_accounts": ("new", "classic"),
           "refund_outcome": ("success", "pending", "failure")}


def settings(shop) -> dict:
    """The shop's settings (defaults filled in)."""
    current = issuing.state(shop).setdefault("settings", {})
    for key, value in DEFAULTS.items():
        current.setdefault(key, value)
    return current


def update(shop, **changes) -> dict:
    """Change settings; ``gift_card_limit`` is given in major units (e.g. "2000.00")."""
    current = settings(shop)
    for key, value in changes.items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown setting {key}")
        if value is None:
            continue
        if key == "gift_card_limit":
            cents = round(float(value) * 100)
            if cents <= 0:
                raise ValueError("gift_card_limit must be greater than 0")
            current[key] = cents
        elif key == "primary_locale":
            if not isinstance(value, str) or not _LOCALE.fullmatch(value):
                raise ValueError("primary_locale must be a locale code such as fr or pt-BR")
            current[key] = value
        elif value not in CHOICES[key]:
            raise ValueError(f"{key} must be one of {', '.join(CHOICES[key])}")
        else:
            current[key] = value
    return current


def order_refund_outcome(shop, order_id: int) -> str:
    """What the payment provider does with this order's refunds: its own outcome, else the shop's."""
    own = issuing.state(shop).get("order_refund_outcomes", {}).get(int(order_id))
    return own or settings(shop)["refund_outcome"]


def set_order_refund_outcome(shop, order_id: int, outcome: str | None) -> None:
    """Give one order its own refund outcome (None: the shop's setting again)."""
    if outcome is not None and outcome not in CHOICES["refund_outcome"]:
        raise ValueError(f"refund_outcome must be one of {', '.join(CHOICES['refund_outcome'])}")
    own = issuing.state(shop).setdefault("order_refund_outcomes", {})
    if outcome is None:
        own.pop(int(order_id), None)
    else:
        own[int(order_id)] = outcome


def store_credit_possible(shop, order) -> bool:
    """Store credit refunds need a customer on the order and new customer accounts (§6.4)."""
    return order.customer_id is not None and settings(shop)["customer_accounts"] == "new"


def pcd_approved(store, client_id: str) -> bool:
    """Has the app protected customer data approval? (default yes, so the demo works)."""
    return client_id not in store.state.get("pcd_unapproved", ())


def set_pcd_approved(store, client_id: str, approved: bool) -> None:
    """Grant or withdraw an app's protected customer data approval."""
    unapproved = set(store.state.get("pcd_unapproved", ()))
    (unapproved.discard if approved else unapproved.add)(client_id)
    store.state["pcd_unapproved"] = sorted(unapproved)


# How a placed order was paid: payment kind -> (gateway, Order.financial). Card payments are
# captured at checkout (a SALE); "manual" is marked paid by the merchant; cash on delivery is a
# pending SALE; "authorized" was only authorised, never captured (docs/reference/
# shopify-returns.md §2: the last three get no suggested refund transactions).
PAYMENTS = {"card": ("shopify_payments", "PAID"), "manual": ("manual", "PAID"),
            "cod": ("Cash on Delivery (COD)", "PENDING"),
            "authorized": ("shopify_payments", "AUTHORIZED")}
NO_SUGGESTION_GATEWAYS = {"manual", "Cash on Delivery (COD)"}
