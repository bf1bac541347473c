"""The new rule dimensions against the database: a returned item's product facts (type, tags,
collections), its price, and its customer's returns of the last 12 months (by customer id, by
email for guests; cancelled returns and older ones left out; counted after the orders are
purged). Everything is gathered in one query per return, however many items it has."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Order, Product, Return
from app.services import rules as service
from app.services import rules_preview as preview
from app.services.rule_facts import return_facts
from app.services.retention import purge_expired_orders
from tests.factories import make_order, make_return
from tests.support.rules import condition

pytestmark = pytest.mark.account(option_mode="rules")
NOW = datetime.now(timezone.utc)
PRODUCT_ID = 8_123_456_789


def rule(name, outcome, *conds):
    return {"name": name, "outcome": outcome, "enabled": True, "conditions": list(conds)}


def trace(ret_id):
    db.session.expire_all()
    return [i.decision_trace for i in db.session.get(Return, ret_id).items]


def past_return(account, days, *, status="OPEN", customer=None, email=None, value="20.00"):
    """A return made `days` ago by a customer (id) or a guest (email), of one item worth `value`."""
    ret = make_return(account, days_ago=days, status=status, customer_shopify_id=customer,
                      email=email or "someone@example.com")
    ret.items[0].unit_value = Decimal(value)
    return ret


def test_a_serial_returner_is_caught_and_the_trace_shows_their_count_and_value(account):
    service.create_rule(account.id, rule("Serial returners wait for staff", "no_action",
                                         condition("customer_returns", "gte", "3")))
    service.create_rule(account.id, rule("Everything else is refunded", "refund"))
    for days in (10, 100, 300):
        past_return(account, days, customer=42, value="30.00")
    past_return(account, 400, customer=42)                      # older than a year
    past_return(account, 5, customer=42, status="CANCELLED")    # cancelled
    past_return(account, 5, customer=7)                         # someone else
    order = make_order(account, customer_shopify_id=42)
    ret = make_return(account, order, customer_shopify_id=42)
    service.decide_return(ret.id)
    [decided] = trace(ret.id)
    assert decided["rule_name"] == "Serial returners wait for staff"
    assert decided["conditions"] == [{"condition": "Customer Returns (12 months) at least 3", "observed": "3",
                                      "held": True}]
    assert return_facts([ret.id])[ret.items[0].id].customer_returned_value == Decimal("90.00")


def test_a_customer_with_fewer_returns_is_not_caught(account):
    service.create_rule(account.id, rule("Serial returners wait for staff", "no_action",
                                         condition("customer_returns", "gte", "3")))
    past_return(account, 10, customer=42)
    past_return(account, 20, customer=42)
    order = make_order(account, customer_shopify_id=42)
    ret = make_return(account, order, customer_shopify_id=42)
    service.decide_return(ret.id)
    assert trace(ret.id)[0]["outcome"] is None


def test_guests_are_counted_by_their_email(account):
    """Emails are stored lower-cased by every order mapping; returns copy the order's."""
    service.create_rule(account.id, rule("Big returners get a credit note", "credit",
                                         condition("customer_returned_value", "gt", "100")))
    past_return(account, 30, email="guest@example.com", value="80.00")
    past_return(account, 60, email="guest@example.com", value="40.00")
    past_return(account, 60, email="other@example.com", value="500.00")
    order = make_order(account, email="guest@example.com")
    ret = make_return(account, order)
    service.decide_return(ret.id)
    [decided] = trace(ret.id)
    assert decided["outcome"] == "credit"
    assert decided["conditions"][0]["observed"] == "120"


def test_history_outlives_the_purge_of_old_orders(account):
    service.create_rule(account.id, rule("Serial returners wait for staff", "no_action",
                                         condition("customer_returns", "gte", "2")))
    account.order_storage_months = 1
    for days in (90, 200):
        old = make_order(account, customer_shopify_id=42, created_at=NOW - timedelta(days=days + 5))
        make_return(account, old, customer_shopify_id=42, created_at=NOW - timedelta(days=days))
    db.session.commit()
    assert purge_expired_orders(account.id) == 2
    assert db.session.query(Return).filter(Return.order_id.is_(None)).count() == 2
    order = make_order(account, customer_shopify_id=42)
    ret = make_return(account, order, customer_shopify_id=42)
    service.decide_return(ret.id)
    assert trace(ret.id)[0]["outcome"] == "no_action"


def synced_product(account, **fields):
    values = {"account_id": account.id, "shopify_product_id": PRODUCT_ID, "title": "Trail Runner",
              "product_type": "Shoes", "tags": ["final-sale"], "collections": ["Summer Sale", "Running"]}
    db.session.add(Product(**{**values, **fields}))
    db.session.flush()


def returned_product(account, reasons=("Faulty",)):
    order = make_order(account)
    order.lines[0].product_id = PRODUCT_ID
    ret = make_return(account, order, reasons)
    for item in ret.items:
        item.product_id = PRODUCT_ID
    db.session.flush()
    return ret


def test_product_type_tags_collections_and_price_decide_and_show_in_the_trace(account):
    synced_product(account)
    service.create_rule(account.id, rule("Summer sale shoes under 100 get a credit note", "credit",
                                         condition("collection", "any_of", "summer sale"),
                                         condition("product_type", "is", "Shoes"),
                                         condition("product_tag", "has", "final-sale"),
                                         condition("item_price", "lt", "100"),
                                         condition("product", "is", "trail runner 1")))
    ret = returned_product(account)
    service.decide_return(ret.id)
    [decided] = trace(ret.id)
    assert decided["outcome"] == "credit"
    assert [(c["condition"], c["observed"]) for c in decided["conditions"]] == [
        ("Collection is in summer sale", "running, summer sale"), ("Product Type equal to shoes", "shoes"),
        ("Product has tag final-sale", "final-sale"), ("Item Price less than 100", "96"),
        ("Product equal to trail runner 1", "trail runner 1")]


def test_an_unsynced_product_reads_the_tags_its_order_line_was_imported_with(account):
    ret = returned_product(account)
    db.session.get(Order, ret.order_id).lines[0].product_tags = ["Final-Sale"]
    db.session.flush()
    facts = return_facts([ret.id])[ret.items[0].id]
    assert facts.product_tags == frozenset({"final-sale"}) and facts.product_type is None
    assert facts.collections == frozenset()


def count_statements():
    seen = []

    def listener(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", listener)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", listener)


@pytest.mark.parametrize("items", [1, 12])
def test_facts_are_one_query_per_return_whatever_its_size(account, items):
    synced_product(account)
    past_return(account, 10, customer=42)
    ret_id = returned_product(account, reasons=["Faulty"] * items).id
    db.session.commit()
    seen, stop = count_statements()
    try:
        facts = return_facts([ret_id])
    finally:
        stop()
    assert len(seen) == 1 and len(facts) == items
    assert all(f.product_type == "shoes" for f in facts.values())


def test_deciding_a_return_issues_as_many_statements_for_twelve_items_as_for_one(account):
    synced_product(account)
    service.create_rule(account.id, rule("Shoes get a credit note", "credit", condition("product_type", "is", "Shoes")))
    counts = []
    for items in (1, 12):
        ret = returned_product(account, reasons=["Faulty"] * items)
        db.session.commit()
        seen, stop = count_statements()
        try:
            service.decide_return(ret.id)
        finally:
            stop()
        counts.append(len([s for s in seen if s.lstrip().upper().startswith("SELECT")]))
        assert counts[-1] <= 12
        assert {t["outcome"] for t in trace(ret.id)} == {"credit"}
    assert counts[0] == counts[1]


def test_dry_run_and_impact_preview_read_the_new_dimensions(account):
    synced_product(account)
    service.create_rule(account.id, rule("Shoes get a credit note", "credit", condition("product_type", "is", "Shoes")))
    ret = returned_product(account)
    defs = service.rule_defs(account.id)
    run = preview.dry_run_return(account.id, ret.id, defs)
    assert run.items[0].decision.outcome == "credit"
    assert run.items[0].checks[0].trace[0].observed == "shoes"
    order = db.session.get(Order, ret.order_id)
    by_order = preview.dry_run_order(account.id, order.name, "Faulty", defs)
    assert by_order.items[0].decision.outcome == "credit"
    assert preview.impact(account.id, defs).caught == [1]
