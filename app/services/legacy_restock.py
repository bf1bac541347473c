"""Restocking after a legacy first-scan refund: the refund went out while the parcel travelled,
and the units go back into stock once the return is received (app/services/legacy_issuing.py
issued the refund and marked the item PENDING). The inventory adjustment carries a key of its
own, stored before it is sent, so a run twice or a lost answer restocks once."""
from datetime import datetime, timezone

from sqlalchemy import update

from app.domain.vocabulary import RestockState, ReturnStatus
from app.extensions import begin_write, db
from app.models import Account, ReturnItem
from app.services.shopify_access import client_for
from app.shopify import errors as E
from app.shopify import issuing as shopify


def restock_item(item_id: int) -> str:
    """Put a first-scan refund's items back into stock once the return is received; the
    adjustment carries a key of its own, so running this twice restocks once."""
    item = db.session.get(ReturnItem, item_id)
    if item is None or item.restock_state not in (RestockState.PENDING, RestockState.RESTOCKING):
        return "nothing to restock"
    ret = item.return_
    if ret.status not in (ReturnStatus.RECEIVED, ReturnStatus.PROCESSED, ReturnStatus.CLOSED):
        return "not received"
    now = datetime.now(timezone.utc)
    claimed = db.session.execute(
        update(ReturnItem).where(ReturnItem.id == item.id,
                                 ReturnItem.restock_state.in_((RestockState.PENDING, RestockState.RESTOCKING)))
        .values(restock_state=RestockState.RESTOCKING).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not claimed or item.variant_id is None:
        return "nothing to restock"
    account = db.session.get(Account, ret.account_id)
    client = client_for(account)
    location_id = account.restock_location_id
    if location_id is None:
        locations = shopify.list_locations(client)
        if not locations:
            begin_write(db.session)
            item.restock_state = RestockState.FAILED
            ret.add_event("restock_failed", f"{item.title}: no Shopify location to restock at.", "system")
            db.session.commit()
            return "failed"
        location_id = locations[0].location_id
    stored = dict(item.keyed_input or {})
    variables = stored.get("restock")
    if variables is None:
        attempt = int(stored.get("restock_attempt") or 0) + 1
        variables = shopify.restock_variables(client, variant_id=item.variant_id, location_id=location_id,
                                              quantity=item.quantity,
                                              key=f"{item.idempotency_key}-restock-{attempt}")
        begin_write(db.session)
        item.keyed_input = {**stored, "restock": variables, "restock_attempt": attempt}
        db.session.commit()
    try:
        shopify.send_restock(client, variables)
    except E.UserErrorsError as refused:
        if not any(i.code == "CHANGE_FROM_QUANTITY_STALE" for i in refused.items):
            raise
        # The level moved between the read and the write, so nothing changed: the next run reads
        # it again and sends under a new key (this one belongs to the refused variables).
        begin_write(db.session)
        item.keyed_input = {**(item.keyed_input or {}), "restock": None}
        item.restock_state = RestockState.PENDING
        db.session.commit()
        return "stale level: retry"
    begin_write(db.session)
    item.restock_state, item.restocked_at = RestockState.DONE, now
    ret.add_event("restocked", f"{item.title}: {item.quantity} back in stock.", "system",
                  data={"item_id": item.id})
    db.session.commit()
    return "restocked"
