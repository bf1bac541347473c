"""Bonus credit: a credit note or an exchange chosen instead of a refund earns the shop's bonus,
issued once as a gift card after the item itself is issued — however often the job runs, whether
the worker dies after Shopify's answer or the answer is lost. A refund earns nothing."""
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import OutboxEmail, ReturnItem, ShopifyCall, ShopifyReturn
from app.portal.status import bonus_outcome
from app.services import return_bonus, shopify_returns
from app.services.return_bonus import bonus_step
from app.services import return_workflow as wf
from app.shopify import errors as E
from tests.support.shopify_returns import placed_order, returns_account, submit

STAFF = "staff@example.com"
BONUS = {"credit_bonus": "10%", "exchange_bonus": "5.00"}


@pytest.fixture
def no_lease(app, monkeypatch):
    """Calls left claimed are reconciled at once (the lease is what a test would wait out)."""
    monkeypatch.setitem(app.config, "ISSUE_LEASE_SECONDS", 0)


def cards(sandbox, account) -> list:
    return [c for c in sandbox.store.get_shop(account.shop_domain).issuing["gift_cards"].values()
            if (c.note or "").startswith("Bonus credit")]


def issued_return(account, sandbox, jobs, choices):
    order = placed_order(account, sandbox, quantity=2, lines=len(choices), paid_in="shop")
    ret = submit(account, order, [(i, 2, option, order.products[i].in_stock[0] if option == "exchange" else None)
                                  for i, option in enumerate(choices)])
    jobs.run()
    wf.close_return(ret, STAFF)
    return ret


def test_a_credit_note_and_an_exchange_earn_their_bonus_once_and_a_refund_none(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", **BONUS)
    ret = issued_return(account, sandbox, jobs, ["credit", "exchange", "refund"])
    credit, exchange, refund = [db.session.get(ReturnItem, i.id) for i in ret.items]
    assert credit.bonus_amount == (credit.unit_value * 2 * Decimal("0.1")).quantize(Decimal("0.01"))
    assert exchange.bonus_amount == Decimal("10.00") and refund.bonus_amount is None
    jobs.run()
    jobs.run()  # again: nothing more
    items = [db.session.get(ReturnItem, i.id) for i in ret.items]
    assert [i.resolution for i in items] == ["ISSUED"] * 3
    made = cards(sandbox, account)
    assert len(made) == 1 and made[0].initial == int((credit.bonus_amount + Decimal("10.00")) * 100)
    assert [i.bonus_state for i in items] == ["ISSUED", "ISSUED", None]
    mail = [m for m in db.session.query(OutboxEmail).filter_by(return_id=ret.id) if made[0].code in m.text_body]
    assert len(mail) == 1  # the bonus card's code reaches the shopper once
    assert bonus_outcome(items[0], ret.currency).startswith(f"Bonus gift card worth {items[0].bonus_amount:.2f}")
    assert bonus_outcome(items[2], ret.currency) is None


def test_rules_decide_without_a_bonus(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", option_mode="rules", **BONUS)
    order = placed_order(account, sandbox, paid_in="shop")
    ret = submit(account, order, [(0, 1, None, None)])
    assert db.session.get(ReturnItem, ret.items[0].id).bonus_amount is None


def test_a_bonus_whose_answer_is_lost_is_found_not_made_twice(app, sandbox, jobs, virtual_clock, no_lease,
                                                               monkeypatch):
    account = returns_account(sandbox, "manual", credit_bonus="10%")
    # The credit note is issued first (the bonus step held back), then the bonus's answer is lost.
    steps = shopify_returns.STEPS
    monkeypatch.setattr(shopify_returns, "STEPS", tuple(s for s in steps if s is not bonus_step))
    ret = issued_return(account, sandbox, jobs, ["credit"])
    jobs.run()
    assert db.session.get(ReturnItem, ret.items[0].id).resolution == "ISSUED"
    monkeypatch.setattr(shopify_returns, "STEPS", steps)
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    sandbox.store.set_faults(account.shop_domain, drop_response_after_mutation=1.0)
    jobs.queued[:] = [("jobs.shopify_returns.advance_shopify_return_job", (ref.id,))]
    with pytest.raises(E.ShopifyError):
        jobs.run(times=1)
    sandbox.store.clear_faults(account.shop_domain)
    assert db.session.query(ShopifyCall).filter_by(phase="bonus").one().state == "CLAIMED"
    assert len(cards(sandbox, account)) == 1  # Shopify made it; we do not know yet
    sandbox.clock.advance(120)  # past Shopify's search lag: the card is findable by its code
    jobs.queued[:] = [("jobs.shopify_returns.advance_shopify_return_job", (ref.id,))]
    jobs.run()
    assert len(cards(sandbox, account)) == 1
    assert db.session.get(ReturnItem, ret.items[0].id).bonus_state == "ISSUED"


class Killed(BaseException):
    """The worker died between Shopify's answer and the commit."""


def test_a_worker_killed_after_the_bonus_was_made_leaves_one_card(app, sandbox, jobs, virtual_clock, no_lease,
                                                                  monkeypatch):
    account = returns_account(sandbox, "manual", customer_accounts="classic", exchange_bonus="5.00")
    ret = issued_return(account, sandbox, jobs, ["exchange"])
    real = return_bonus.encrypt_secret

    def die(*args, **kwargs):
        db.session.rollback()  # the worker's transaction is lost with it
        raise Killed("bonus")

    monkeypatch.setattr(return_bonus, "encrypt_secret", die)
    with pytest.raises(Killed):
        jobs.run()
    monkeypatch.setattr(return_bonus, "encrypt_secret", real)
    db.session.rollback()
    sandbox.clock.advance(120)
    ref = db.session.query(ShopifyReturn).filter_by(return_id=ret.id).one()
    jobs.queued[:] = [("jobs.shopify_returns.advance_shopify_return_job", (ref.id,))]
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert (item.resolution, item.bonus_state) == ("ISSUED", "ISSUED")
    assert [c.initial for c in cards(sandbox, account)] == [1000]


def test_a_bonus_shopify_refuses_goes_to_staff_and_the_credit_stands(app, sandbox, jobs, virtual_clock):
    account = returns_account(sandbox, "manual", credit_bonus="1000.00")
    from tests.support.shopify_returns import set_shop  # noqa: PLC0415
    set_shop(sandbox, account, gift_card_limit="50.00")
    account.gift_card_issue_limit = None  # as if not read yet: Shopify's refusal is what tells
    db.session.commit()
    ret = issued_return(account, sandbox, jobs, ["credit"])
    jobs.run()
    item = db.session.get(ReturnItem, ret.items[0].id)
    assert item.resolution == "ISSUED" and item.bonus_state == "FAILED"
    assert any(e.kind == "bonus_failed" for e in item.return_.events)
    assert cards(sandbox, account) == []
