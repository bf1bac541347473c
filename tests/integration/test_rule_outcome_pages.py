"""The rule editor with the new outcomes: each can be created through the form and is said in the
rules list ("… → Restocking fee 15%"); a fee percentage that cannot be kept is refused next to its
field with what was typed still there, and nothing is written."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Rule
from app.services import rules as service
from tests.support.hostile import form_body
from tests.integration.test_rules_pages import admin, rule_post, snapshot  # noqa: F401 - the fixture

OUTCOMES = {"keep_refund": "Refund, keep the item", "keep_credit": "Credit note, keep the item",
            "exchange_only": "Exchange only", "fee": "Restocking fee 15%"}


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_each_new_outcome_is_created_through_the_form_and_said_in_the_list(admin, client, outcome):  # noqa: F811
    response = client.post("/dashboard/rules/new", data=rule_post(name=f"Rule {outcome}", outcome=outcome,
                                                                  fee_percentage="15"))
    assert response.status_code == 303
    rule = service.rules_of(admin.account_id)[-1]
    assert rule.outcome == outcome
    assert (rule.fee_percentage is not None) is (outcome == "fee")  # only a fee rule keeps its percentage
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert f"→ {OUTCOMES[outcome]}</p>" in page
    editor = client.get(f"/dashboard/rules/{rule.id}/edit").get_data(as_text=True)
    assert f'id="outcome-{outcome}" name="outcome" value="{outcome}" checked' in editor
    if outcome == "fee":
        assert 'name="fee_percentage" inputmode="decimal" maxlength="40" size="6"\n        value="15"' in editor


@pytest.mark.parametrize("typed, message", [
    ("", "Enter the restocking fee as a percentage"), ("0", "more than 0% and at most 100%"),
    ("150", "more than 0% and at most 100%"), ("²", "in digits"), ("１５", "in digits"), ("15\x00", "in digits"),
    ("9" * 5000, "in digits"), ("-3", "in digits"), ("\ud800", "in digits")])
def test_a_bad_fee_percentage_is_refused_beside_its_field_keeping_what_was_typed(admin, client, typed,  # noqa: F811
                                                                                message):
    before = snapshot(admin.account_id)
    fields = rule_post(name="Fee rule", outcome="fee", fee_percentage=typed)
    fields["row"] = fields["row"][0]  # one condition row: a plain field, so the raw body can carry it
    response = client.post("/dashboard/rules/new", data=form_body(fields),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="fee_percentage-error"' in page and message in page
    assert 'id="outcome-fee" name="outcome" value="fee" checked' in page and 'value="Fee rule"' in page
    if typed and typed.isprintable() and len(typed) < 40 and "\ud800" not in typed:
        assert f'value="{typed}"' in page
    assert snapshot(admin.account_id) == before
    assert db.session.query(Rule).filter_by(name="Fee rule").count() == 0


def test_editing_a_fee_rules_percentage_is_a_new_version_and_its_impact_counts_it(admin, client):  # noqa: F811
    rule = service.create_rule(admin.account_id, {"name": "Fee", "outcome": "fee", "fee_percentage": "10",
                                                  "enabled": True, "conditions": []})
    response = client.post(f"/dashboard/rules/{rule.id}/edit", data=rule_post(name="Fee", outcome="fee", rows=(),
                                                                               fee_percentage="12.5"))
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Rule, rule.id)
    assert (saved.version, str(saved.fee_percentage.normalize())) == (2, "12.5")
    assert "→ Restocking fee 12.5%" in client.get("/dashboard/rules").get_data(as_text=True)


def test_customer_choice_says_keep_exchange_and_fee_rules_still_run(admin, client):  # noqa: F811
    account = db.session.get(type(admin), admin.id).account
    account.option_mode = "customer_choice"
    db.session.commit()
    assert "submission-rules-run" not in client.get("/dashboard/rules").get_data(as_text=True)
    service.create_rule(admin.account_id, {"name": "Keep", "outcome": "keep_credit", "enabled": True,
                                           "conditions": []})
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Rules are not running: customer choice is on" in page and 'id="submission-rules-run"' in page


@pytest.mark.parametrize("typed", ["15", "12.5", "100", "0.01"])
def test_a_stored_fee_rule_reads_back_and_an_unchanged_save_keeps_its_version(admin, client, typed):  # noqa: F811
    rule = service.create_rule(admin.account_id, {"name": "Fee", "outcome": "fee", "fee_percentage": typed,
                                                  "enabled": True, "conditions": []})
    db.session.expire_all()  # read back from the database (four decimal places there)
    (parsed,) = service.rule_defs(admin.account_id)
    assert parsed.fee_percentage == Decimal(typed)
    response = client.post(f"/dashboard/rules/{rule.id}/edit", data=rule_post(name="Fee", outcome="fee", rows=(),
                                                                               fee_percentage=typed))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Rule, rule.id).version == 1
    assert f"→ Restocking fee {typed}%" in client.get("/dashboard/rules").get_data(as_text=True)
