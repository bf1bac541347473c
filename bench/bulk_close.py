"""Bulk close benchmark: "Close selected" over N returns under the Manual action, each with one
refund item, issued through the real jobs and client against the sandbox on the 100-points/s
(Basic) plan with its real query and mutation costs.

The sandbox and the client share a virtual clock, so the bucket's refill costs no real time; the
figure that matters is how much of what the plan allows the issuing used: points spent ÷ (the
bucket's starting 2,000 points + 100 points/s × the virtual seconds it took). The baseline in the
same run is that ceiling itself, expressed as items per second for the measured cost per item.

Requirement (enforced at full size, N = 1,000): every item issued, none failed, at least 80% of
the plan's throughput.
"""
import logging
import statistics
import tempfile
import time
from pathlib import Path

from bench import RequirementNotMet

RESTORE_RATE, BUCKET = 100.0, 2000.0


def _measure(count: int) -> dict:
    from flask_migrate import upgrade
    from werkzeug.serving import make_server
    import threading

    from app import create_app
    from app.config import TestConfig
    from app.extensions import db
    from app.models import ItemResolution, ReturnItem
    from app.services import return_workflow
    from app.shopify import client as client_module
    from sandbox import VirtualClock, create_app as sandbox_app
    from tests.support.issuing import connected_account, make_decided_return

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("app.services.issuing").setLevel(logging.WARNING)
    clock = VirtualClock(start=1_767_225_600.0)
    fake = sandbox_app({"SANDBOX_CLOCK": clock})
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox = _SandboxHandle(f"http://127.0.0.1:{server.server_port}", fake.extensions["sandbox"], clock)
    spent = {"points": 0.0, "throttled": 0}
    record_cost, throttle_wait = client_module.ShopifyClient._record_cost, client_module.ShopifyClient._throttle_wait

    def counting_record(self, body, document):
        cost = record_cost(self, body, document)
        if cost and isinstance(cost.get("actualQueryCost"), (int, float)):
            spent["points"] += float(cost["actualQueryCost"])
        return cost

    def counting_throttle(self, cost):
        spent["throttled"] += 1
        return throttle_wait(self, cost)

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"CONFIG_CLASS": TestConfig, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'b.db'}",
                          "REDIS_URL": None, "JOBS_BACKEND": "inprocess", "SHOPIFY_CLOCK": clock,
                          "RATELIMIT_STORAGE_URI": "memory://"})
        with app.app_context():
            upgrade()
            account = connected_account(sandbox, "manual")
            fake.extensions["sandbox"].update_shop(account.shop_domain, plan="basic")
            returns = [make_decided_return(account, order, "refund") for order in _orders(account, sandbox, count)]
            clock.advance(3600)  # the set-up's reads are over: start from a full bucket
            client_module.ShopifyClient._record_cost = counting_record
            client_module.ShopifyClient._throttle_wait = counting_throttle
            try:
                virtual_start, real_start = clock.now(), time.perf_counter()
                bulk = return_workflow.start_bulk_close(account, [r.id for r in returns], "bench")
                return_workflow.run_bulk_close(bulk.id)
                virtual_seconds, real_seconds = clock.now() - virtual_start, time.perf_counter() - real_start
            finally:
                client_module.ShopifyClient._record_cost = record_cost
                client_module.ShopifyClient._throttle_wait = throttle_wait
            states = dict(db.session.query(ReturnItem.resolution, db.func.count()).group_by(ReturnItem.resolution).all())
            failures = [i.failure_reason for i in db.session.query(ReturnItem).filter(
                ReturnItem.resolution == ItemResolution.FAILED.value).limit(3)]
            db.session.remove()
            db.engine.dispose()
    server.shutdown()
    allowed = BUCKET + RESTORE_RATE * virtual_seconds
    return {"count": count, "issued": states.get("ISSUED", 0), "failed": states.get("FAILED", 0),
            "failures": failures, "points": spent["points"], "throttled": spent["throttled"],
            "virtual_seconds": virtual_seconds, "real_seconds": real_seconds,
            "plan_share": spent["points"] / allowed if allowed else 0.0,
            "per_item": spent["points"] / count}


class _SandboxHandle:
    """What the test helpers need of a served sandbox: its URL, store and clock."""

    def __init__(self, url, store, clock):
        self.url, self.store, self.clock = url, store, clock

    def api_origin(self, shop_domain: str) -> str:
        return f"{self.url}/store/{shop_domain}"


def _orders(account, sandbox, count: int):
    from tests.support.issuing import shipped_order

    for _ in range(count):
        yield shipped_order(account, sandbox)


def run(smoke: bool = False) -> None:
    """Print issued items, points per item, the share of the plan used, against the ceiling."""
    count, repeats = (40, 1) if smoke else (1000, 3)
    runs = [_measure(count) for _ in range(repeats)]
    share = statistics.median(r["plan_share"] for r in runs)
    per_item = statistics.median(r["per_item"] for r in runs)
    virtual = statistics.median(r["virtual_seconds"] for r in runs)
    # Under one bucketful (smoke size) no time passes: the ceiling is then the bucket itself.
    ceiling = (BUCKET + RESTORE_RATE * virtual) / per_item / max(virtual, 1.0)
    achieved = count / max(virtual, 1.0)
    print(f"returns closed and issued: {count} (median of {repeats}); issued {[r['issued'] for r in runs]}, "
          f"failed {[r['failed'] for r in runs]}, THROTTLED answers {[r['throttled'] for r in runs]}")
    print(f"cost per item: {per_item:.1f} points; virtual time {virtual:.1f} s on the Basic plan "
          f"(100 points/s, bucket 2,000); real time {statistics.median(r['real_seconds'] for r in runs):.1f} s")
    print(f"throughput: {achieved:.2f} items/s vs the plan's ceiling {ceiling:.2f} items/s "
          f"(baseline, same run) -> ratio {share:.2f} of what the plan allows")
    if any(r["failures"] for r in runs):
        print(f"first failures: {runs[0]['failures']}")
    if smoke:
        return
    if any(r["issued"] != count or r["failed"] for r in runs):
        raise RequirementNotMet("not every item was issued")
    if share < 0.8:
        raise RequirementNotMet(f"used {share:.2f} of the plan's throughput; need at least 0.80")
