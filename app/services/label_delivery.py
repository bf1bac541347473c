"""A bought label goes to Shopify as the return's reverse delivery (its tracking number and URL,
and the label file), once per reverse fulfillment order.

`reverseDeliveryCreateWithShipping` takes no idempotency key in 2026-04 (no `@idempotent` on it in
the schema), so it is a claimed ShopifyCall like the Returns API's other writes
(services/shopify_calls.py): the variables are committed before sending, and a call taken over
after its lease first reads the reverse fulfillment order's deliveries for the label's number.
"""
from __future__ import annotations

from sqlalchemy import select

from app.domain.issuing import CallState
from app.extensions import db
from app.models import Account, Return, ReturnLabel, ShopifyCall, ShopifyReturn
from app.services import shopify_calls as calls
from app.services.shopify_access import client_for
from app.shopify.reverse_deliveries import create_reverse_delivery, delivery_variables, reverse_orders

PHASE = "reverse_delivery"  # ShopifyCall.phase; its round is the reverse fulfillment order's place
SENT = "sent"
WAITING = "waiting"
IN_PROGRESS = "in progress"


def shopify_returns_of(return_id: int) -> list[ShopifyReturn]:
    """The Shopify returns made for this return (with their Shopify id), oldest first."""
    return list(db.session.scalars(select(ShopifyReturn).where(
        ShopifyReturn.return_id == return_id, ShopifyReturn.made_in_shopify.is_(False),
        ShopifyReturn.shopify_return_id.is_not(None)).order_by(ShopifyReturn.seq)))


def send_reverse_delivery(label: ReturnLabel) -> str:
    """Send the label to each reverse fulfillment order of the return's Shopify returns that does
    not carry its number yet. SENT when done (recorded on the label), WAITING while no Shopify
    return exists, IN_PROGRESS while another worker holds a call; a refusal is recorded on the
    label (and says why) instead of being sent again."""
    ret = db.session.get(Return, label.return_id)
    refs = shopify_returns_of(ret.id)
    if not refs:
        return WAITING
    account = db.session.get(Account, ret.account_id)
    client = client_for(account)
    refusals = []
    for ref in refs:
        ref_id, shopify_return_id = ref.id, ref.shopify_return_id
        db.session.commit()  # no transaction held across Shopify's answer
        orders = reverse_orders(client, shopify_return_id) or []
        for place, order in enumerate(orders, 1):
            if label.tracking_number in order.tracking_numbers:
                continue  # sent before (an answer lost, or recorded after a crash): read back, not resent
            outcome = _send_one(client, ref_id, shopify_return_id, place, order, label)
            if outcome == IN_PROGRESS:
                return IN_PROGRESS
            if outcome:
                refusals.append(outcome)
    label.shopify_delivery = (SENT if not refusals else "; ".join(refusals))[:255]
    db.session.commit()
    return SENT if not refusals else label.shopify_delivery


def _send_one(client, ref_id, shopify_return_id, place, order, label) -> str | None:
    """One claimed call; None when Shopify took it, the refusal's words when it refused."""
    call = _call_of(ref_id, place)
    reconcile = False
    if call is not None and call.state != CallState.CLAIMED.value:
        return None if call.state == CallState.DONE.value else call.error
    if call is not None:
        if not calls.due_for_takeover(call) or not calls.take_over(call):
            return IN_PROGRESS
        reconcile = True
    else:
        variables = delivery_variables(order, label.tracking_number, label.tracking_url,
                                       label.label_pdf_url or label.label_url)
        call = calls.claim(ref_id, PHASE, place, variables)
        if call is None:
            return IN_PROGRESS

    def find(_call):
        now = reverse_orders(client, shopify_return_id) or []
        return next((o.id for o in now if o.id == order.id and label.tracking_number in o.tracking_numbers), None)

    outcome = calls.run_call(call, send=lambda v: create_reverse_delivery(client, v), find=find, reconcile=reconcile)
    calls.finish(call, CallState(outcome.state), outcome.error)
    db.session.commit()
    return None if outcome.done else (outcome.error or "Shopify refused the reverse delivery")


def _call_of(ref_id: int, place: int):
    return db.session.scalar(select(ShopifyCall).where(
        ShopifyCall.shopify_return_ref_id == ref_id, ShopifyCall.phase == PHASE, ShopifyCall.round == place))
