"""One parcel refunds at most one return: counted in the sandbox under First scan; two shoppers
racing for one number over real HTTP leave one holder; and the migration marks, and leaves out of
the unique index, open returns that already shared a number."""
import re
import threading

import pytest
import requests
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Return, TrackingEvent
from app.portal.session import status_token
from app.services.tracking import attach_parked_event
from tests.factories import make_account
from tests.support.issuing import queued  # noqa: F401  (fixtures: issuing jobs run on demand)
from tests.integration.test_migrations import ACCOUNT_AT_0001
from tests.integration.test_migrations import scratch_app  # noqa: F401 (the fixture: its own database)
from tests.integration.test_tracking_one_parcel import NUMBER, TAKEN, portal_tracking
from tests.support.issuing import connected_account, issued_in_sandbox, make_decided_return, shipped_order
from tests.support.tracking import connect, return_with_tracking, send_generic


def test_one_in_transit_scan_refunds_one_return_under_first_scan(app, sandbox, client, queued):
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "first_scan")
    honest = make_decided_return(account, shipped_order(account, sandbox), "refund")
    other = make_decided_return(account, shipped_order(account, sandbox), "refund")  # another customer's
    assert portal_tracking(client, account, honest, NUMBER).status_code == 303
    refused = portal_tracking(client, account, other, "1z 999 aa1 0123 456 784")
    assert refused.status_code == 422 and TAKEN in refused.get_data(as_text=True)
    assert send_generic(client, connect(account, "generic"), NUMBER, "in_transit").status_code == 200
    assert len(queued.issue) == 1
    queued.run()
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1
    assert db.session.get(Return, other.id).status == "OPEN"


def test_a_number_two_old_returns_share_refunds_neither_until_staff_choose(app, sandbox, client, queued):
    app.config["SHOPIFY_CLOCK"] = sandbox.clock
    account = connected_account(sandbox, "first_scan")
    first = make_decided_return(account, shipped_order(account, sandbox), "refund")
    second = make_decided_return(account, shipped_order(account, sandbox), "refund")
    for ret in (first, second):  # as the migration leaves rows that shared a number before the rule
        ret.tracking_number, ret.tracking_shared = NUMBER, True
    db.session.commit()
    assert send_generic(client, connect(account, "generic"), NUMBER, "in_transit").json["parked"] == 1
    assert queued.issue == []
    event = db.session.scalar(select(TrackingEvent))
    assert attach_parked_event(account, event.id, first.id, "staff@example.com") == 1
    assert len(queued.issue) == 1
    queued.run()
    assert issued_in_sandbox(sandbox, account)["refunds"] == 1
    assert db.session.get(Return, second.id).status == "OPEN"


def test_two_shoppers_racing_for_one_number_leave_one_holder(e2e_app, live_server):
    """Two browsers (own cookies, own CSRF tokens) post the same number for two returns at once,
    round after round: one is saved, the other reads the refusal, nothing answers 5xx."""
    rounds = 6
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor")
        db.session.commit()
        pairs = [[(r.id, f"/r/{account.slug}/returns/{status_token(r)}") for r in
                  (return_with_tracking(account, None), return_with_tracking(account, None))] for _ in range(rounds)]
        db.session.remove()
    for n, pair in enumerate(pairs):
        number, start, answers = f"JJD00{n}99887766", threading.Barrier(2), []
        sessions = []
        for _, path in pair:
            session = requests.Session()
            page = session.get(live_server.url(path), timeout=10).text
            sessions.append((session, path, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)))

        # Bound now: a thread that outlives its join must not read the next pair's barrier.
        def post(session, path, token, start=start, answers=answers, number=number):
            start.wait(5)
            answers.append(session.post(live_server.url(path + "/tracking"), allow_redirects=False, timeout=20,
                                        data={"csrf_token": token, "tracking_number": number}))

        threads = [threading.Thread(target=post, args=args) for args in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(a.status_code for a in answers) == [303, 422], [a.status_code for a in answers]
        assert TAKEN in next(a.text for a in answers if a.status_code == 422)
        with e2e_app.app_context():
            holders = db.session.scalars(select(Return.id).where(Return.tracking_number == number)).all()
            db.session.remove()
        assert len(holders) == 1 and holders[0] in {return_id for return_id, _ in pair}


def test_the_migration_marks_open_returns_that_already_share_a_number(scratch_app):
    with scratch_app.app_context():
        upgrade(revision="0001_core_tables")
        with db.engine.begin() as conn:
            conn.execute(text(ACCOUNT_AT_0001))
        upgrade(revision="0013_fulfillment_dates")

        def insert(conn, rid, status, number):
            conn.execute(text(
                "INSERT INTO returns (id, account_id, rma_number, status, shopify_order_id, order_name, currency, "
                "tracking_number, created_at, updated_at) VALUES (:id, 1, :rma, :status, 1, '#1', 'USD', :number, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": rid, "rma": f"R-{rid}", "status": status,
                                                           "number": number})

        rows = ((1, "OPEN", "SHARED1"), (2, "IN_TRANSIT", "SHARED1"), (3, "CLOSED", "REUSED1"),
                (4, "OPEN", "REUSED1"), (5, "OPEN", "ALONE1"), (6, "CANCELLED", "SHARED1"), (7, "OPEN", None),
                (8, "OPEN", None))
        with db.engine.begin() as conn:
            for row in rows:
                insert(conn, *row)
        upgrade(revision="0014_tracking_unique")
        with db.engine.connect() as conn:
            shared = conn.execute(text("SELECT id FROM returns WHERE tracking_shared ORDER BY id")).scalars().all()
        assert shared == [1, 2]
        for rid, status, number in ((9, "OPEN", "ALONE1"), (10, "RECEIVED", "REUSED1")):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                insert(conn, rid, status, number)
        with db.engine.begin() as conn:
            insert(conn, 11, "CLOSED", "ALONE1")  # a closed return holds nothing
        downgrade(revision="0013_fulfillment_dates")
        with db.engine.begin() as conn:
            insert(conn, 12, "OPEN", "ALONE1")  # going back drops the rule, and keeps every row
            assert conn.execute(text("SELECT count(*) FROM returns")).scalar() == 10
        downgrade(revision="base")
