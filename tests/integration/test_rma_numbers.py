"""RMA numbers are counted per store: a shop's customers see its own sequence (R-1001, R-1002…),
never one that grows with every other store's returns on the same installation."""
import threading
from decimal import Decimal

from app.extensions import db
from app.models import Account, Return
from app.services.return_submission import Selection, create_return
from tests.factories import make_account
from tests.support.portal import make_line, make_portal_order


def returned(account, token: str) -> Return:
    order = make_portal_order(account, [make_line(title="Tee", discounted_unit_price=Decimal("20.00"))],
                              email="pat@example.com")
    db.session.commit()
    ret, created = create_return(account, order.id, [Selection(order.lines[0].id, 1, "Faulty", None, "refund")],
                                 token)
    assert created
    return ret


def test_each_store_counts_its_own_returns(app):
    busy, quiet = make_account(), make_account()
    db.session.commit()
    busy_numbers = [returned(busy, f"busy-{n}").rma_number for n in range(3)]
    assert busy_numbers == ["R-1001", "R-1002", "R-1003"]
    assert returned(quiet, "quiet-1").rma_number == "R-1001"  # nothing of the busy store shows
    assert returned(busy, "busy-4").rma_number == "R-1004"


def test_a_resubmitted_form_takes_no_number(app):
    account = make_account()
    db.session.commit()
    first = returned(account, "same-token")
    order_id = first.order_id
    again, created = create_return(account, order_id, [Selection(first.items[0].order_line_id, 1, "Faulty", None,
                                                                 "refund")], "same-token")
    assert (created, again.id) == (False, first.id)
    assert returned(account, "next").rma_number == "R-1002"


def test_concurrent_submissions_in_one_store_never_share_a_number(e2e_app):
    with e2e_app.app_context():
        account = make_account()
        db.session.commit()
        orders = []
        for _ in range(6):
            order = make_portal_order(account, [make_line(title="Tee", discounted_unit_price=Decimal("9.00"))])
            orders.append((order.id, order.lines[0].id))
        db.session.commit()
        account_id = account.id
        db.session.remove()
    numbers, errors = [], []

    def submit(order_id, line_id):
        with e2e_app.app_context():
            try:
                account = db.session.get(Account, account_id)
                ret, _ = create_return(account, order_id, [Selection(line_id, 1, "Faulty", None, "refund")],
                                       f"race-{order_id}")
                numbers.append(ret.rma_number)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=pair) for pair in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"R-{1001 + n}" for n in range(6)]
