"""Sending outbound webhooks to a real receiver on 127.0.0.1: signed deliveries it can verify (both
secrets during a rotation's overlap, only the new one after), retries with a growing back-off kept
on the row until the last attempt fails, nothing sent twice, redirects not followed, answers capped
and timed out, and a sweeper that re-queues what Redis lost."""
from datetime import timedelta

from app.extensions import db
from app.models import OutboundDelivery
from app.services import outbound_sending as sending
from app.services import outbound_webhooks as hooks
from tests.factories import make_account
from tests.support.outbound import verify

SEND = hooks.SEND_JOB


def endpoint_for(receiver, topics=hooks.TOPICS):
    account = make_account()
    db.session.commit()
    endpoint, secret = hooks.create_endpoint(account, receiver.url, list(topics))
    return account, endpoint, secret


def test_a_test_delivery_is_signed_with_the_endpoints_secret_and_carries_the_headers(app, receiver, jobs,
                                                                                     outbound_clock):
    account, endpoint, secret = endpoint_for(receiver)
    delivery = hooks.send_test(endpoint)
    assert jobs.queued == [(SEND, (delivery.id,))] and jobs.queued[0].queue == "webhooks"
    assert sending.deliver(delivery.id) == "delivered"
    (got,) = receiver.received
    assert verify(secret, got, now=outbound_clock.timestamp())
    assert not verify("whsec_someone-else", got, now=outbound_clock.timestamp())
    assert not verify(secret, got, now=outbound_clock.timestamp() + 301)  # outside the replay window
    assert got.headers["X-Boomerang-Topic"] == "webhook.test"
    assert got.headers["X-Boomerang-Event-Id"] == got.json["id"] == delivery.event_id
    assert got.headers["X-Boomerang-Timestamp"] == str(int(outbound_clock.timestamp()))
    assert got.headers["Content-Type"] == "application/json"
    assert got.json["shop"]["domain"] == account.shop_domain
    row = db.session.get(OutboundDelivery, delivery.id)
    assert (row.state, row.attempts, row.last_status_code, row.last_response) == ("delivered", 1, 200, "ok")


def test_a_duplicate_job_sends_nothing_again(app, receiver, jobs, outbound_clock):
    _, endpoint, _ = endpoint_for(receiver)
    delivery = hooks.send_test(endpoint)
    assert sending.deliver(delivery.id) == "delivered"
    assert sending.deliver(delivery.id) == "not due"
    assert len(receiver.received) == 1


def test_during_a_rotation_both_secrets_sign_and_after_24_hours_only_the_new(app, receiver, jobs, outbound_clock):
    _, endpoint, old = endpoint_for(receiver)
    new = hooks.rotate_secret(endpoint)
    assert new != old and hooks.reveal_secret(endpoint) == new
    sending.deliver(hooks.send_test(endpoint).id)
    during = receiver.received[-1]
    assert during.headers["X-Boomerang-Signature"].count("v1=") == 2
    assert verify(new, during, outbound_clock.timestamp()) and verify(old, during, outbound_clock.timestamp())
    outbound_clock.advance(hours=24, seconds=1)
    sending.deliver(hooks.send_test(endpoint).id)
    after = receiver.received[-1]
    assert after.headers["X-Boomerang-Signature"].count("v1=") == 1
    assert verify(new, after, outbound_clock.timestamp()) and not verify(old, after, outbound_clock.timestamp())


def test_failures_are_retried_with_a_growing_back_off_then_the_delivery_fails(app, receiver, jobs, outbound_clock):
    _, endpoint, secret = endpoint_for(receiver)
    receiver.answer(status=500, body=b"database down")
    delivery = hooks.send_test(endpoint)
    started = outbound_clock()
    pauses = []
    for attempt in range(1, sending.MAX_ATTEMPTS + 1):
        state = sending.deliver(delivery.id)
        row = db.session.get(OutboundDelivery, delivery.id)
        assert row.attempts == attempt and row.last_status_code == 500 and row.last_response == "database down"
        if attempt < sending.MAX_ATTEMPTS:
            assert state == "pending"
            pause = row.next_attempt_at - outbound_clock()
            pauses.append(pause)
            assert sending.deliver(delivery.id) == "not due"  # not before its time
            outbound_clock.advance(seconds=pause.total_seconds())
    assert state == "failed" and row.next_attempt_at is None
    assert pauses == sorted(pauses) and len(set(pauses)) == len(pauses)  # growing
    assert outbound_clock() - started == timedelta(minutes=sum(sending.RETRY_MINUTES))  # 3 h 56 min
    assert len(receiver.received) == sending.MAX_ATTEMPTS
    assert len({r.body for r in receiver.received}) == 1  # the same bytes every time
    assert {r.headers["X-Boomerang-Event-Id"] for r in receiver.received} == {delivery.event_id}
    assert all(verify(secret, r, now=float(r.headers["X-Boomerang-Timestamp"])) for r in receiver.received)
    assert [a["status"] for a in row.attempt_log] == [500] * sending.MAX_ATTEMPTS
    sending.send_again(row)  # a new round of the same event
    receiver.answer(status=204, body=b"")
    assert sending.deliver(delivery.id) == "delivered"
    assert receiver.received[-1].body == receiver.received[0].body


def test_a_refused_connection_and_a_timeout_are_failed_attempts_retried_later(app, receiver, jobs, outbound_clock,
                                                                              monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_WEBHOOKS_TOTAL_TIMEOUT", 0.5)
    _, endpoint, _ = endpoint_for(receiver)
    receiver.answer(delay=1.5)
    slow = hooks.send_test(endpoint)
    assert sending.deliver(slow.id) == "pending"
    row = db.session.get(OutboundDelivery, slow.id)
    assert row.last_status_code is None and "within 0.5 s" in row.last_error and row.last_duration_ms < 1400
    receiver.server.server_close()  # nothing listens on the port any more
    refused = hooks.send_test(endpoint)
    assert sending.deliver(refused.id) == "pending"
    assert db.session.get(OutboundDelivery, refused.id).last_error.startswith("Connection failed")


def test_a_redirect_is_not_followed_and_is_a_failed_attempt(app, receiver, jobs, outbound_clock):
    _, endpoint, _ = endpoint_for(receiver)
    receiver.answer(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    delivery = hooks.send_test(endpoint)
    assert sending.deliver(delivery.id) == "pending"
    row = db.session.get(OutboundDelivery, delivery.id)
    assert row.last_status_code == 302 and "Redirect (302) not followed" in row.last_error
    assert len(receiver.received) == 1


def test_a_huge_answer_is_read_only_to_the_cap_and_a_dripping_one_is_cut_off(app, receiver, jobs, outbound_clock,
                                                                            monkeypatch):
    _, endpoint, _ = endpoint_for(receiver)
    receiver.answer(body=b"x" * (5 * 1024 * 1024))
    delivery = hooks.send_test(endpoint)
    assert sending.deliver(delivery.id) == "delivered"
    row = db.session.get(OutboundDelivery, delivery.id)
    assert len(row.last_response) <= 2001 and row.last_response.endswith("…")
    monkeypatch.setitem(app.config, "OUTBOUND_WEBHOOKS_TOTAL_TIMEOUT", 1.0)
    receiver.answer(body=b"y" * 100, drip_every=0.1)  # 10 s in all, each byte well within a read timeout
    dripping = hooks.send_test(endpoint)
    assert sending.deliver(dripping.id) == "pending"
    row = db.session.get(OutboundDelivery, dripping.id)
    assert "longer than 1 s" in row.last_error and row.last_duration_ms < 3000


def test_the_sweeper_queues_what_is_due_so_a_lost_queue_loses_nothing(app, receiver, jobs, outbound_clock):
    _, endpoint, _ = endpoint_for(receiver)
    receiver.answer(status=503)
    delivery = hooks.send_test(endpoint)
    sending.deliver(delivery.id)
    jobs.queued.clear()  # Redis lost every job
    assert sending.sweep_due() == 0  # not due yet
    outbound_clock.advance(minutes=1)
    assert sending.sweep_due() == 1 and jobs.queued == [(SEND, (delivery.id,))]
    # One job id per attempt: swept twice it is the same job (RQ keeps one), the next attempt or
    # "Send again" a new one (RQ would refuse an id it still holds for a finished job).
    sending.sweep_due()
    first_sweep, second_sweep = (q.kwargs["job_id"] for q in jobs.queued)
    assert first_sweep == second_sweep and first_sweep != f"outbound-{delivery.id}-new"
    receiver.answer(status=200)
    assert sending.deliver(delivery.id) == "delivered"
    sending.send_again(db.session.get(OutboundDelivery, delivery.id))
    assert jobs.queued[-1].kwargs["job_id"] not in (first_sweep, f"outbound-{delivery.id}-new")
    assert sending.deliver(delivery.id) == "delivered"
    # A worker that died mid-send leaves the row claimed: due again once the claim lapses.
    other = hooks.send_test(endpoint)
    assert sending.claim(other.id, outbound_clock())
    jobs.queued.clear()
    assert sending.sweep_due() == 0
    outbound_clock.advance(seconds=sending.CLAIM_SECONDS + 1)
    assert sending.sweep_due() == 1 and sending.deliver(other.id) == "delivered"


def test_a_disabled_endpoint_gets_nothing_new_and_its_queued_deliveries_are_not_sent(app, receiver, jobs,
                                                                                    outbound_clock):
    _, endpoint, _ = endpoint_for(receiver)
    delivery = hooks.send_test(endpoint)
    hooks.set_enabled(endpoint, False)
    assert sending.deliver(delivery.id) == "failed"
    assert receiver.received == []
    assert "disabled" in db.session.get(OutboundDelivery, delivery.id).last_error


def test_the_log_keeps_finished_deliveries_30_days_and_owed_ones_whatever_their_age(app, receiver, jobs,
                                                                                    outbound_clock):
    _, endpoint, _ = endpoint_for(receiver)
    done = hooks.send_test(endpoint).id
    sending.deliver(done)
    owed = hooks.send_test(endpoint).id
    outbound_clock.advance(days=sending.KEEP_DAYS, seconds=1)
    assert sending.purge_old() == 1
    db.session.expire_all()
    assert db.session.get(OutboundDelivery, done) is None
    assert db.session.get(OutboundDelivery, owed).state == "pending"
