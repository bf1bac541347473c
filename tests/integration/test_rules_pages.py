"""The rules pages through the test client: the editor (with and without HTMX), errors next to
their fields, tampered posts that change nothing, the mode banner, reordering and moving."""
import pytest

from app.extensions import db
from app.models import Rule
from app.services import rules as service
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND

HX = {"HX-Request": "true"}


@pytest.fixture
def admin(app, client):
    account = make_account(option_mode="rules")
    user = make_user(account, role="admin")
    db.session.commit()
    log_in(client, user.email)
    return user


@pytest.fixture
def three(admin):
    return [service.create_rule(admin.account_id, raw)
            for raw in (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION)]


def snapshot(account_id):
    db.session.expire_all()
    return [(r.id, r.position, r.name, r.version, r.enabled, r.outcome, r.conditions)
            for r in service.rules_of(account_id)]


def rule_post(name="Faulty", outcome="refund", rows=(("a1", "return_reason", "is", "Faulty"),), **extra):
    data = {"name": name, "outcome": outcome, "enabled": "1", "row": [r[0] for r in rows]}
    for key, dimension, operator, value in rows:
        data.update({f"cond-{key}-dimension": dimension, f"cond-{key}-operator": operator, f"cond-{key}-value": value})
    data.update(extra)
    return data


def test_the_rules_page_lists_rules_with_priorities_and_the_mode(admin, client, three):
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert page.index("Faulty items are refunded") < page.index("Big discounts") < page.index("Canada: no automation")
    assert "Order Country equal to Canada" in page and "Order Discount Percent greater than 50" in page
    assert 'aria-label="Priority 3"' in page
    assert "Rules mode is on" in page and "not running" not in page
    assert "Sortable-1.15.7.min.js" in page and "js/rules.js" in page


def test_customer_choice_keeps_the_rules_but_says_they_do_not_run(admin, client, three):
    db.session.get(type(admin), admin.id).account.option_mode = "customer_choice"
    db.session.commit()
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Rules are not running: customer choice is on" in page
    assert 'href="/dashboard/settings#returns"' in page
    assert "Faulty items are refunded" in page


def test_creating_a_rule_through_the_form_stores_it_at_the_bottom(admin, client, three):
    response = client.post("/dashboard/rules/new", data=rule_post(
        name="VIP credit", outcome="credit", rows=(("k1", "tag", "has", "VIP"), ("k2", "order_value", "between", ""))
        , **{"cond-k2-low": "10", "cond-k2-high": "99.50"}))
    assert response.status_code == 303
    rule = service.rules_of(admin.account_id)[-1]
    assert (rule.name, rule.position, rule.outcome) == ("VIP credit", 4, "credit")
    assert rule.conditions == [{"dimension": "tag", "operator": "has", "value": "VIP"},
                               {"dimension": "order_value", "operator": "between", "value": ["10", "99.50"]}]


def test_editing_bumps_the_version_and_shows_the_saved_words(admin, client, three):
    faulty = three[0]
    page = client.get(f"/dashboard/rules/{faulty.id}/edit").get_data(as_text=True)
    assert 'value="Faulty"' in page and "Version 1" in page
    response = client.post(f"/dashboard/rules/{faulty.id}/edit",
                           data=rule_post(name="Faulty → credit", outcome="credit"))
    assert response.status_code == 303
    assert db.session.get(Rule, faulty.id).version == 2


@pytest.mark.parametrize("data, field_id, message", [
    (rule_post(name=""), "name-error", "Give the rule a name."),
    (rule_post(outcome="cash"), "outcome-error", "Choose what the rule does"),
    (rule_post(rows=(("a1", "country", "is", "Atlantis"),)), "cond-a1-value-error", "not a country we know"),
    (rule_post(rows=(("a1", "discount_percent", "gt", "120"),)), "cond-a1-value-error",
     "A percentage is between 0 and 100."),
    (rule_post(rows=(("a1", "order_value", "between", ""),), **{"cond-a1-low": "9", "cond-a1-high": "3"}),
     "cond-a1-value-error", "The lowest value must not be above the highest."),
    (rule_post(rows=(("a1", "shoe_size", "is", "42"),)), "cond-a1-dimension-error",
     "Choose what the condition looks at."),
    (rule_post(rows=(("a1", "country", "gt", "CA"),)), "cond-a1-operator-error", "Choose how to compare"),
    (rule_post(rows=(("a1", "tag", "has", "x" * 300),)), "cond-a1-value-error", "Use at most 200 characters."),
    (rule_post(name="n" * 500), "name-error", "Use at most 120 characters."),
    (rule_post(rows=tuple((f"k{i}", "tag", "has", "x") for i in range(25))), "conditions-error",
     "at most 20 conditions"),
])
def test_bad_definitions_show_the_error_next_to_the_field_and_change_nothing(
        admin, client, three, data, field_id, message):
    before = snapshot(admin.account_id)
    for url in ("/dashboard/rules/new", f"/dashboard/rules/{three[0].id}/edit"):
        response = client.post(url, data=data)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert f'id="{field_id}"' in page and message in page
        assert snapshot(admin.account_id) == before


def test_another_accounts_rule_is_a_404_everywhere_and_untouched(admin, client):
    other = make_account()
    db.session.commit()
    foreign = service.create_rule(other.id, FAULTY_REFUND)
    before = snapshot(other.id)
    assert client.get(f"/dashboard/rules/{foreign.id}/edit").status_code == 404
    assert client.post(f"/dashboard/rules/{foreign.id}/edit", data=rule_post(name="stolen")).status_code == 404
    assert client.post(f"/dashboard/rules/{foreign.id}/move", data={"direction": "up"}).status_code == 404
    assert client.post(f"/dashboard/rules/{foreign.id}/toggle", data={"enabled": "0"}).status_code == 404
    assert client.post(f"/dashboard/rules/{foreign.id}/delete").status_code == 404
    assert client.post("/dashboard/rules/reorder", data={"rule": [foreign.id]}).status_code == 409
    assert snapshot(other.id) == before


@pytest.mark.parametrize("kwargs, status", [
    ({"data": {"rule": ["1", "x"]}}, 400),
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"data": '{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}", "content_type": "application/json"}, 400),
    ({"json": {"rules": "1,2,3"}}, 400),
    ({"json": ["just", "a", "list"]}, 400),
    ({"data": {"rule": [str(i) for i in range(2000)]}}, 400),
])
def test_malformed_reorders_are_refused(admin, client, three, kwargs, status):
    before = snapshot(admin.account_id)
    assert client.post("/dashboard/rules/reorder", **kwargs).status_code == status
    assert snapshot(admin.account_id) == before


def test_reorder_stores_the_dragged_order_and_answers_htmx_with_the_list(admin, client, three):
    faulty, discount, canada = three
    response = client.post("/dashboard/rules/reorder", data={"rule": [canada.id, faulty.id, discount.id]}, headers=HX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.startswith('<div id="rules-list"') and "<html" not in fragment
    assert fragment.index("Canada: no automation") < fragment.index("Faulty items are refunded")
    assert "New order saved." in fragment
    assert [r[0] for r in snapshot(admin.account_id)] == [canada.id, faulty.id, discount.id]
    # JSON works too; an order that misses a rule is refused with the current list.
    assert client.post("/dashboard/rules/reorder",
                       json={"rules": [faulty.id, discount.id, canada.id]}).status_code == 200
    stale = client.post("/dashboard/rules/reorder", data={"rule": [faulty.id, discount.id]}, headers=HX)
    assert stale.status_code == 409 and "The rules changed since this page was loaded" in stale.get_data(as_text=True)
    assert [r[1] for r in snapshot(admin.account_id)] == [1, 2, 3]


def test_move_buttons_work_as_plain_forms_and_with_htmx(admin, client, three):
    faulty, discount, canada = three
    response = client.post(f"/dashboard/rules/{canada.id}/move", data={"direction": "up"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#rule-{canada.id}")
    assert [r[0] for r in snapshot(admin.account_id)] == [faulty.id, canada.id, discount.id]
    fragment = client.post(f"/dashboard/rules/{canada.id}/move", data={"direction": "up"}, headers=HX)
    assert "is now number 1." in fragment.get_data(as_text=True)
    assert [r[0] for r in snapshot(admin.account_id)] == [canada.id, faulty.id, discount.id]
    assert client.post(f"/dashboard/rules/{canada.id}/move", data={"direction": "sideways"}).status_code == 400


def test_switching_off_and_deleting(admin, client, three):
    faulty = three[0]
    assert client.post(f"/dashboard/rules/{faulty.id}/toggle", data={"enabled": "0"}).status_code == 303
    assert db.session.get(Rule, faulty.id).enabled is False
    assert client.post(f"/dashboard/rules/{faulty.id}/toggle", data={"enabled": "maybe"}).status_code == 400
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Turn on" in page and 'data-confirm="Delete the rule' in page
    asked = client.post(f"/dashboard/rules/{faulty.id}/delete")  # without JavaScript: a page asks first
    assert asked.status_code == 200
    assert (f"Delete the rule “{faulty.name}”? Returns it already decided keep their decision."
            in asked.get_data(as_text=True))
    assert len(snapshot(admin.account_id)) == 3
    assert client.post(f"/dashboard/rules/{faulty.id}/delete", data={"confirmed": "yes"}).status_code == 303
    assert [r[1] for r in snapshot(admin.account_id)] == [1, 2]


def test_the_editor_without_javascript_adds_removes_and_refreshes_rows(admin, client):
    data = rule_post(rows=(("a1", "order_value", "is", ""),), action="refresh")
    page = client.post("/dashboard/rules/new", data=data).get_data(as_text=True)
    assert 'value="eq" selected' in page  # the operator fits the new dimension
    page = client.post("/dashboard/rules/new", data={**data, "action": "add"}).get_data(as_text=True)
    assert page.count('class="condition-row"') == 2
    page = client.post("/dashboard/rules/new", data={**data, "remove": "a1"}).get_data(as_text=True)
    assert page.count('class="condition-row"') == 0
    assert service.rules_of(admin.account_id) == []


def test_the_condition_row_fragment_follows_the_dimension(admin, client):
    row = client.get("/dashboard/rules/condition-row?row=b2&cond-b2-dimension=order_value&cond-b2-operator=between&n=2",
                     headers=HX).get_data(as_text=True)
    assert 'id="cond-b2-low"' in row and 'id="cond-b2-high"' in row
    assert "Condition <span class=\"cond-n\">2</span>" in row
    row = client.get("/dashboard/rules/condition-row?row=b2&cond-b2-dimension=discount_code&cond-b2-operator=none_used",
                     headers=HX).get_data(as_text=True)
    assert "No value needed." in row and 'id="cond-b2-value"' not in row
    row = client.get(
        "/dashboard/rules/condition-row?row=b2&cond-b2-dimension=country&cond-b2-operator=has").get_data(as_text=True)
    assert 'value="is" selected' in row  # an operator from another dimension falls back to the first
    assert client.get("/dashboard/rules/condition-row?row=../../x").status_code == 400


def test_impact_preview_of_an_unsaved_edit_saves_nothing(admin, client, three):
    before = snapshot(admin.account_id)
    response = client.post(f"/dashboard/rules/{three[2].id}/edit", data=rule_post(name="All", rows=(), action="impact"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "If you save this" in page
    assert snapshot(admin.account_id) == before
    invalid = client.post("/dashboard/rules/new", data=rule_post(name="", action="impact"), headers=HX)
    assert invalid.status_code == 422 and invalid.headers["HX-Retarget"] == "#rule-form"


def test_staff_cannot_reach_any_rules_page(app, client):
    from app.dashboard.scope import ADMIN_ONLY_ENDPOINTS

    rule_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/dashboard/rules")}
    assert len(rule_endpoints) == 10 and rule_endpoints <= ADMIN_ONLY_ENDPOINTS


def test_huge_ids_and_broken_stored_rules_never_500(admin, client, three):
    huge = "9" * 25
    for method, url in (("get", f"/dashboard/rules/{huge}/edit"), ("post", f"/dashboard/rules/{huge}/toggle"),
                        ("get", f"/dashboard/rules/dry-run?return={huge}"),
                        ("get", "/dashboard/rules/dry-run?return=" + "9" * 5000)):
        assert getattr(client, method)(url, data={"enabled": "1"} if method == "post" else None).status_code == 404
    assert client.post("/dashboard/rules/reorder", data={"rule": [huge]}).status_code == 409
    three[1].conditions = [{"dimension": "shoe_size", "operator": "is", "value": "42"}]
    db.session.commit()
    page = client.get("/dashboard/rules")
    assert page.status_code == 200 and "no longer checks out" in page.get_data(as_text=True)


def test_customer_choice_with_review_by_rule_says_review_rules_still_run(admin, client, three):
    account = db.session.get(type(admin), admin.id).account
    account.option_mode, account.review_mode = "customer_choice", "rule"
    db.session.commit()
    page = client.get("/dashboard/rules").get_data(as_text=True)
    assert "Rules are not running: customer choice is on" in page
    assert "the rules do run to decide\n  which returns staff approve or decline first" in page
    account.review_mode = "none"
    db.session.commit()
    assert "review-rules-run" not in client.get("/dashboard/rules").get_data(as_text=True)
