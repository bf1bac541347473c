"""Processing a Shopify return: money, credit and exchanges issued, units disposed of.

When the return action fires, the decided items of each Shopify return are processed together
in one ``returnProcess`` (no call is made per item):
- refunds go back through the transactions ``suggestedFinancialOutcome`` suggests. None suggested
  (paid manually, cash on delivery, only authorised) means no money can move: the item goes to
  staff with that reason instead of being reported as paid (docs/reference/shopify-returns.md §2,
  documented for ``suggestedRefund``; for ``suggestedFinancialOutcome`` unverified, §6.3);
- credit notes become store credit (a refund method of the same call) where the shop has new
  customer accounts and the order a customer (§6.4), else a gift card made right after;
- exchanges: their exchange lines are processed with them (stock is checked just before);
- the units are disposed of in the same call once the parcel is back; under First scan they are
  processed without dispositions and disposed of at receipt (dispositions are optional: §6.1).
A refund's transactions may be pending for days or fail (schema OrderTransactionStatus): pending
ones are followed until final.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from app.domain import issuing as rules
from app.domain.formatting import format_money
from app.domain.issuing import CallState, CreditMethod, Phase, RefundState
from app.domain.vocabulary import ItemResolution, Option, RestockState, ReturnStatus
from app.extensions import db
from app.services import milestones
from app.services.milestones import Milestone
from app.models import ReturnItem
from app.services import issued_notices as notices
from app.services import shopify_calls as calls
from app.services.issuing_context import DONE, Ctx, fail_item, in_shopify_return, lines_of, note, now
from app.services.return_shape import items_named, next_round, start_call
from app.shopify import returns as shopify
from app.shopify.return_values import Outcome, Refund, ReturnLine, ReturnState

NO_PAYMENT = ("Shopify has no payment to refund this to (the order was paid manually, by cash on delivery, "
              "or only authorised). Record a refund made outside Shopify, or switch the item to a credit note.")
SETTLED = {"SUCCESS"}
FAILED_TX = {"FAILURE", "ERROR"}
STORE_CREDIT_ACCOUNTS = "NEW_CUSTOMER_ACCOUNTS"


def store_credit_possible(ctx: Ctx) -> bool:
    """Store credit needs new customer accounts on the shop and a customer on the order (§6.4)."""
    return ctx.account.customer_accounts_version == STORE_CREDIT_ACCOUNTS and bool(ctx.ret.customer_shopify_id)


# --- process -------------------------------------------------------------------------------------

ROUNDS = 5  # a refusal naming some items sends the others again in another round, at once


def process_step(ctx: Ctx) -> str:
    """Process the decided items of this Shopify return once its return action has fired."""
    for _ in range(ROUNDS):
        if ctx.ref.status != "OPEN" or ctx.ret.action_triggered_at is None or ctx.ret.status == ReturnStatus.CANCELLED:
            return DONE
        started = start_call(ctx, Phase.PROCESS, lambda last: _build_process(ctx, last), also=_claim_items)
        if isinstance(started, str):
            return started
        call, reconcile = started
        outcome = calls.run_call(call, send=lambda v: shopify.process_return(ctx.client, v),
                                 find=lambda c: _find_processed(ctx, c), reconcile=reconcile)
        if outcome.done:
            _record_processed(ctx, call, outcome.result)
        else:
            _record_process_refused(ctx, call, outcome)
    return DONE


def _claim_items(call) -> bool:
    """In the claim's transaction: the call's items move DECIDED → ISSUING, all of them or none
    (an item that changed meanwhile vetoes the claim; the next round is built afresh)."""
    wanted = [int(i) for i in (call.expect or {}).get("items", {})]
    moved = db.session.execute(
        update(ReturnItem).where(ReturnItem.id.in_(wanted), ReturnItem.resolution == ItemResolution.DECIDED)
        .values(resolution=ItemResolution.ISSUING.value, process_call_id=call.id, issuing_started_at=now(),
                issue_attempts=ReturnItem.issue_attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    return moved == len(wanted)


def _ready(ctx: Ctx) -> list[ReturnItem]:
    return [i for i in ctx.items(ItemResolution.DECIDED) if in_shopify_return(i)
            and not (i.option != Option.EXCHANGE and i.exchange_line_ids)]


def _build_process(ctx: Ctx, last) -> tuple[int, dict, dict] | None:
    items = _ready(ctx)
    if not items:
        return None
    items = _check_exchange_stock(ctx, items)
    refunds = [i for i in items if i.option == Option.REFUND]
    paying = [i for i in refunds if i.refund_state != RefundState.OUTSIDE.value]
    credits = [i for i in items if i.option == Option.CREDIT]
    money = _Money(ctx, paying, credits)
    plans: dict[str, dict] = {}
    for item in paying:
        if money.refund_refused:
            fail_item(item, money.refund_refused)
    for item in credits:
        if money.credit_refused:
            fail_item(item, money.credit_refused)
    if paying and not money.refund_refused:
        _plan(plans, paying, money.refund, "refund")
    if credits and not money.credit_refused:
        _plan(plans, credits, money.credit, "store_credit" if money.store_credit else "gift_card")
    for item in refunds:
        if item not in paying:
            _plan(plans, [item], Decimal(0), "outside")  # refunded outside Shopify: no money moves
    for item in items:
        if item.option == Option.EXCHANGE:
            plans[str(item.id)] = {"group": "exchange" if item.exchange_line_ids else "exchange_order",
                                   "value": "0.00"}
    db.session.commit()
    items = [i for i in items if str(i.id) in plans]
    if not items:
        return None
    return _process_variables(ctx, last, items, plans, money.transactions, money.store_credit)


class _Money:
    """The money of one processing round, from one read of Shopify's suggested outcome for every
    line that moves money (refunds and credit notes together: one read per round, however many
    items). When a round holds both, the suggestion to the original payment methods is split
    between them by the items' values: the refund part goes back through the suggested
    transactions, scaled to it; the credit part becomes store credit or a gift card."""

    def __init__(self, ctx: Ctx, paying: list[ReturnItem], credits: list[ReturnItem]):
        self.refund = self.credit = Decimal(0)
        self.transactions: list[dict] = []
        self.store_credit: tuple[Decimal, str] | None = None  # (amount, presentment currency)
        self.refund_refused = self.credit_refused = None
        if not (paying or credits):
            return
        as_store_credit = bool(credits) and store_credit_possible(ctx)
        outcome = shopify.suggested_outcome(ctx.client, ctx.ref.shopify_return_id, _outcome_lines(paying + credits),
                                            store_credit=as_store_credit and not paying)
        if outcome.kind != "refund" or outcome.amount <= 0:
            nothing = "Shopify suggests nothing to refund for this item (it may already be refunded)."
            self.refund_refused = self.credit_refused = nothing
            return
        weights = [_worth(paying), _worth(credits)]
        self.refund, self.credit = rules.allocate(outcome.amount, weights)
        presented_refund, presented_credit = rules.allocate(outcome.presentment_amount, weights)
        if paying:
            self._refund_transactions(outcome, presented_refund)
        if credits:
            self._credit(ctx, outcome, as_store_credit and bool(paying), presented_credit)

    def _refund_transactions(self, outcome: Outcome, presented: Decimal) -> None:
        if not outcome.transactions:
            self.refund_refused = NO_PAYMENT
            return
        shares = rules.allocate(presented, [t.amount for t in outcome.transactions])
        self.transactions = [{"parentId": shopify.gid("OrderTransaction", t.parent_id),
                              "transactionAmount": {"amount": str(share), "currencyCode": t.currency}}
                             for t, share in zip(outcome.transactions, shares, strict=True) if share > 0]

    def _credit(self, ctx: Ctx, outcome: Outcome, split: bool, presented: Decimal) -> None:
        if split:  # asked to the original payment methods: the credit part is ours to send
            self.store_credit = (presented, outcome.presentment_currency)
        elif outcome.store_credit:
            self.store_credit = (outcome.store_credit, outcome.store_credit_currency)
        limit = ctx.account.gift_card_issue_limit
        if self.store_credit is None and limit is not None and self.credit > limit:
            cap = format_money(limit, ctx.account.currency)
            self.credit_refused = (f"Shopify caps gift cards made by apps at {cap} on this shop; this credit note "
                                   f"is worth {format_money(self.credit)}. Issue it in Shopify by hand, or refund it.")


def _worth(items: list[ReturnItem]) -> Decimal:
    return sum((Decimal(i.unit_value) * i.quantity for i in items), Decimal(0))


def _process_variables(ctx: Ctx, last, items, plans, transactions, store_credit_amount):
    """The returnProcess variables of a round, and what its effect will look like."""
    lines, exchanges, line_items, exchange_items = [], [], [], []
    for item in items:
        for ln in lines_of(item):
            line = {"id": shopify.gid("ReturnLineItem", ln["rli"]), "quantity": ln["qty"]}
            # A kept item (Keep item rule) never comes back: it is disposed of now, as not
            # restocked, whatever the return's status (dispositions ride on returnProcess or
            # come later: docs/reference/shopify-returns.md §6.1).
            if ctx.received or item.keep_item:
                line["dispositions"] = [disposition_input(ctx, ln, kept=item.keep_item)]
            lines.append(line)
            line_items.append(item.id)
        for eli in item.exchange_line_ids or () if item.option == Option.EXCHANGE else ():
            exchanges.append({"id": shopify.gid("ExchangeLineItem", eli), "quantity": 1})
            exchange_items.append(item.id)
    # Shopify tells the shopper what processing issued, when the account leaves it to Shopify.
    process_input = {"returnId": shopify.return_gid(ctx.ref.shopify_return_id), "returnLineItems": lines,
                     "notifyCustomer": ctx.account.issued_notice == notices.SHOPIFY}
    if exchanges:
        process_input["exchangeLineItems"] = exchanges
    if transactions or store_credit_amount:
        refund = {"orderTransactions": transactions}
        if store_credit_amount:
            amount, currency = store_credit_amount
            refund["refundMethods"] = [{"storeCreditRefund": {"amount": {
                "amount": str(amount), "currencyCode": currency}}}]
        process_input["financialTransfer"] = {"issueRefund": refund}
    expect = {"items": plans, "line_items": line_items, "exchange_items": exchange_items,
              "lines": {str(ln["rli"]): ln["qty"] for i in items for ln in lines_of(i)},
              "disposed": ctx.received, "kept": sorted(i.id for i in items if i.keep_item),
              "known_refunds": sorted({i.shopify_refund_id for i in ctx.items() if i.shopify_refund_id})}
    return next_round(last), {"input": process_input}, expect


def _outcome_lines(items: list[ReturnItem]) -> list[dict]:
    return [{"id": shopify.gid("ReturnLineItem", ln["rli"]), "quantity": ln["qty"]}
            for item in items for ln in lines_of(item)]


def _plan(plans: dict, items: list[ReturnItem], total: Decimal, group: str) -> None:
    """Each item's share of the group's amount, by what it was worth when returned."""
    shares = rules.allocate(Decimal(total), [Decimal(i.unit_value) * i.quantity for i in items])
    for item, share in zip(items, shares, strict=True):
        plans[str(item.id)] = {"group": group, "value": str(share)}


def _check_exchange_stock(ctx: Ctx, items: list[ReturnItem]) -> list[ReturnItem]:
    """Exchanges whose variant ran out are refused now, with the reason, before anything moves."""
    exchanges = [i for i in items if i.option == Option.EXCHANGE and i.exchange_variant_id]
    if not exchanges:
        return items
    stock = shopify.variants_stock(ctx.client, sorted({i.exchange_variant_id for i in exchanges}))
    wanted: dict[int, int] = {}
    for item in exchanges:
        wanted[item.exchange_variant_id] = wanted.get(item.exchange_variant_id, 0) + item.quantity
    out = []
    for item in items:
        found = stock.get(item.exchange_variant_id) if item in exchanges else None
        if item in exchanges and (found is None or (found.available is not None
                                                    and found.available < wanted[item.exchange_variant_id])):
            fail_item(item, f"{item.exchange_variant_title or 'The chosen variant'} is out of stock. Switch the "
                      "item to a refund or credit note, or retry when it is back.")
            continue
        out.append(item)
    return out


def disposition_input(ctx: Ctx, line: dict, kept: bool = False) -> dict:
    """Restocked at the chosen location (else where the unit shipped from), or not restocked;
    always not restocked for an item the shopper keeps (``kept``: there is no unit to shelve)."""
    location = ctx.account.restock_location_id or line.get("location")
    restock = ctx.account.restock_returned_units and location and not kept
    out = {"reverseFulfillmentOrderLineItemId": shopify.gid("ReverseFulfillmentOrderLineItem", line["rfoli"]),
           "quantity": line["qty"], "dispositionType": "RESTOCKED" if restock else "NOT_RESTOCKED"}
    if location:
        out["locationId"] = shopify.gid("Location", location)
    return out


def _find_processed(ctx: Ctx, call) -> ReturnState | None:
    state = shopify.fetch_return(ctx.client, ctx.ref.shopify_return_id)
    if state is None:
        return None
    wanted = (call.expect or {}).get("lines") or {}
    done = all((state.line(int(rli)) or ReturnLine(0, None, None, 0, 0, "")).processed_quantity >= qty
               for rli, qty in wanted.items())
    return state if done else None


def _record_processed(ctx: Ctx, call, state: ReturnState) -> None:
    expect = call.expect or {}
    known = set(expect.get("known_refunds") or ())
    refund = next((r for r in state.refunds if r.id not in known), None)
    for item_id, plan in (expect.get("items") or {}).items():
        item = db.session.get(ReturnItem, int(item_id))
        if item is None:
            continue
        item.process_call_id = call.id
        value = Decimal(plan["value"])
        if not expect.get("disposed") and item.id not in (expect.get("kept") or ()):
            item.restock_state = RestockState.PENDING.value
        group = plan["group"]
        if group == "refund":
            _refund_issued(ctx, item, value, refund)
        elif group == "outside":
            issued(ctx, item, item.outside_refund_amount, f"{item.title}: return recorded in Shopify; refunded "
                    f"outside Shopify ({item.outside_refund_method}).")
        elif group == "store_credit":
            item.credit_method = CreditMethod.STORE_CREDIT.value
            item.shopify_refund_id = refund.id if refund else None
            issued(ctx, item, value, f"{item.title}: {format_money(value, ctx.ret.currency)} issued as store credit.")
        elif group == "gift_card":
            item.credit_method, item.issued_amount = CreditMethod.GIFT_CARD.value, value  # card made next
        elif group == "exchange":
            item.exchange_order_id, item.exchange_order_name = ctx.ret.shopify_order_id, ctx.ret.order_name
            issued(ctx, item, Decimal("0.00"), f"{item.title}: exchange for {item.exchange_variant_title} "
                    f"confirmed in Shopify on order {ctx.ret.order_name}.")
    calls.finish(call, CallState.DONE)
    note(ctx.ret, "shopify_return", f"Shopify return {ctx.ref.name} processed.")
    db.session.commit()
    if ctx.account.issued_notice == notices.EMAIL:
        done = [db.session.get(ReturnItem, int(i)) for i in (expect.get("items") or {})]
        notices.email_issued(ctx.account, ctx.ret, [i for i in done if i and i.resolution == ItemResolution.ISSUED])


def _refund_issued(ctx: Ctx, item: ReturnItem, value: Decimal, refund: Refund | None) -> None:
    statuses = {t.status for t in (refund.transactions if refund else ()) if t.kind == "REFUND"}
    item.shopify_refund_id = refund.id if refund else None
    if statuses & FAILED_TX:
        code = next((t.error_code for t in refund.transactions if t.status in FAILED_TX), None)
        item.refund_state, item.refund_error = RefundState.FAILED.value, code
        fail_item(item, f"Shopify could not refund the payment ({code or 'no reason given'}). The return is "
                  "recorded in Shopify; record a refund made outside Shopify.")
        return
    pending = not statuses or not statuses <= SETTLED
    item.refund_state = (RefundState.PENDING if pending else RefundState.PAID).value
    issued(ctx, item, value, f"{item.title}: refund of {format_money(value, ctx.ret.currency)} "
            f"{'sent to the payment provider (pending)' if pending else 'paid'} in Shopify.")


def issued(ctx: Ctx, item: ReturnItem, value, message: str) -> None:
    """The item is issued: its value and a line on the timeline (the caller commits)."""
    item.resolution, item.issued_at, item.failure_reason = ItemResolution.ISSUED.value, now(), None
    item.issued_amount = value
    note(ctx.ret, "issued", message, item_id=item.id, option=item.option)
    milestones.announce(ctx.ret, Milestone.ITEM_ISSUED, item_id=item.id, option=item.option)


def _record_process_refused(ctx: Ctx, call, outcome) -> None:
    """Shopify refused the call: the items its errors name go to staff; the rest are decided
    again for the next round, so one refused line never blocks the others."""
    expect = call.expect or {}
    named = items_named(outcome.result, {"returnLineItems": expect.get("line_items") or [],
                                          "exchangeLineItems": expect.get("exchange_items") or []})
    for item_id in expect.get("items") or {}:
        item = db.session.get(ReturnItem, int(item_id))
        if item is None or item.resolution != ItemResolution.ISSUING:
            continue
        item.process_call_id = None  # refused: nothing happened, the item was not processed
        if not named or item.id in named:
            fail_item(item, outcome.error or "Shopify refused to process the return.")
        else:
            item.resolution = ItemResolution.DECIDED.value
    calls.finish(call, CallState.REFUSED, outcome.error)
    db.session.commit()
