"""Bulk close benchmark: returns submitted in the portal, planned into Shopify returns, then
"Close selected" under the Manual action, each Shopify return processed and closed — every
Admin API call counted from submission to close, against the sandbox on the Basic plan
(100 points/s, bucket 2,000) with its real query and mutation costs.

- The mix: 1,000 returns of 1, 2 or 3 items (a third each), the items 50% refund, 30% credit note
  (store credit: the shop has new customer accounts) and 20% exchange to another in-stock variant
  of the same product, shuffled with a fixed seed. Every order has 3 lines whatever the return
  takes, so returns of 1, 2 and 3 items differ only in what they return.
- Beside it, in the same run and on a shop of its own: 1-item refund-only returns, today's
  benchmark case, so its cost per item is printed next to the old method's 19.0 points.
- Each return is made the way the portal's submit makes it (``refresh_returnable_now``, then
  ``create_return`` with the portal's live variants), so its Shopify return is created by the
  real jobs, run in-process; then ``start_bulk_close`` + ``run_bulk_close`` fire the action.
- Every call's actual cost (``actualQueryCost``) is recorded with its document (the name
  ``ShopifyClient.run`` was given) and the return and phase it served: submission (the portal's
  reads while the shopper waits), creation (the create step: returnable units, reason
  definitions, variant prices, ``returnCreate``, any reconciliation read), issuing (remove,
  process, gift card, exchange order and dispose steps: suggested outcome, exchange stock,
  ``returnProcess``, …) and closing (``returnClose``). The phase is the step of
  ``app.services.shopify_returns.advance`` the call ran in.
- The sandbox and the client share a virtual clock, so bucket waits cost no real time; the share
  of the plan used is points spent ÷ (2,000 + 100 points/s × the virtual seconds from the first
  submission to the last close).

Requirements (full size, medians of 3 runs): every item issued and none failed, no THROTTLED
answer, at least 90% of the plan's ceiling, and in each of creation, issuing and closing a
3-item return costs at most 2 points more than a 1-item return — for issuing, a return of the same
kinds of item (a round with money reads Shopify's suggested outcome once, a round with exchanges
reads their stock once: what grows with the kinds is printed, what grows with the items is held
to +2).
"""
from __future__ import annotations

import functools
import logging
import random
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench import RequirementNotMet

RESTORE_RATE, BUCKET = 100.0, 2000.0
SEED = 20260401
ORDER_LINES = 3
MIX = (("refund", 5), ("credit", 3), ("exchange", 2))  # tenths of the items
OLD_REFUND_POINTS_PER_ITEM = 19.0  # the old method (suggestedRefund + refundCreate), bench at 7b545b6
TOP_UP = 20  # units added to an exchange variant the planned exchanges have used up (set-up)
MIN_PLAN_SHARE = 0.90
MAX_GROWTH = 2.0  # points a 3-item return may cost more than a 1-item one, per phase
PHASES = ("submission", "creation", "issuing", "closing")
REQUIRED_PHASES = ("creation", "issuing", "closing")
# The step of advance() a call runs in names its phase.
STEP_PHASES = {"create_step": "creation", "review_step": "creation", "remove_step": "issuing",
               "process_step": "issuing", "gift_card_step": "issuing", "exchange_order_step": "issuing",
               "bonus_step": "issuing", "dispose_step": "issuing", "close_step": "closing",
               "cancel_step": "cancelling"}


@dataclass
class Call:
    """One answered Admin API call."""

    order: int | None      # the Shopify order of the return it served (None: outside any)
    phase: str
    document: str
    actual: float
    requested: float


@dataclass
class Meter:
    """Every call the app's client makes while installed (see ``metered``)."""

    calls: list[Call] = field(default_factory=list)
    throttled: Counter = field(default_factory=Counter)
    local: threading.local = field(default_factory=threading.local)

    @contextmanager
    def serving(self, order: int, phase: str):
        """Calls made inside are for this return (by its Shopify order) and phase."""
        outer = getattr(self.local, "at", None)
        self.local.at = (order, phase)
        try:
            yield
        finally:
            self.local.at = outer

    def where(self) -> tuple[int | None, str]:
        return getattr(self.local, "at", None) or (None, "outside")


@contextmanager
def metered(meter: Meter):
    """Count every call: ``ShopifyClient.run`` notes the document's name, ``_record_cost`` the
    actual cost, ``_throttle_wait`` each THROTTLED answer; each step of ``advance`` sets its phase."""
    from app.services import shopify_returns
    from app.shopify.client import ShopifyClient

    run, record_cost, throttle_wait = ShopifyClient.run, ShopifyClient._record_cost, ShopifyClient._throttle_wait
    steps = shopify_returns.STEPS
    names = threading.local()

    def named_run(self, name, variables=None, **options):
        outer = getattr(names, "name", None)
        names.name = name
        try:
            return run(self, name, variables, **options)
        finally:
            names.name = outer

    def counting_record(self, body, document):
        cost = record_cost(self, body, document)
        if cost and isinstance(cost.get("actualQueryCost"), (int, float)):
            order, phase = meter.where()
            meter.calls.append(Call(order, phase, getattr(names, "name", None) or "(unnamed)",
                                    float(cost["actualQueryCost"]), float(cost.get("requestedQueryCost") or 0)))
        return cost

    def counting_throttle(self, cost):
        meter.throttled[getattr(names, "name", None) or "(unnamed)"] += 1
        return throttle_wait(self, cost)

    def in_phase(step):
        phase = STEP_PHASES[step.__name__]

        @functools.wraps(step)
        def wrapped(ctx):
            with meter.serving(ctx.ret.shopify_order_id, phase):
                return step(ctx)
        return wrapped

    ShopifyClient.run, ShopifyClient._record_cost = named_run, counting_record
    ShopifyClient._throttle_wait = counting_throttle
    shopify_returns.STEPS = tuple(in_phase(step) for step in steps)
    try:
        yield meter
    finally:
        ShopifyClient.run, ShopifyClient._record_cost, ShopifyClient._throttle_wait = run, record_cost, throttle_wait
        shopify_returns.STEPS = steps


# --- the returns -----------------------------------------------------------------------------------

@dataclass
class Planned:
    """One return to submit: its order and, per returned line, (option, exchange variant)."""

    order: object            # the Order row (used only while submitting)
    shopify_order: int       # its Shopify id: the key of the return's calls
    choices: list            # (line index, option, sandbox variant or None)

    @property
    def items(self) -> int:
        return len(self.choices)

    @property
    def options(self) -> tuple:
        return tuple(sorted(option for _, option, _ in self.choices))


def _mix(rng: random.Random, count: int) -> list[tuple[int, list[str]]]:
    """``count`` returns of 1–3 items (a third each) and their items' options in exact
    proportions, both shuffled: [(items, [option, …]), …]."""
    sizes = [1 + i % 3 for i in range(count)]
    rng.shuffle(sizes)
    total = sum(sizes)
    options = [option for option, tenths in MIX[1:] for _ in range(round(total * tenths / 10))]
    options = [MIX[0][0]] * (total - len(options)) + options
    rng.shuffle(options)
    out, at = [], 0
    for size in sizes:
        out.append((size, options[at:at + size]))
        at += size
    return out


def _exchangeable(sandbox, account) -> list:
    """Every product of the shop that has other in-stock variants to exchange to."""
    from tests.support.portal import exchangeable_product

    found = []
    while True:
        try:
            found.append(exchangeable_product(sandbox, account.shop_domain, exclude={p.id for p in found}))
        except LookupError:
            return found


def _place(sandbox, account, shapes: list[tuple[int, list[str]]], rng: random.Random) -> list[Planned]:
    """A shipped order of ORDER_LINES lines per return (the first product taken in turn from the
    exchangeable ones, so exchanges spread over the catalogue), the returned lines drawn at
    random, each exchange to the other in-stock variant with the most units left (the sandbox's
    catalogue holds a few hundred units in all: a variant none is left of gets TOP_UP more)."""
    from tests.support.shopify_returns import placed_order, stock

    products = _exchangeable(sandbox, account)
    left: dict[int, int] = {}
    planned = []
    for n, (size, options) in enumerate(shapes):
        order = placed_order(account, sandbox, lines=ORDER_LINES, product=products[n % len(products)])
        by_variant = {line.variant_id: index for index, line in enumerate(order.lines)}
        choices = []
        for product, option in zip(rng.sample(order.products, size), options, strict=True):
            variant = None
            if option == "exchange":
                for v in product.in_stock:
                    left.setdefault(v.id, stock(sandbox, account, v.id))
                variant = max(product.in_stock, key=lambda v: left[v.id])
                if left[variant.id] < 1:  # the catalogue is small: restock it before anything is counted
                    with sandbox.store.lock:
                        sandbox.store.get_shop(account.shop_domain).variants[variant.id].inventory += TOP_UP
                    left[variant.id] += TOP_UP
                left[variant.id] -= 1
            choices.append((by_variant[product.bought.id], option, variant))
        planned.append(Planned(order, order.shopify_order_id, sorted(choices, key=lambda c: c[0])))
    return planned


def _submit(account, planned: Planned, meter: Meter, clock) -> int:
    """What the portal's submit does: Shopify's returnable units read fresh, then create_return
    with the live variant reads (each product once); the plan and create jobs run in-process."""
    import secrets

    from app.portal.variants import live_variants
    from app.services.return_submission import Selection, create_return
    from app.services.shopify_returns import refresh_returnable_now

    order = planned.order
    selections = [Selection(line_id=order.lines[index].id, quantity=1, reason="Too small", option=option,
                            variant_id=variant.id if variant is not None else None)
                  for index, option, variant in planned.choices]
    with meter.serving(order.shopify_order_id, "submission"), _jobs_after_response():
        refresh_returnable_now(account, order)
        ret, created = create_return(account, order.id, selections, secrets.token_hex(8),
                                     variants_for=live_variants(account), actor=order.email,
                                     now=datetime.fromtimestamp(clock.now(), tz=timezone.utc))
        assert created
        return ret.id


@contextmanager
def _jobs_after_response():
    """Jobs queued inside run once it is over and the session's transaction has ended, as the
    portal's run after its response (run at once, they would wait on the request's read lock)."""
    from flask import current_app

    from app.extensions import db

    backend = current_app.extensions["jobs"]
    queued = []
    backend.enqueue_spec = lambda *job: queued.append(job)  # shadows the method on this instance
    try:
        yield
    finally:
        del backend.enqueue_spec
        db.session.commit()
    for job in queued:
        backend.enqueue_spec(*job)


# --- one run ---------------------------------------------------------------------------------------

def _population(sandbox, account, planned: list[Planned], meter: Meter) -> dict:
    """Submit every return, then close them all at once; what it cost and what came of it."""
    from app.extensions import db
    from app.domain.vocabulary import ItemResolution
    from app.models import Return, ReturnItem, ShopifyReturn
    from app.services import return_workflow
    from sandbox.returns_report import summary

    clock = sandbox.clock
    first = len(meter.calls)
    virtual_start, real_start = clock.now(), time.perf_counter()
    return_ids = [_submit(account, p, meter, clock) for p in planned]
    bulk = return_workflow.start_bulk_close(account, return_ids, "bench")
    return_workflow.run_bulk_close(bulk.id)
    virtual_seconds, real_seconds = clock.now() - virtual_start, time.perf_counter() - real_start
    db.session.expire_all()
    calls = meter.calls[first:]
    items = db.session.query(ReturnItem).join(Return).filter(Return.account_id == account.id)
    states = Counter(r for (r,) in items.with_entities(ReturnItem.resolution))
    failures = [i.failure_reason for i in items.filter(
        ReturnItem.resolution == ItemResolution.FAILED.value).limit(3)]
    refs = Counter(s for (s,) in db.session.query(ShopifyReturn.status).filter(
        ShopifyReturn.account_id == account.id))
    with sandbox.store.lock:
        held = summary(sandbox.store.get_shop(account.shop_domain))
    points = sum(c.actual for c in calls)
    return {"planned": planned, "calls": calls, "points": points, "virtual_seconds": virtual_seconds,
            "real_seconds": real_seconds, "plan_share": points / (BUCKET + RESTORE_RATE * virtual_seconds),
            "items": sum(p.items for p in planned), "issued": states.get(ItemResolution.ISSUED.value, 0),
            "failed": states.get(ItemResolution.FAILED.value, 0), "failures": failures,
            "refs_closed": refs.get("CLOSED", 0), "shopify_closed": held["returns_closed"],
            "process_calls": held["return_process_calls"]}


def _measure(count: int, refund_only: int, seed: int) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.config import TestConfig
    from app.extensions import db
    from tests.sandbox_fixtures import start_sandbox
    from tests.support.shopify_returns import returns_account

    for noisy in ("werkzeug", "app.services", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    failed_jobs = _FailedJobs()
    logging.getLogger("app.queue.backends").addHandler(failed_jobs)
    sandbox, stop = start_sandbox()
    rng = random.Random(seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app({"CONFIG_CLASS": TestConfig, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'b.db'}",
                              "REDIS_URL": None, "JOBS_BACKEND": "inprocess", "SHOPIFY_CLOCK": sandbox.clock,
                              "RATELIMIT_STORAGE_URI": "memory://"})
            with app.app_context():
                upgrade()
                mix_account = returns_account(sandbox, "manual", customer_accounts="new")
                refund_account = returns_account(sandbox, "manual", customer_accounts="new")
                for account in (mix_account, refund_account):
                    sandbox.store.update_shop(account.shop_domain, plan="basic")
                mix = _place(sandbox, mix_account, _mix(rng, count), rng)
                refunds = _place(sandbox, refund_account, [(1, ["refund"])] * refund_only, rng)
                sandbox.clock.advance(3600)  # the set-up's reads are over: start from full buckets
                meter = Meter()
                with metered(meter):
                    result = {"mix": _population(sandbox, mix_account, mix, meter),
                              "refund_only": _population(sandbox, refund_account, refunds, meter)}
                result["throttled"] = sum(meter.throttled.values())
                result["throttled_by_document"] = dict(meter.throttled)
                db.session.remove()
                db.engine.dispose()
    finally:
        logging.getLogger("app.queue.backends").removeHandler(failed_jobs)
        stop()
    result["failed_jobs"] = failed_jobs.messages
    return result


class _FailedJobs(logging.Handler):
    """In-process jobs log their failures instead of raising: keep them."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage() + (f": {record.exc_info[1]!r}" if record.exc_info else ""))


# --- figures ---------------------------------------------------------------------------------------

def _per_return(population: dict) -> dict[int, dict[str, float]]:
    """Points per phase of each return (by its Shopify order)."""
    out: dict[int, dict[str, float]] = {p.shopify_order: defaultdict(float) for p in population["planned"]}
    for call in population["calls"]:
        if call.order in out:
            out[call.order][call.phase] += call.actual
    return out


def _option_set(planned: Planned) -> str:
    """The return's kinds of item, e.g. "refund+credit"."""
    kinds = {option for _, option, _ in planned.choices}
    return "+".join(option for option, _ in MIX if option in kinds)


def _figures(population: dict) -> dict:
    """Points per return and per item, per phase, for all returns and by size; the growth
    (3-item minus 1-item, per return); issuing per return by the kinds of item returned."""
    costs = _per_return(population)
    sizes = {p.shopify_order: p.items for p in population["planned"]}
    phases = list(PHASES) + sorted({c.phase for c in population["calls"]} - set(PHASES))
    figures = {"points": population["points"], "plan_share": population["plan_share"]}
    groups = {"all": list(costs)} | {k: [o for o in costs if sizes[o] == k] for k in (1, 2, 3)}
    for name, orders in groups.items():
        items = sum(sizes[o] for o in orders)
        for phase in phases + ["total"]:
            spent = sum(costs[o][phase] if phase != "total" else sum(costs[o].values()) for o in orders)
            figures[(name, phase, "return")] = spent / len(orders) if orders else 0.0
            figures[(name, phase, "item")] = spent / items if items else 0.0
    for phase in phases + ["total"]:
        figures[("growth", phase)] = figures[(3, phase, "return")] - figures[(1, phase, "return")]
    by_kinds: dict[tuple, list[float]] = defaultdict(list)
    for planned in population["planned"]:
        by_kinds[(_option_set(planned), planned.items)].append(costs[planned.shopify_order]["issuing"])
    for key, spent in by_kinds.items():
        figures[("kinds", *key)] = statistics.mean(spent)
        figures[("kinds n", *key)] = len(spent)
    return figures


def _medians(population_runs: list[dict]) -> dict:
    """Each figure's median over the runs (a figure missing from a run is left out there)."""
    figs = [_figures(p) for p in population_runs]
    keys = dict.fromkeys(k for f in figs for k in f)
    return {k: statistics.median(f[k] for f in figs if k in f) for k in keys}


def _documents(population: dict) -> list[tuple]:
    """Per (phase, document): calls, points, mean actual and requested cost, and points per
    return of 1, 2 and 3 items — which call grows with the items returned."""
    sizes = {p.shopify_order: p.items for p in population["planned"]}
    returns_of = Counter(sizes.values())
    grouped: dict[tuple, list[Call]] = defaultdict(list)
    for call in population["calls"]:
        grouped[(call.phase, call.document)].append(call)
    rows = []
    for (phase, document), calls in grouped.items():
        per_size = [sum(c.actual for c in calls if sizes.get(c.order) == k) / returns_of[k] if returns_of[k] else 0.0
                    for k in (1, 2, 3)]
        rows.append((phase, document, len(calls), sum(c.actual for c in calls),
                     statistics.mean(c.actual for c in calls), statistics.mean(c.requested for c in calls), per_size))
    order = {phase: n for n, phase in enumerate(PHASES)}
    return sorted(rows, key=lambda r: (order.get(r[0], 99), -r[3]))


def _outcome(pops: list[dict]) -> str:
    return (f"items issued {[p['issued'] for p in pops]} of {pops[0]['items']:,}, "
            f"failed {[p['failed'] for p in pops]}; Shopify returns closed {[p['shopify_closed'] for p in pops]}, "
            f"returnProcess calls {[p['process_calls'] for p in pops]}")


def _plan_line(pops: list[dict], median: dict) -> str:
    virtual = statistics.median(p["virtual_seconds"] for p in pops)
    return (f"{median['points']:,.0f} points in {virtual:,.1f} virtual s -> {median['plan_share']:.2f} of the "
            f"plan's ceiling (2,000 + 100 x s; runs {[round(p['plan_share'], 3) for p in pops]}); real time "
            f"{statistics.median(p['real_seconds'] for p in pops):.1f} s")


def _print_mix(pops: list[dict], repeats: int) -> dict:
    median = _medians(pops)
    first = pops[0]
    options = Counter(o for p in first["planned"] for _, o, _ in p.choices)
    sizes = Counter(p.items for p in first["planned"])
    print(f"mix: {len(first['planned']):,} returns ({', '.join(f'{sizes[k]} of {k}' for k in sorted(sizes))} items; "
          + ", ".join(f"{options[o]} {o}" for o, _ in MIX) + f"), orders of {ORDER_LINES} lines; "
          + (f"medians of {repeats} runs" if repeats > 1 else "one run"))
    print(f"  {_outcome(pops)}")
    columns = ["all", 1, 2, 3]
    print(f"  {'points':<12}" + "".join(f"{('all returns' if c == 'all' else f'{c}-item returns'):>17}"
                                         for c in columns) + f"{'3-item - 1-item':>18}")
    print(f"  {'phase':<12}" + "".join(f"{'/return':>9}{'/item':>8}" for _ in columns) + f"{'/return':>18}")
    phases = [p for p in PHASES] + sorted({k[1] for k in median if isinstance(k, tuple) and k[0] == "all"}
                                          - set(PHASES) - {"total"})
    for phase in phases + ["total"]:
        cells = "".join(f"{median[(c, phase, 'return')]:>9.1f}{median[(c, phase, 'item')]:>8.1f}" for c in columns)
        mark = f"  (at most +{MAX_GROWTH:.0f})" if phase in REQUIRED_PHASES else ""
        if phase == "issuing":
            mark = "  (returns of other kinds: same kinds below)"
        print(f"  {phase:<12}{cells}{median[('growth', phase)]:>+18.1f}{mark}")
    print("  submission: the portal's reads while the shopper waits (returnable units, exchange variants), no part "
          "of the requirement; creation, issuing, closing: the steps of the Shopify return's job")
    print(f"  plan: {_plan_line(pops, median)}")
    kinds = sorted({k[1] for k in median if isinstance(k, tuple) and k[0] == "kinds"},
                   key=lambda s: [o for o, _ in MIX].index(s.split("+")[0]) * 10 + s.count("+"))
    print(f"  {'issuing /return (returns)':<28}" + "".join(f"{f'{k}-item':>14}" for k in (1, 2, 3))
          + f"{'3-item - 1-item':>18}")
    for kind in kinds:
        cells = "".join(f"{median[('kinds', kind, k)]:>7.1f} ({median[('kinds n', kind, k)]:>4.0f})"
                        if ("kinds", kind, k) in median else f"{'-':>14}" for k in (1, 2, 3))
        same = (f"{median[('kinds', kind, 3)] - median[('kinds', kind, 1)]:>+18.1f}"
                if ("kinds", kind, 1) in median and ("kinds", kind, 3) in median else "")
        print(f"    {kind:<26}{cells}{same}")
    print(f"  calls by document (first run){'calls':>26}{'points':>9}{'actual/call':>13}{'requested/call':>16}"
          f"   points per 1-, 2-, 3-item return")
    for phase, document, calls, points, actual, requested, per_size in _documents(first):
        print(f"    {phase:<12}{document:<27}{calls:>14,}{points:>9,.0f}{actual:>13.1f}{requested:>16.1f}   "
              + " ".join(f"{x:>6.1f}" for x in per_size))
    return median


def _same_kind_growth(median: dict) -> float:
    """Issuing: the most a 3-item return costs over a smaller return holding the same kinds of
    item (1 item where such a return exists, else 2: refund and credit together need two). What
    a return costs depends on what its items need — a suggested outcome for money, a stock read
    for exchanges — not on how many items it has; comparing mixes of different kinds would
    measure the kinds, not the items."""
    growth = []
    for key in [k for k in median if isinstance(k, tuple) and k[0] == "kinds" and k[2] == 3]:
        kind = key[1]
        smaller = next((median[("kinds", kind, n)] for n in (1, 2) if ("kinds", kind, n) in median), None)
        if smaller is not None:
            growth.append(median[key] - smaller)
    return max(growth, default=0.0)


def _print_refund_only(pops: list[dict], repeats: int) -> None:
    median = _medians(pops)
    close = median[("all", "issuing", "item")] + median[("all", "closing", "item")]
    total = median[("all", "total", "item")]
    print(f"refund-only: {len(pops[0]['planned']):,} returns of 1 refund item, orders of {ORDER_LINES} lines, a shop "
          f"of their own; " + (f"medians of {repeats} runs" if repeats > 1 else "one run"))
    print(f"  {_outcome(pops)}")
    print("  points per item: " + ", ".join(f"{phase} {median[('all', phase, 'item')]:.1f}" for phase in PHASES)
          + f"; total {total:.1f}")
    print(f"  bulk close (issuing + closing): {close:.1f} points per item vs today's {OLD_REFUND_POINTS_PER_ITEM:.1f} "
          f"points per item for 1-item refund returns (the old method: suggestedRefund + refundCreate at the close) "
          f"-> {close / OLD_REFUND_POINTS_PER_ITEM:.2f}x; submission to close: {total:.1f} "
          f"({total / OLD_REFUND_POINTS_PER_ITEM:.2f}x)")
    print(f"  plan: {_plan_line(pops, median)}")


def run(smoke: bool = False) -> None:
    """Print the cost of each phase per return and per item (1, 2, 3 items), the share of the
    plan used, against the plan's ceiling and the old method's cost per refund item."""
    count, refund_only, repeats = (40, 10, 1) if smoke else (1000, 200, 3)
    runs = [_measure(count, refund_only, SEED) for _ in range(repeats)]
    mix = _print_mix([r["mix"] for r in runs], repeats)
    print(f"  issuing, 3-item over a smaller return of the same kinds: {_same_kind_growth(mix):+.1f} points "
          f"(at most +{MAX_GROWTH:.0f})")
    _print_refund_only([r["refund_only"] for r in runs], repeats)
    print(f"THROTTLED answers {[r['throttled'] for r in runs]}"
          + (f" by document {[r['throttled_by_document'] for r in runs]}" if any(r["throttled"] for r in runs) else "")
          + f"; failed jobs {[len(r['failed_jobs']) for r in runs]}")
    for failures in [r["mix"]["failures"] or r["refund_only"]["failures"] for r in runs][:1]:
        if failures:
            print(f"  first failed items: {failures}")
    if any(r["failed_jobs"] for r in runs):
        print(f"  first failed job: {next(r['failed_jobs'] for r in runs if r['failed_jobs'])[0]}")
    if smoke:
        return
    missed = []
    for name in ("mix", "refund_only"):
        pops = [r[name] for r in runs]
        if any(p["issued"] != p["items"] or p["failed"] for p in pops):
            missed.append(f"{name}: not every item was issued ({[p['failed'] for p in pops]} failed)")
    if any(r["throttled"] for r in runs):
        missed.append(f"THROTTLED answers: {[r['throttled'] for r in runs]}")
    if mix["plan_share"] < MIN_PLAN_SHARE:
        missed.append(f"used {mix['plan_share']:.2f} of the plan's ceiling; need at least {MIN_PLAN_SHARE:.2f}")
    for phase in REQUIRED_PHASES:
        growth = _same_kind_growth(mix) if phase == "issuing" else mix[("growth", phase)]
        if growth > MAX_GROWTH:
            missed.append(f"{phase}: a 3-item return costs {growth:+.1f} points more than a smaller one of the same "
                          f"kinds (at most +{MAX_GROWTH:.0f})")
    if missed:
        raise RequirementNotMet("; ".join(missed))
