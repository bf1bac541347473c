"""What the dashboard says about a return in Shopify: its Shopify returns, and where each item
stands there (the money, the credit, the exchange, the units).

Read-only: everything here comes from the rows the issuing services keep (``ShopifyReturn``,
``ShopifyCall``, the item's issuing columns); nothing asks Shopify.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.dashboard.scope import scoped
from app.domain.formatting import format_date, format_money
from app.domain.issuing import CreditMethod, IssuingMethod, Phase, RefundState, ShopifyReturnStatus
from app.domain.vocabulary import ItemResolution, Option, RestockState
from app.extensions import db
from app.models import Order, Return, ReturnItem, ShopifyCall, ShopifyReturn

LEGACY_NOTE = "Issued before Boomerang recorded returns in Shopify"
AUTHORISED_ONLY = ("The payment for this order is only authorised, not captured: a refund cannot move money "
                   "until it is captured in Shopify.")


@dataclass(frozen=True)
class Fact:
    """One line under an item: what it says, and how it reads (``error``, ``muted`` or plain)."""

    text: str
    tone: str = ""


@dataclass
class ShopifyReturnRow:
    """One Shopify return as the return page lists it."""

    name: str
    pending: bool
    status: str
    status_label: str
    failure_reason: str | None
    items: list[str] = field(default_factory=list)


def payment_only_authorised(ret: Return) -> bool:
    """Whether the order's payment was only authorised (Shopify's AUTHORIZED; stored lowercase
    from the order, so compared without case)."""
    return (ret.payment_status or "").upper() == "AUTHORIZED"


def shopify_returns_of(ret: Return) -> list[ShopifyReturnRow]:
    """The return's Shopify returns, first made first, each with the items it holds."""
    refs = db.session.scalars(scoped(ShopifyReturn).where(ShopifyReturn.return_id == ret.id)
                              .order_by(ShopifyReturn.seq, ShopifyReturn.id)).all()
    rows = []
    for ref in refs:
        pending = ref.status == ShopifyReturnStatus.PENDING
        rows.append(ShopifyReturnRow(
            name=ref.name or ("being created" if pending else "not named"), pending=pending and not ref.name,
            status=ref.status, status_label=ShopifyReturnStatus.label_of(ref.status, ref.status.title()),
            failure_reason=ref.failure_reason,
            items=[f"{i.quantity} × {i.title}" + (f" ({i.variant_title})" if i.variant_title else "")
                   for i in ret.items if i.shopify_return_ref_id == ref.id]))
    return rows


def made_in_shopify(order: Order) -> list[dict]:
    """Returns made in Shopify's admin or self-serve returns for this order: name, status and the
    units of each line (as last read from Shopify)."""
    refs = db.session.scalars(scoped(ShopifyReturn).where(
        ShopifyReturn.made_in_shopify.is_(True), ShopifyReturn.shopify_order_id == order.shopify_order_id)
        .order_by(ShopifyReturn.created_at, ShopifyReturn.id)).all()
    titles = {line.shopify_line_id: line.title + (f" ({line.variant_title})" if line.variant_title else "")
              for line in order.lines}
    out = []
    for ref in refs:
        lines = []
        for line in ref.lines or ():
            if not isinstance(line, dict):
                continue
            line_id = line.get("line_item_id")
            title = titles.get(line_id) or (f"Line {line_id}" if line_id else "A line Shopify did not name")
            lines.append({"title": title, "quantity": _count(line.get("quantity")),
                          "processed": _count(line.get("processed"))})
        out.append({"name": ref.name or "—",
                    "status_label": ShopifyReturnStatus.label_of(ref.status, ref.status.title()),
                    "status": ref.status, "lines": lines})
    return out


def _count(value) -> int:
    """A stored unit count (JSON, as last read): a non-negative int, or 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def item_facts(ret: Return) -> dict[int, list[Fact]]:
    """Per item id: where the item stands in Shopify, in the order staff read it."""
    calls = _calls_of(ret)
    return {item.id: (_legacy_facts(item, ret) if item.issuing_method == IssuingMethod.LEGACY.value
                      else _facts(item, ret, calls)) for item in ret.items}


def _facts(item: ReturnItem, ret: Return, calls: dict) -> list[Fact]:
    out = []
    if item.option == Option.REFUND:
        out += _refund_facts(item, ret.currency)
    elif item.option == Option.CREDIT:
        out += _credit_facts(item, ret.currency)
    elif item.option == Option.EXCHANGE and item.exchange_order_name:
        if item.exchange_line_ids or item.exchange_order_id == ret.shopify_order_id:
            out.append(Fact(f"Exchange confirmed on the original order {item.exchange_order_name}"))
        else:
            out.append(Fact(f"Exchange order {item.exchange_order_name} (a separate $0 order)"))
    units = _units(item, calls)
    if units:
        out.append(units)
    return out


def _refund_facts(item: ReturnItem, currency: str) -> list[Fact]:
    state = item.refund_state
    amount = format_money(item.issued_amount, currency) if item.issued_amount is not None else None
    if state == RefundState.PAID.value:
        return [Fact(f"Refund paid{': ' + amount if amount else ''}")]
    if state == RefundState.PENDING.value:
        return [Fact(f"Refund{' of ' + amount if amount else ''} pending at the payment provider")]
    if state == RefundState.FAILED.value:
        return [Fact(f"Refund failed at the payment provider ({item.refund_error or 'no reason given'})")]
    if state == RefundState.OUTSIDE.value and item.outside_refund_amount is not None:
        when = f", paid {format_date(item.outside_refund_at)}" if item.outside_refund_at else ""
        who = f", recorded by {item.outside_refund_by}" if item.outside_refund_by else ""
        return [Fact(f"Refunded outside Shopify: {format_money(item.outside_refund_amount, currency)} "
                     f"({item.outside_refund_method}){when}{who}")]
    if item.shopify_refund_id:  # issued, its money not followed (no state recorded)
        return [Fact(f"Refund {item.shopify_refund_id}{': ' + amount if amount else ''}")]
    return []


def _credit_facts(item: ReturnItem, currency: str) -> list[Fact]:
    value = format_money(item.issued_amount, currency) if item.issued_amount is not None else None
    if item.credit_method == CreditMethod.STORE_CREDIT.value:
        return [Fact(f"Store credit{': ' + value if value else ''}")]
    if item.gift_card_last_characters:
        return [Fact(f"Gift card ending {item.gift_card_last_characters}{' (' + value + ')' if value else ''}")]
    if item.credit_method == CreditMethod.GIFT_CARD.value:
        return [Fact("Gift card: being made", "muted")]
    return []


def _calls_of(ret: Return) -> dict:
    """The processing and disposal calls of the return's Shopify returns: by id, and the
    disposal calls in a list (an item names them in their ``expect``)."""
    rows = db.session.scalars(select(ShopifyCall).join(ShopifyReturn).where(
        ShopifyReturn.return_id == ret.id, ShopifyReturn.account_id == ret.account_id,
        ShopifyCall.phase.in_((Phase.PROCESS.value, Phase.DISPOSE.value))).order_by(ShopifyCall.id)).all()
    return {"by_id": {c.id: c for c in rows},
            "dispose": [c for c in rows if c.phase == Phase.DISPOSE.value and c.state == "DONE"]}


def _dispositions(call: ShopifyCall | None, item: ReturnItem) -> list[str]:
    """The disposition types a call gave the item's units (matched by their reverse fulfillment
    order line items)."""
    if call is None or not isinstance(call.variables, dict):
        return []
    wanted = {f"gid://shopify/ReverseFulfillmentOrderLineItem/{ln.get('rfoli')}"
              for ln in item.shopify_lines or () if isinstance(ln, dict) and ln.get("rfoli")}
    given = list(call.variables.get("dispositionInputs") or ())
    for line in ((call.variables.get("input") or {}).get("returnLineItems") or ()):
        given += line.get("dispositions") or ()
    return [d.get("dispositionType") for d in given
            if isinstance(d, dict) and d.get("reverseFulfillmentOrderLineItemId") in wanted]


def _units(item: ReturnItem, calls: dict) -> Fact | None:
    """Restocked, waiting for the parcel, or not restocked (read from the call that disposed of them)."""
    if item.restock_state == RestockState.PENDING.value:
        return Fact(f"Units: {RestockState.PENDING.label}", "muted")
    if item.restock_state == RestockState.FAILED.value:
        return Fact("Units: Shopify did not record whether they were restocked", "error")
    if item.restock_state == RestockState.DONE.value:
        done = [c for c in calls["dispose"] if item.id in ((c.expect or {}).get("items") or ())]
        kinds = [k for c in done for k in _dispositions(c, item)]
    elif item.process_call_id:
        kinds = _dispositions(calls["by_id"].get(item.process_call_id), item)
    else:
        return None
    if not kinds:
        return None
    if all(k == "RESTOCKED" for k in kinds):
        return Fact("Units: restocked", "muted")
    if any(k == "RESTOCKED" for k in kinds):
        return Fact("Units: partly restocked", "muted")
    return Fact("Units: not restocked", "muted")


def _legacy_facts(item: ReturnItem, ret: Return) -> list[Fact]:
    out = [Fact(LEGACY_NOTE, "muted")]
    if item.shopify_refund_id:
        value = f": {format_money(item.issued_amount, ret.currency)}" if item.issued_amount is not None else ""
        out.append(Fact(f"Refund {item.shopify_refund_id}{value}"))
    if item.gift_card_last_characters:
        value = f" ({format_money(item.issued_amount, ret.currency)})" if item.issued_amount is not None else ""
        out.append(Fact(f"Gift card ending {item.gift_card_last_characters}{value}"))
    if item.exchange_order_name:
        out.append(Fact(f"Exchange order {item.exchange_order_name}"))
    if item.restock_state:
        out.append(Fact(f"Units: {RestockState.label_of(item.restock_state, item.restock_state.lower())}",
                        "error" if item.restock_state == RestockState.FAILED else "muted"))
    return out


def can_record_outside_refund(item: ReturnItem) -> bool:
    """A refund Shopify could not pay (the item failed) may be recorded as refunded outside Shopify.
    Not a legacy item: the old method would issue a decided refund again, with money."""
    return (item.option == Option.REFUND and item.resolution == ItemResolution.FAILED
            and item.issuing_method != IssuingMethod.LEGACY.value)
