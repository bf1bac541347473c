"""Rules Shopify applies at run time that the schema does not show (docs/reference/
shopify-returns.md §3, §5, §6.12–6.14), checked before a mutation's own resolver runs.

``guard(root)`` wraps the mutation root so every mutation passes ``check_directive`` first:
- ``@idempotent(key:)`` is supported only on mutations that document it (schema: directive
  @idempotent, "Only supported on mutations that explicitly document idempotency support"; §5
  lists them); Shopify refusing it elsewhere is unverified, the sandbox refuses it so an app
  cannot come to rely on a key Shopify would ignore.
- From API 2026-04 it is mandatory on ``refundCreate`` and ``inventoryAdjustQuantities``
  (shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-
  mutations; message and code: §6.12).
- The key may not be empty or blank (schema: directive @idempotent; §6.12).
- From 2026-04 ``InventoryChangeInput.changeFromQuantity`` must be given, even as null
  (schema: InventoryChangeInput; message and code: §6.12).
"""
from __future__ import annotations

from graphql import GraphQLError

from . import idempotency, issuing, shop_settings

# Served mutations whose descriptions document @idempotent (schema; §5).
IDEMPOTENT_SUPPORTED = {"refundCreate", "inventoryAdjustQuantities"}
# ... and where it is mandatory, from this API version on (§3, changelog).
IDEMPOTENT_REQUIRED = {"refundCreate": "2026-04", "inventoryAdjustQuantities": "2026-04"}
CHANGE_FROM_REQUIRED = "2026-04"  # changelog "making-changefromquantity-field-required"
MAX_TAG_LENGTH = 40  # §6.13: third-party sources only (unverified by Shopify)
PCD_MESSAGE = ("This app is not approved to subscribe to webhook topics containing protected "
               "customer data. See https://shopify.dev/docs/apps/launch/protected-customer-data "
               "for more details.")  # §3, §6.14
# Topics whose bodies hold customer data (§6.14: orders/*, refunds/create, fulfillments,
# draft orders reported by apps); whether returns/* need approval is unverified (not refused).
PCD_TOPIC_PREFIXES = ("ORDERS_", "REFUNDS_", "FULFILLMENTS_", "DRAFT_ORDERS_",
                      "ORDER_TRANSACTIONS_")


def _version(info) -> str:
    return info.context.get("api_version") or ""


def check_directive(info, field: str) -> None:
    """Refuse a mutation whose @idempotent use breaks Shopify's rules (a top-level error)."""
    key = idempotency.idempotency_key(info)
    if key is not None and field not in IDEMPOTENT_SUPPORTED:
        # unverified: the wording; Shopify's refusal itself is unverified (§5, §6.12).
        raise GraphQLError(f"The @idempotent directive is not supported for {field}.",
                           extensions={"code": "BAD_REQUEST"})
    if key is not None and not key.strip():
        # unverified wording; the rule: schema directive @idempotent ("a unique key").
        raise GraphQLError("The @idempotent directive's key must not be blank.",
                           extensions={"code": "BAD_REQUEST"})
    since = IDEMPOTENT_REQUIRED.get(field)
    if key is None and since and _version(info) >= since:
        raise GraphQLError("The @idempotent directive is required for this mutation but was "
                           "not provided.", extensions={"code": "BAD_REQUEST"})


def check_change_from_quantity(info, changes) -> None:
    """From 2026-04 every InventoryChangeInput names changeFromQuantity (null opts out)."""
    if _version(info) < CHANGE_FROM_REQUIRED:
        return
    if any("changeFromQuantity" not in (ch or {}) for ch in changes or ()):
        raise GraphQLError("InventoryChangeInput must include the following argument: "
                           "changeFromQuantity.",
                           extensions={"code": "INVALID_FIELD_ARGUMENTS"})


def tag_errors(tags, field: list) -> list:
    """userErrors for tags longer than 40 characters (§6.13; the message is a third party's)."""
    if any(len(str(t).strip()) > MAX_TAG_LENGTH for t in tags or ()):
        return [issuing.user_error(field, "Tags is too long (maximum is 40 characters)")]
    return []


def webhook_refusal(store, client_id: str, topic: str) -> dict | None:
    """The userError refusing a protected-data topic to an unapproved app, or None."""
    if topic.startswith(PCD_TOPIC_PREFIXES) and not shop_settings.pcd_approved(store, client_id):
        return issuing.user_error(["topic"], PCD_MESSAGE)  # unverified: the field path
    return None


class _Guarded:
    """The mutation root as graphql-core's default resolver sees it, each field checked first."""

    def __init__(self, root):
        self._root = root
        self.typename = getattr(root, "typename", "Mutation")

    def __getattr__(self, name):
        method = getattr(self._root, name)
        if not callable(method):
            return method

        def call(info, **args):
            check_directive(info, name)
            return method(info, **args)
        return call


def guard(root):
    """Wrap a mutation root so every mutation field passes ``check_directive`` first."""
    return _Guarded(root)
