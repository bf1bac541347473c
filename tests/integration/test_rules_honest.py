"""Rules pages that say what will happen: moving straight to a position (hostile input refused,
nothing written), the rule editor refusing reasons the shop does not offer and negative amounts,
and rules mode refused while no rule could decide anything."""
from urllib.parse import quote

import pytest

from app.extensions import db
from app.services import rules as service
from tests.factories import make_account
from tests.integration.test_rules_pages import HX, admin, rule_post, snapshot, three  # noqa: F401 (fixtures)


def test_move_to_a_position_as_a_plain_form_and_with_htmx(admin, client, three):
    faulty, discount, canada = three
    response = client.post(f"/dashboard/rules/{canada.id}/position", data={"position": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#rule-{canada.id}")
    assert [r[0] for r in snapshot(admin.account_id)] == [canada.id, faulty.id, discount.id]
    fragment = client.post(f"/dashboard/rules/{canada.id}/position", data={"position": " 3 "}, headers=HX)
    assert fragment.status_code == 200 and "“Canada: no automation” is now number 3." in fragment.get_data(as_text=True)
    assert [r[0] for r in snapshot(admin.account_id)] == [faulty.id, discount.id, canada.id]


@pytest.mark.parametrize("typed", ["", "0", "4", "-1", "1.5", "٣", "1\x00", "%ED%A0%80", "9" * 400, "1e3", "+1", "x" * 5000])
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


def test_another_accounts_rule_cannot_be_moved(admin, client):
    other = make_account()
    db.session.commit()
    foreign = service.create_rule(other.id, {"name": "Theirs", "outcome": "refund", "enabled": True, "conditions": []})
    before = snapshot(other.id)
    assert client.post(f"/dashboard/rules/{foreign.id}/position", data={"position": "1"}).status_code == 404
    assert client.post(f"/dashboard/rules/{2**63}/position", data={"position": "1"}).status_code == 404
    assert snapshot(other.id) == before
