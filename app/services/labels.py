"""Prepaid return labels: buy a return's label exactly once, attach its tracking number, void it.

The label job (jobs/labels.py) runs `buy_label(return_id)`; it is safe to run twice or after a
crash at any point, because every provider call that spends money is preceded by a commit:

1. CREATING: the provider creates a return shipment and offers rates; the chosen rate (the
   cheapest, or of the shop's carrier) is committed with the shipment id: SHIPMENT_CREATED. A
   crash before that commit leaves at most an unbought shipment, which costs nothing.
2. BUYING is committed before the buy is sent, and the buy names the stored shipment and rate.
   A run that finds BUYING (a crash between buy and record, a lost answer, a timeout) first reads
   the purchase back by those ids and only buys when the provider has none. Neither EasyPost nor
   Shippo documents an idempotency key for buying (see app/labels/easypost.py, shippo.py); EasyPost
   also refuses a second buy of a bought shipment (SHIPMENT.POSTAGE.EXISTS), read back the same way.
3. BOUGHT: the label, its tracking number and cost are recorded; the number is attached to the
   return (app.services.tracking_numbers), so the provider's tracker events move the return on
   the first scan; a tracker is created for the number.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.crypto import decrypt_secret
from app.domain.returns import ReturnRefused
from app.domain.vocabulary import LabelIssueOn, LabelState, ReturnStatus
from app.extensions import db
from app.labels import Address, BoughtLabel, LabelError, Parcel, choose_rate, provider_for
from app.services import milestones
from app.services.milestones import Milestone
from app.models import Account, Return, ReturnLabel, ShopifyReturn
from app.models._common import utcnow
from app.queue import enqueue
from app.services import label_delivery, tracking_numbers

log = logging.getLogger(__name__)

DEFAULT_WEIGHT_OZ = Decimal("16")
# Runs of the label job on one label (each a provider call) before the sweeper stops queueing it
# (staff can still retry it from the return page).
MAX_ATTEMPTS = 8
UNFINISHED = (LabelState.CREATING.value, LabelState.SHIPMENT_CREATED.value, LabelState.BUYING.value)
ACTOR = "label"


class LabelNotPossible(Exception):
    """Why a label cannot be bought for this return (shown to staff, kept on the row)."""

# A return that will never be sent: its label is not bought, or is voided once bought.
ENDED = (ReturnStatus.CANCELLED.value, ReturnStatus.DECLINED.value)


def issue_label_for(return_id: int) -> bool:
    """Queue the label job for a return (what submission, or approval, calls after its commit).
    False when the shop has no label provider, or when the shopper keeps every item (a Keep item
    rule: there is no parcel). Safe to call twice: the job is keyed by return."""
    ret = db.session.get(Return, return_id)
    account = db.session.get(Account, ret.account_id) if ret is not None else None
    if account is None or not account.labels_enabled or ret.keep_only:
        return False
    db.session.commit()  # an in-process job may run right here: hold no transaction while it does
    enqueue("jobs.labels.buy_label_job", return_id, job_id=f"label-{return_id}")
    return True


def after_submission(account: Account, return_id: int) -> bool:
    """Queue the label once a return is submitted (after the commit): when the shop buys labels
    on submission, or when no review holds this return (it is approved as it is submitted)."""
    if not account.labels_enabled:
        return False
    ret = db.session.get(Return, return_id)
    awaiting_review = ret is not None and ret.status == ReturnStatus.REQUESTED
    if account.label_issue_on == LabelIssueOn.SUBMISSION.value or not awaiting_review:
        return issue_label_for(return_id)
    return False


def after_approval(account: Account, return_id: int) -> bool:
    """Queue the label when staff approve a reviewed return whose label was not bought at
    submission (the shop buys labels on approval)."""
    if account.labels_enabled and label_of(return_id) is None:
        return issue_label_for(return_id)
    return False


def may_buy(account: Account, ret: Return) -> bool:
    """Whether a label may be bought for the return now: once it may be sent (open), or while it
    awaits review when the shop buys labels on submission (shown to the shopper once approved,
    voided if declined)."""
    if ret.keep_only:  # the shopper keeps every item: there is no parcel
        return False
    return ret.status == ReturnStatus.OPEN or (ret.status == ReturnStatus.REQUESTED
                                               and account.label_issue_on == LabelIssueOn.SUBMISSION.value)


def label_of(return_id: int) -> ReturnLabel | None:
    """The return's label row, if one was started."""
    return db.session.scalar(select(ReturnLabel).where(ReturnLabel.return_id == return_id))


def waits_for_approval(account: Account, ret: Return) -> bool:
    """Whether the shopper's label comes only once the shop approves the return."""
    return (account.labels_enabled and account.label_issue_on == LabelIssueOn.APPROVAL.value
            and not ret.keep_only and ret.status == ReturnStatus.REQUESTED and label_of(ret.id) is None)


def number_from_label(ret: Return) -> str | None:
    """The return's tracking number when a bought label put it there (the shopper may not change
    it: the parcel carries that label, and its scans come for that number)."""
    label = label_of(ret.id)
    if label is not None and label.bought and label.tracking_number == ret.tracking_number:
        return label.tracking_number
    return None


def provider(account: Account):
    """The account's label provider adapter (its key decrypted only here)."""
    return provider_for(account.label_provider, decrypt_secret(account.label_api_key_encrypted) or "",
                        account.label_api_base)


def buy_label(return_id: int) -> str:
    """Buy the return's label exactly once (see the module's steps); returns where it stands.
    Raises LabelError for a failure worth retrying (the job's retries run it again)."""
    ret = db.session.get(Return, return_id)
    if ret is None:
        return "missing"
    account = db.session.get(Account, ret.account_id)
    label = label_of(return_id)
    if label is None:
        if not account.labels_enabled:
            return "labels off"
        if not may_buy(account, ret):
            return f"return {ret.status.lower()}"
        label = _start(account, ret)
    if label.state in (LabelState.FAILED, LabelState.VOIDED):
        return label.state.lower()
    if ret.status in ENDED and label.state in (LabelState.CREATING, LabelState.SHIPMENT_CREATED):
        _fail(label, ret, f"The return was {ret.status.lower()} before its label was bought.")
        return label.state.lower()
    adapter = provider(account)
    if label.state == LabelState.CREATING:
        _create_shipment(account, ret, label, adapter)
        if label.state == LabelState.FAILED:
            return "failed"
    if label.state == LabelState.SHIPMENT_CREATED:
        label.state, label.attempts = LabelState.BUYING.value, label.attempts + 1
        db.session.commit()  # BUYING before the buy: a later run reads back before buying again
        bought = _buy(label, adapter, ret)
    elif label.state == LabelState.BUYING:
        label.attempts += 1
        db.session.commit()
        bought = _read_back(label, adapter) or _buy(label, adapter, ret)
    else:
        bought = None
    if bought is not None:
        record_purchase(label, bought)
    if label.state == LabelState.BOUGHT and ret.status in ENDED:
        # Bought while the return was being cancelled or declined: nobody will use it.
        return void_unused(return_id)
    if label.state == LabelState.BOUGHT:
        _follow_up(account, ret, label, adapter)
    return label.state.lower()


def _start(account: Account, ret: Return) -> ReturnLabel:
    label = ReturnLabel(account_id=account.id, return_id=ret.id, provider=account.label_provider,
                        state=LabelState.CREATING.value)
    db.session.add(label)
    try:
        db.session.commit()
    except IntegrityError:  # another run started it first: carry on with that row
        db.session.rollback()
        label = label_of(ret.id)
    return label


def _create_shipment(account: Account, ret: Return, label: ReturnLabel, adapter) -> None:
    """Create the return shipment and commit it with the chosen rate (or FAILED, saying why)."""
    label.attempts += 1
    try:
        shopper, shop = shopper_address(ret), shop_address(account)
        parcel = Parcel(weight_oz=account.label_weight_oz or DEFAULT_WEIGHT_OZ)
        db.session.commit()  # no transaction held across the provider call
        shipment = adapter.create_return_shipment(shopper, shop, parcel, reference=ret.rma_number)
        rate = choose_rate(shipment.rates, carrier=account.label_carrier or None)
    except LabelNotPossible as refusal:
        _fail(label, ret, str(refusal))
        return
    except LabelError as error:
        if error.retryable:
            raise
        _fail(label, ret, str(error))
        return
    label.shipment_id, label.rate_id, label.rate_amount = shipment.id, rate.id, rate.amount
    label.carrier, label.service, label.currency = rate.carrier, rate.service, rate.currency
    label.state = LabelState.SHIPMENT_CREATED.value
    db.session.commit()


def _buy(label: ReturnLabel, adapter, ret: Return) -> BoughtLabel | None:
    try:
        return adapter.buy(label.shipment_id, label.rate_id, reference=ret.rma_number)
    except LabelError as error:
        if error.already_bought:  # bought by a run whose answer was lost: that label is ours
            found = _read_back(label, adapter)
            if found is not None:
                return found
        if error.retryable or error.already_bought:
            raise
        _fail(label, ret, str(error))
        return None


def _read_back(label: ReturnLabel, adapter) -> BoughtLabel | None:
    """The purchase the provider holds for the stored shipment and rate, if any."""
    return adapter.find_purchase(label.shipment_id, label.rate_id)


def record_purchase(label: ReturnLabel, bought: BoughtLabel) -> None:
    """Record a bought label (its cost: the answer's price, else the chosen rate's) and commit."""
    label.purchase_id = bought.purchase_id
    label.tracking_number = tracking_numbers.normalise_tracking(bought.tracking_number)[:64]
    label.carrier = bought.carrier or label.carrier
    label.label_url, label.label_pdf_url = bought.label_url, bought.label_pdf_url
    label.label_png_url = bought.label_png_url
    label.qr_url, label.tracking_url = bought.qr_url, bought.tracking_url
    label.cost = bought.cost if bought.cost is not None else label.rate_amount
    label.currency = bought.currency or label.currency
    label.state, label.bought_at, label.error = LabelState.BOUGHT.value, utcnow(), None
    db.session.commit()


def _follow_up(account: Account, ret: Return, label: ReturnLabel, adapter) -> None:
    """Attach the label's number to the return and create its tracker (each once)."""
    if ret.tracking_number != label.tracking_number and ret.status == ReturnStatus.OPEN:
        ret.add_event("label", f"Prepaid return label ready ({label.carrier or 'carrier'} {label.tracking_number}).",
                      ACTOR, data={"customer_message": "Your prepaid return label is ready to print."})
        milestones.announce(ret, Milestone.LABEL_READY, label_id=label.id)
        try:
            tracking_numbers.store_tracking(ret, label.tracking_number, ACTOR)
        except ReturnRefused as refusal:
            db.session.rollback()
            label.error = f"Tracking number not attached: {refusal}"
            db.session.commit()
    if label.tracker_id is None and label.tracking_number:
        db.session.commit()
        try:
            tracker = adapter.create_tracker(label.tracking_number, label.carrier or "")
        except LabelError as error:
            log.warning("label %s: tracker not created: %s", label.id, error)
            return  # the number is attached; the next run (or staff) asks again
        label.tracker_id = tracker.id or label.tracking_number
        db.session.commit()
    if label.shopify_delivery is None and account.is_connected:
        # WAITING: no Shopify return yet; the Shopify return's job queues this one once it is made.
        label_delivery.send_reverse_delivery(label)


def after_shopify_return(ref_id: int) -> None:
    """After a Shopify return's job: queue the label job when the return has a bought label not
    yet sent to Shopify as its reverse delivery (the Shopify return exists now)."""
    ref = db.session.get(ShopifyReturn, ref_id)
    if ref is None or ref.return_id is None or ref.shopify_return_id is None:
        return
    label = label_of(ref.return_id)
    if label is None or label.state != LabelState.BOUGHT or label.shopify_delivery is not None:
        return
    return_id = ref.return_id
    db.session.commit()  # an in-process job may run right here: hold no transaction while it does
    enqueue("jobs.labels.buy_label_job", return_id, job_id=f"label-delivery-{return_id}")


def _fail(label: ReturnLabel, ret: Return, why: str) -> None:
    label.state, label.error = LabelState.FAILED.value, why[:2000]
    ret.add_event("label_failed", f"Prepaid label not bought: {why[:200]}", ACTOR)
    db.session.commit()


def after_return_ended(return_id: int) -> bool:
    """Queue the void of a bought label once its return is cancelled or declined (after that
    commit): an unused label is refunded by the provider. False when there is none to void."""
    label = label_of(return_id)
    if label is None or label.state != LabelState.BOUGHT:
        return False
    db.session.commit()  # an in-process job may run right here: hold no transaction while it does
    enqueue("jobs.labels.void_unused_label_job", return_id, job_id=f"label-void-{return_id}")
    return True


def void_unused(return_id: int) -> str:
    """Void the bought label of a cancelled or declined return; safe to run twice (a voided label
    is left alone). Raises LabelError for a failure worth retrying."""
    label = label_of(return_id)
    ret = db.session.get(Return, return_id)
    if label is None or ret is None or label.state != LabelState.BOUGHT or ret.status not in ENDED:
        return label.state.lower() if label is not None else "no label"
    account = db.session.get(Account, ret.account_id)
    db.session.commit()  # no transaction held across the provider call
    status = provider(account).void(label.purchase_id)
    label.state, label.voided_at = LabelState.VOIDED.value, utcnow()
    ret.add_event("label_voided", f"Prepaid label {label.tracking_number} voided because the return was "
                                  f"{ret.status.lower()} ({status}).", "system")
    db.session.commit()
    return label.state.lower()


def void_label(return_id: int, actor: str) -> ReturnLabel:
    """Void (refund) a bought label with the provider and take its number off the open return so
    the shopper may send the parcel another way. LabelNotPossible when there is nothing to void."""
    label = label_of(return_id)
    if label is None or label.state != LabelState.BOUGHT:
        raise LabelNotPossible("Only a bought label can be voided.")
    ret = db.session.get(Return, return_id)
    if ret.status != ReturnStatus.OPEN:
        raise LabelNotPossible("The parcel is already on its way: the label can no longer be voided.")
    account = db.session.get(Account, ret.account_id)
    db.session.commit()
    try:
        status = provider(account).void(label.purchase_id)
    except LabelError as error:
        raise LabelNotPossible(f"The provider refused the void: {error}") from None
    label.state, label.voided_at = LabelState.VOIDED.value, utcnow()
    if ret.tracking_number == label.tracking_number:
        ret.tracking_number = None
    ret.add_event("label_voided", f"Prepaid label {label.tracking_number} voided ({status}).", actor)
    db.session.commit()
    return label


def shopper_address(ret: Return) -> Address:
    """Where the parcel comes from: the shopper's address as snapshotted on the return."""
    raw = ret.shipping_address or {}
    name = " ".join(p for p in (raw.get("first_name"), raw.get("last_name")) if p) or ret.customer_name or ""
    address = Address(name=name, company=raw.get("company") or "", street1=raw.get("address1") or "",
                      street2=raw.get("address2") or "", city=raw.get("city") or "",
                      state=raw.get("province_code") or raw.get("province") or "", zip=raw.get("zip") or "",
                      country=raw.get("country_code") or "", phone=raw.get("phone") or "",
                      email=ret.customer_email or "")
    if not (address.street1 and address.city and address.zip and address.country):
        raise LabelNotPossible("The order has no complete shipping address to send the label from.")
    return address


def shop_address(account: Account) -> Address:
    """Where labels send parcels: the structured address in the label settings."""
    raw = account.label_ship_to or {}
    address = Address(name=raw.get("name") or account.name, company=raw.get("company") or "",
                      street1=raw.get("street1") or "", street2=raw.get("street2") or "",
                      city=raw.get("city") or "", state=raw.get("state") or "", zip=raw.get("zip") or "",
                      country=raw.get("country") or "", phone=raw.get("phone") or "")
    if not (address.street1 and address.city and address.zip and address.country):
        raise LabelNotPossible("The label settings have no complete return address.")
    return address


def labels_to_sweep(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Returns whose label a lost job or a dead worker left unfinished a few minutes ago (not yet
    bought, or bought but not yet sent to the Shopify return that exists now), below the cap."""
    now = now or datetime.now(timezone.utc)
    settled = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    unsent = select(ShopifyReturn.return_id).where(ShopifyReturn.shopify_return_id.is_not(None),
                                                   ShopifyReturn.made_in_shopify.is_(False))
    return list(db.session.scalars(select(ReturnLabel.return_id).where(
        ReturnLabel.updated_at <= settled, ReturnLabel.attempts < MAX_ATTEMPTS,
        (ReturnLabel.state.in_(UNFINISHED))
        | ((ReturnLabel.state == LabelState.BOUGHT.value) & ReturnLabel.shopify_delivery.is_(None)
           & ReturnLabel.return_id.in_(unsent))).order_by(ReturnLabel.id).limit(limit)))


def retry_label(return_id: int, actor: str) -> None:
    """Staff: buy the return's label now (none yet, e.g. waiting for approval), or again after it
    failed (nothing was bought: the provider refused). LabelNotPossible says why not."""
    ret = db.session.get(Return, return_id)
    account = db.session.get(Account, ret.account_id)
    if not account.labels_enabled:
        raise LabelNotPossible("Set up prepaid labels in Settings first.")
    if ret.status != ReturnStatus.OPEN:
        raise LabelNotPossible("Only an open return can get a prepaid label.")
    label = label_of(return_id)
    if label is not None and label.state not in (LabelState.FAILED.value, *UNFINISHED):
        raise LabelNotPossible("This return's label is already bought.")
    if label is not None and label.state == LabelState.FAILED:
        # Nothing was bought (the provider refused): a new shipment, with the settings as they are now.
        label.state, label.shipment_id, label.rate_id, label.error = LabelState.CREATING.value, None, None, None
        label.attempts = 0
    elif label is not None:
        label.attempts = 0  # the sweeper's cap starts again
    ret.add_event("label_retry", "Prepaid label asked for again.", actor)
    db.session.commit()
    enqueue("jobs.labels.buy_label_job", return_id, job_id=f"label-retry-{return_id}-{utcnow().timestamp():.0f}")
