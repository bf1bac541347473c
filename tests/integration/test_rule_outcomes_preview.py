"""The new outcomes in the dry run, the impact preview, shadow warnings and the stored trace: a fee
rule is said with its percentage everywhere, a change of percentage counts as a changed outcome,
and rules mode decides kept and fee items (refund or credit) and leaves exchange-only ones to staff."""
import pytest

from app.extensions import db
from app.models import ReturnItem
from app.services import rules as service
from app.services import rules_preview as preview
from tests.integration.test_rules_preview import data  # noqa: F401 - the fixture

FEE_ALL = {"name": "Fee on everything", "outcome": "fee", "fee_percentage": "15", "enabled": True, "conditions": []}


def on_top(account_id, rule):
    service.reorder(account_id, [rule.id, *[r.id for r in service.rules_of(account_id) if r.id != rule.id]])


def test_a_fee_rule_is_said_with_its_percentage_in_the_dry_run_impact_and_trace(data, client):  # noqa: F811
    account = data["account"]
    fee = service.create_rule(account.id, FEE_ALL)
    on_top(account.id, fee)
    r2 = data["returns"][1]
    page = client.get(f"/dashboard/rules/dry-run?return={r2.id}").get_data(as_text=True)
    assert '<strong class="outcome">Restocking fee 15%</strong>' in page
    impact = preview.impact(account.id, service.rule_defs(account.id))
    assert impact.changed == impact.compared == 4
    assert {e["after_text"] for e in impact.examples} == {"Restocking fee 15%"}
    listed = client.get("/dashboard/rules").get_data(as_text=True)
    assert "→ Restocking fee 15%" in listed and "Restocking fee 15% → " not in listed

    # Decided with it, then the percentage changes: the preview counts every item as changed.
    ret = data["returns"][2]
    for item in ret.items:
        item.decision_trace, item.resolution = None, "UNDECIDED"
    db.session.commit()
    service.decide_return(ret.id)
    db.session.expire_all()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.resolution) == ("refund", "DECIDED")
    assert item.decision_trace["outcome"] == "fee" and item.decision_trace["fee_percentage"] == "15"
    page = client.get(f"/dashboard/returns/{ret.id}")
    assert "Restocking fee 15%" in page.get_data(as_text=True)
    service.update_rule(account.id, fee.id, {**FEE_ALL, "fee_percentage": "20"})
    again = preview.impact(account.id, service.rule_defs(account.id))
    assert any(e["before_text"] == "Restocking fee 15%" and e["after_text"] == "Restocking fee 20%"
               for e in again.examples)


@pytest.mark.parametrize("outcome, option, resolution", [
    ("keep_refund", "refund", "DECIDED"), ("keep_credit", "credit", "DECIDED"),
    ("exchange_only", None, "NO_ACTION")])
def test_rules_mode_decides_kept_items_and_leaves_exchange_only_to_staff(data, outcome, option,  # noqa: F811
                                                                          resolution):
    account = data["account"]
    rule = service.create_rule(account.id, {"name": outcome, "outcome": outcome, "enabled": True,
                                            "conditions": []})
    on_top(account.id, rule)
    ret = data["returns"][2]
    for item in ret.items:
        item.decision_trace, item.resolution, item.option = None, "UNDECIDED", None
    db.session.commit()
    service.decide_return(ret.id)
    db.session.expire_all()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.resolution, item.decision_trace["outcome"]) == (option, resolution, outcome)


def test_a_keep_rule_under_one_that_catches_everything_is_flagged(data, client):  # noqa: F811
    service.create_rule(data["account"].id, {"name": "Everything kept", "outcome": "keep_refund", "enabled": True,
                                             "conditions": []})
    service.create_rule(data["account"].id, {"name": "Shadowed exchange", "outcome": "exchange_only",
                                             "enabled": True, "conditions": [
                                                 {"dimension": "item_price", "operator": "lt", "value": "5"}]})
    page = client.get("/dashboard/rules").get_data(as_text=True)
    shadowed = page[page.index("Shadowed exchange"):]
    assert "This rule never runs:" in shadowed and "→ Exchange only" in shadowed
