"""Dry runs and impact previews on a small known data set, through the service and the pages."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.services import rules as service
from app.services import rules_preview as preview
from tests.factories import make_account, make_order, make_return, make_user
from tests.fixtures.auth import log_in
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND


@pytest.fixture
def data(app, client):
    """Three spec rules; four returns, three decided by the rules in the spec's order."""
    account = make_account(option_mode="rules")
    admin = make_user(account)
    db.session.commit()
    faulty, discount, canada = (service.create_rule(account.id, raw)
                                for raw in (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION))
    canadian = make_order(account, shipping_country="CA", subtotal_price=Decimal("100"),
                          total_discounts=Decimal("150"), total_price=Decimal("100"))  # 60 % off
    american = make_order(account, shipping_country="US")  # 20 % off
    r1 = make_return(account, canadian, ["Faulty", "Too small"])
    r2 = make_return(account, american, ["Faulty"])
    r3 = make_return(account, american, ["Too small"])
    r4 = make_return(account, canadian, ["Changed my mind"], option_source="customer")
    db.session.commit()
    for ret in (r1, r2, r3):
        service.decide_return(ret.id)
    log_in(client, admin.email)
    return {"account": account, "rules": (faulty, discount, canada), "returns": (r1, r2, r3, r4),
            "american": american}


def test_impact_of_the_saved_order_changes_nothing(data):
    result = preview.impact(data["account"].id, service.rule_defs(data["account"].id))
    assert (result.returns, result.items, result.caught, result.unmatched) == (4, 5, [2, 2, 0], 1)
    assert (result.compared, result.changed) == (4, 0)


def test_impact_after_moving_canada_to_the_top(data):
    faulty, discount, canada = data["rules"]
    service.reorder(data["account"].id, [canada.id, faulty.id, discount.id])
    result = preview.impact(data["account"].id, service.rule_defs(data["account"].id))
    assert (result.returns, result.items, result.caught, result.unmatched) == (4, 5, [3, 1, 0], 1)
    assert (result.compared, result.changed) == (4, 2)
    assert {(e["before"], e["after"]) for e in result.examples} == {("refund", "no_action"), ("credit", "no_action")}
    last_two = preview.impact(data["account"].id, service.rule_defs(data["account"].id), last=2)
    assert ((last_two.returns, last_two.items, last_two.caught, last_two.compared, last_two.changed)
            == (2, 2, [1, 0, 0], 1, 0))


def test_the_rules_page_shows_the_impact_and_refreshes_it_after_a_reorder(data, client):
    faulty, discount, canada = data["rules"]
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "would catch 2 of 5 items in the last 4 returns" in page
    assert "<strong>0 of 4</strong> items the rules decided" in page
    fragment = client.post("/dashboard/rules/reorder", data={"rule": [canada.id, faulty.id, discount.id]},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "would catch 3 of 5 items" in fragment and "<strong>2 of 4</strong>" in fragment


def test_dry_run_of_a_past_return_explains_each_item(data, client):
    faulty, discount, canada = data["rules"]
    r1 = data["returns"][0]
    service.reorder(data["account"].id, [canada.id, faulty.id, discount.id])
    run = preview.dry_run_return(data["account"].id, r1.id, service.rule_defs(data["account"].id))
    first = run.items[0]
    assert first.decision.rule_id == canada.id and first.decision.outcome == "no_action"
    assert first.stored["outcome"] == "refund"  # what was stored stays; the dry run only shows
    assert [(c.position, c.matched) for c in first.checks] == [(1, True)]
    page = client.get(f"/dashboard/rules/dry-run?return={r1.id}").get_data(as_text=True)
    assert "Would be decided by rule <strong>“Canada: no automation”</strong>" in page
    assert "Stored decision: Refund by “Faulty items are refunded” (version 1)" in page
    assert "Order Country equal to Canada <span class=\"muted\">(saw Canada)</span>" in page


def test_dry_run_of_an_order_and_a_reason(data, client):
    page = client.get("/dashboard/rules/dry-run", query_string={
        "order": data["american"].name.lstrip("#"), "reason": "Too small"}).get_data(as_text=True)
    assert "No rule matches: <strong>staff decide</strong>" in page
    assert "Order Return Reason equal to faulty <span class=\"muted\">(saw too small)</span>" in page
    assert "Order Discount Percent greater than 50 <span class=\"muted\">(saw 20)</span>" in page
    response = client.get("/dashboard/rules/dry-run", query_string={"order": "#999999", "reason": "Faulty"})
    assert response.status_code == 404 and "There is no stored order #999999." in response.get_data(as_text=True)
    assert client.get("/dashboard/rules/dry-run", query_string={"order": "", "reason": ""}).status_code == 422


def test_dry_run_refuses_other_accounts_and_nonsense(data, client):
    other = make_account()
    ret = make_return(other, make_order(other))
    db.session.commit()
    assert client.get(f"/dashboard/rules/dry-run?return={ret.id}").status_code == 404
    assert client.get("/dashboard/rules/dry-run?return=abc").status_code == 400
    assert client.get("/dashboard/rules/dry-run").status_code == 200


REVIEW_BIG = {"name": "Big orders are reviewed", "outcome": "review", "enabled": True,
              "conditions": [{"dimension": "order_value", "operator": "gt", "value": "50"}]}


def test_a_send_to_review_rule_is_listed_previewed_dry_run_and_shadow_checked(data, client):
    review_rule = service.create_rule(data["account"].id, REVIEW_BIG)
    faulty = data["rules"][0]
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Big orders are reviewed" in page and "Send to review" in page
    service.reorder(data["account"].id, [review_rule.id, *[r.id for r in data["rules"]]])
    run = preview.dry_run_return(data["account"].id, data["returns"][1].id, service.rule_defs(data["account"].id))
    assert run.items[0].decision.outcome == "review" and run.items[0].decision.rule_id == review_rule.id
    page = client.get(f"/dashboard/rules/dry-run?return={data['returns'][1].id}").get_data(as_text=True)
    assert "Would be decided by rule <strong>“Big orders are reviewed”</strong>" in page
    impact = preview.impact(data["account"].id, service.rule_defs(data["account"].id))
    assert impact is not None
    assert "items no rule catches or a No Action or Send to review rule catches wait for staff" in \
        client.get("/dashboard/rules").get_data(as_text=True)
    # A rule under one that catches everything it would is flagged, whatever its outcome.
    service.create_rule(data["account"].id, {**REVIEW_BIG, "name": "Shadowed review"})
    page = client.get("/dashboard/rules").get_data(as_text=True)
    shadowed = page[page.index("Shadowed review"):]
    assert "This rule never runs:" in shadowed and "catches every item this one would" in shadowed
    assert faulty.id


def test_a_rules_mode_return_a_review_rule_matches_waits_and_its_item_is_left_to_staff(app, data):
    from app.services.return_submission import Selection, create_return  # noqa: PLC0415 - only here
    from tests.support.portal import make_line, make_portal_order  # noqa: PLC0415 - only here
    account = data["account"]
    account.review_mode = "rule"
    review_rule = service.create_rule(account.id, REVIEW_BIG)
    service.reorder(account.id, [review_rule.id, *[r.id for r in data["rules"]]])
    order = make_portal_order(account, [make_line(title="Tee", discounted_unit_price=Decimal("80.00"))],
                              email="pat@example.com", total_price=Decimal("80.00"))
    db.session.commit()
    ret, _ = create_return(account, order.id, [Selection(order.lines[0].id, 1, "Faulty", None, None)], "t-review-1")
    assert ret.status == "REQUESTED"
    service.decide_return(ret.id)
    db.session.expire_all()
    item = ret.items[0]
    assert item.resolution == "NO_ACTION" and item.decision_trace["outcome"] == "review"
