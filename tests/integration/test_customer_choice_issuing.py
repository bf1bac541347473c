"""What a shopper chooses in the portal under Customer choice is a decision: the item is DECIDED
when the return is made, so the return action issues it (DESIGN §2.6, §2.8, §5). Under Rules the
item waits for the rules (UNDECIDED). Returns made by the portal's own service, not by a helper
that writes DECIDED straight to the table."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import ReturnItem
from app.services import return_workflow as wf
from app.services.return_submission import Selection, create_return
from tests.factories import make_account
from tests.support.portal import make_line, make_portal_order
from tests.support.shopify_returns import record_jobs


@pytest.fixture
def queued(app, monkeypatch):
    """Jobs the workflow queues by name (the jobs themselves are tested elsewhere)."""
    return record_jobs(app, monkeypatch)


def portal_return(account, option):
    order = make_portal_order(account, [make_line(title="Tee", discounted_unit_price=Decimal("20.00"))],
                              email="pat@example.com")
    db.session.commit()
    ret, created = create_return(account, order.id, [Selection(order.lines[0].id, 1, "Faulty", None, option)],
                                 f"t-{order.id}")
    assert created
    return ret


@pytest.mark.parametrize("option", ["refund", "credit"])
def test_a_customer_choice_is_decided_and_issued_when_the_action_fires(app, queued, option):
    account = make_account(option_mode="customer_choice", return_action="manual")
    db.session.commit()
    ret = portal_return(account, option)
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.option, item.resolution) == (option, "DECIDED")
    # Known at once: the units go into a Shopify return now, issued when the action fires.
    assert queued.queued == [("jobs.shopify_returns.plan_shopify_returns_job", (ret.id,))]
    wf.close_return(ret, "staff@example.com")
    assert queued.queued[-1] == ("jobs.shopify_returns.plan_shopify_returns_job", (ret.id,))


def test_a_rules_mode_item_waits_for_the_rules(app, queued):
    account = make_account(option_mode="rules", return_action="manual")
    db.session.commit()
    ret = portal_return(account, None)
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "UNDECIDED"
