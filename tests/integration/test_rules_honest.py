"""Rules pages that say what will happen: moving straight to a position (hostile input refused,
nothing written), the rule editor refusing reasons the shop does not offer and negative amounts,
and rules mode refused while no rule could decide anything."""
from urllib.parse import quote

import pytest

from app.extensions import db
from app.services import rules as service
from tests.factories import make_account
from tests.support.settings import post_settings
from tests.integration.test_rules_pages import HX, admin, rule_post, snapshot, three  # noqa: F401 (fixtures)


def test_move_to_a_position_as_a_plain_form_and_with_htmx(admin, client, three):
    faulty, discount, canada = three
    response = client.post(f"/dashboard/rules/{canada.id}/position", data={"position": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#rule-{canada.id}")
    assert [r[0] for r in snapshot(admin.account_id)] == [canada.id, faulty.id, discount.id]
    fragment = client.post(f"/dashboard/rules/{canada.id}/position", data={"position": " 3 "}, headers=HX)
    assert fragment.status_code == 200 and "“Canada: no automation” is now number 3." in fragment.get_data(as_text=True)
    assert [r[0] for r in snapshot(admin.account_id)] == [faulty.id, discount.id, canada.id]


@pytest.mark.parametrize("typed", ["", "0", "4", "-1", "1.5", "٣", "1\x00", "%ED%A0%80", "9" * 400, "1e3", "+1",
                                   "x" * 5000])
@pytest.mark.parametrize("htmx", [False, True])
def test_positions_that_do_not_exist_are_refused_and_nothing_moves(admin, client, three, typed, htmx):
    before = snapshot(admin.account_id)
    # Sent as the browser would encode it; %ED%A0%80 is a lone surrogate in UTF-8's shape.
    body = "position=" + (typed if "%" in typed else quote(typed))
    response = client.post(f"/dashboard/rules/{three[2].id}/position", data=body,
                           content_type="application/x-www-form-urlencoded", headers=HX if htmx else {})
    assert response.status_code == 422
    assert "“Canada: no automation” was not moved. Choose a position from 1 to 3." in response.get_data(as_text=True)
    assert snapshot(admin.account_id) == before


def test_another_accounts_rule_cannot_be_moved(admin, client, three):
    other = make_account()
    db.session.commit()
    foreign = service.create_rule(other.id, {"name": "Theirs", "outcome": "refund", "enabled": True, "conditions": []})
    before = snapshot(other.id)
    assert client.post(f"/dashboard/rules/{three[1].id}/position", data={"position": "1"}).status_code == 303
    assert client.post(f"/dashboard/rules/{foreign.id}/position", data={"position": "1"}).status_code == 404
    assert client.post(f"/dashboard/rules/{2**63}/position", data={"position": "1"}).status_code == 404
    assert snapshot(other.id) == before


def raw_post(client, url, pairs):
    """Post form fields as a browser encodes them (values may hold NUL or a lone surrogate's bytes)."""
    body = "&".join(f"{quote(k)}={v if v.startswith('%') else quote(v)}" for k, v in pairs)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("data, field_id, message", [
    (rule_post(rows=(("a1", "return_reason", "is", "Broken"),)), "cond-a1-value-error",
     "“Broken” is not one of your return reasons"),
    (rule_post(rows=(("a1", "return_reason", "any_of", "Faulty, Lost interest"),)), "cond-a1-value-error",
     "“Lost interest” is not one of your return reasons"),
    (rule_post(rows=(("a1", "return_reason", "none_of", "Broken"),)), "cond-a1-value-error",
     "“Broken” is not one of your return reasons"),
    (rule_post(rows=(("a1", "order_value", "gt", "-5"),)), "cond-a1-value-error", "An amount is 0 or more."),
    (rule_post(rows=(("a1", "discount_value", "between", ""),), **{"cond-a1-low": "-10", "cond-a1-high": "5"}),
     "cond-a1-value-error", "An amount is 0 or more."),
    (rule_post(rows=(("a1", "order_value", "lt", "٥٠"),)), "cond-a1-value-error", "is not a number"),
    (rule_post(rows=(("a1", "order_value", "lt", "9" * 150),)), "cond-a1-value-error",
     "Use an amount below 1,000,000,000,000."),
])
def test_the_editor_refuses_reasons_the_shop_does_not_offer_and_impossible_amounts(admin, client, three, data,
                                                                                    field_id, message):
    before = snapshot(admin.account_id)
    for url in ("/dashboard/rules/new", f"/dashboard/rules/{three[0].id}/edit"):
        for action in ("save", "impact"):
            response = client.post(url, data={**data, "action": action})
            assert response.status_code == 422
            page = response.get_data(as_text=True)
            assert f'id="{field_id}"' in page and message in page
            assert snapshot(admin.account_id) == before


def test_the_reason_error_lists_the_reasons_offered_and_any_case_is_accepted(admin, client, three):
    page = client.post("/dashboard/rules/new", data=rule_post(rows=(("a1", "return_reason", "is", "Broken"),)))
    assert "Your reasons: Faulty, Too small, Too large" in page.get_data(as_text=True)
    response = client.post("/dashboard/rules/new", data=rule_post(rows=(("a1", "return_reason", "is", "faulty"),)))
    assert response.status_code == 303


@pytest.mark.parametrize("field, value", [
    # A browser sends a lone surrogate as U+FFFD (%EF%BF%BD), the mark of text that was broken.
    ("name", "Faulty\x00"), ("name", "%EF%BF%BD"), ("cond-a1-value", "Faulty\x00"), ("cond-a1-value", "%EF%BF%BD"),
    ("name", "x" * 100_000),
])
def test_hostile_text_in_the_editor_is_refused_and_nothing_is_written(admin, client, three, field, value):
    before = snapshot(admin.account_id)
    fields = {"name": "Faulty", "outcome": "refund", "enabled": "1", "row": "a1", "cond-a1-dimension": "return_reason",
              "cond-a1-operator": "is", "cond-a1-value": "Faulty", field: value}
    response = raw_post(client, "/dashboard/rules/new", list(fields.items()))
    assert response.status_code == 422
    assert snapshot(admin.account_id) == before


def switch_to(client, mode):
    return post_settings(client, {"option_mode": mode})


def test_switching_to_rules_mode_needs_a_rule_that_can_decide(admin, client):
    account = admin.account
    account.option_mode = "customer_choice"
    db.session.commit()
    response = switch_to(client, "rules")
    assert response.status_code == 422
    assert "You have no rule that can decide anything yet" in response.get_data(as_text=True)
    db.session.expire_all()
    assert account.option_mode == "customer_choice"
    # A rule that is switched off, or hinges on a reason nobody can pick, decides nothing either.
    service.create_rule(account.id, {"name": "Off", "outcome": "refund", "enabled": False, "conditions": []})
    assert switch_to(client, "rules").status_code == 422
    service.create_rule(account.id, {"name": "On", "outcome": "credit", "enabled": True, "conditions": []})
    assert switch_to(client, "rules").status_code == 303
    db.session.expire_all()
    assert account.option_mode == "rules"
    # Already in rules mode, other return settings still save (the rules page warns instead).
    service.set_enabled(account.id, service.rules_of(account.id)[1].id, False)
    assert switch_to(client, "rules").status_code == 303
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Rules mode is on, but no rule can decide anything" in page and "mode-on" not in page


def test_the_list_redraw_brings_the_mode_banner_with_it(admin, client, three):
    for rule in three:
        fragment = client.post(f"/dashboard/rules/{rule.id}/toggle", data={"enabled": "0"}, headers=HX)
    body = fragment.get_data(as_text=True)
    assert 'id="mode-banner" hx-swap-oob="true"' in body and "no rule can decide anything" in body


def test_a_saved_rule_whose_reason_the_shop_stopped_offering_is_flagged(admin, client, three):
    account = admin.account
    account.return_reasons = ["Too small", "Too large"]
    db.session.commit()
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Your portal no longer offers the reason “Faulty”, so no new return has it." in page
    # It can no longer decide anything, so the mode banner leaves Refund out.
    assert "new returns&#39; items get Credit note or No Action from these rules" in page
