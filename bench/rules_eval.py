"""Rules engine benchmark: item evaluations per second with 10, 100 and 1,000 rules of two
conditions each, over every dimension (the order's, the product's and the customer's history), in
the worst case (items match only the last rule, or none), through the same call the matching job
makes (`RuleSet.evaluate`, traces on). Items carry every fact, as app.services.rule_facts
gathers them. Baseline, same run: a straightforward loop over per-condition closures (first match
wins, trace of the winner). Requirement: at least 100,000 evaluations/s at 100 rules, cost
growing no faster than linearly."""
import random
import statistics
import time
from decimal import Decimal

from bench import RequirementNotMet
from app.domain.rules import holds, item_facts, trace_of
from app.domain.rules_parse import parse_rule
from app.domain.rules_index import RuleSet

COUNTRIES = ["US", "GB", "FR", "DE", "IT", "ES", "NL", "SE", "AU", "JP"]


def make_rules(count: int, rng: random.Random) -> list:
    """`count` rules of two conditions that the benchmark items never satisfy, then one last
    rule that some items do (so items walk past every rule first)."""
    rules = []
    for i in range(count - 1):
        first = rng.choice([
            {"dimension": "country", "operator": "is", "value": "Canada"},
            {"dimension": "order_value", "operator": "gt", "value": str(100_000 + i)},
            {"dimension": "return_reason", "operator": "is", "value": f"reason {i}"},
            {"dimension": "tag", "operator": "has", "value": f"tag-{i}"},
            {"dimension": "discount_code", "operator": "is", "value": f"CODE{i}"},
            {"dimension": "product", "operator": "any_of", "value": [f"Product {i}", f"Other {i}"]},
            {"dimension": "product_type", "operator": "is", "value": f"Type {i}"},
            {"dimension": "product_tag", "operator": "has", "value": f"ptag-{i}"},
            {"dimension": "collection", "operator": "any_of", "value": [f"Collection {i}"]},
            {"dimension": "item_price", "operator": "gt", "value": str(100_000 + i)},
            {"dimension": "customer_returns", "operator": "gte", "value": str(1_000 + i)},
            {"dimension": "customer_returned_value", "operator": "gt", "value": str(100_000 + i)},
        ])
        second = rng.choice([
            {"dimension": "discount_percent", "operator": "between", "value": [str(i % 50), str(50 + i % 50)]},
            {"dimension": "item_price", "operator": "between", "value": [str(i % 50), str(500 + i % 50)]},
            {"dimension": "customer_returns", "operator": "lte", "value": str(20 + i % 10)},
            {"dimension": "collection", "operator": "none_of", "value": [f"Archive {i}"]},
        ])
        rules.append(parse_rule({"name": f"r{i}", "outcome": "credit", "conditions": [first, second]}, rule_id=i))
    rules.append(parse_rule({"name": "last", "outcome": "refund", "conditions": [
        {"dimension": "return_reason", "operator": "is", "value": "Faulty"},
        {"dimension": "order_value", "operator": "gte", "value": "10"}]}, rule_id=count))
    return rules


def make_items(count: int, rng: random.Random) -> list:
    """Items that match only the last rule (half) or none (half)."""
    return [item_facts(tags=["vip"], total_price=Decimal(rng.randint(20, 500)), subtotal_price=Decimal(100),
                       total_discounts=Decimal(rng.randint(0, 40)), country=rng.choice(COUNTRIES),
                       reason="Faulty" if n % 2 else "Too small", codes=["SUMMER"], product="Trail Runner",
                       product_type="Shoes", product_tags=["new", "final-sale"], collections=["Summer Sale", "Running"],
                       item_price=Decimal(rng.randint(10, 300)), customer_returns=rng.randint(0, 8),
                       customer_returned_value=Decimal(rng.randint(0, 900))) for n in range(count)]


def closures_baseline(rules):
    """The straightforward engine: a closure per condition, a loop over rules."""
    compiled = [(rule, [lambda f, c=c: holds(c, f) for c in rule.conditions]) for rule in rules if rule.enabled]

    def evaluate(item):
        for rule, tests in compiled:
            if all(test(item) for test in tests):
                return rule.outcome, trace_of(rule, item)
        return None, ()

    return evaluate


def rate(evaluate, items, seconds: float) -> float:
    """Evaluations per second over at least `seconds`."""
    done, started = 0, time.perf_counter()
    while True:
        for item in items:
            evaluate(item)
        done += len(items)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def run(smoke: bool = False) -> dict:
    """Measure and print; returns the figures."""
    rng = random.Random(7)
    items = make_items(200, rng)
    seconds, rounds = (0.2, 1) if smoke else (1.0, 5)
    figures = {}
    for count in (10, 100, 1000):
        rules = make_rules(count, rng)
        ruleset = RuleSet(rules)
        baseline = closures_baseline(rules)
        for item in items:  # both engines must agree before we time them
            assert ruleset.evaluate(item).outcome == baseline(item)[0]
        fast = statistics.median(rate(ruleset.evaluate, items, seconds) for _ in range(rounds))
        slow = statistics.median(rate(baseline, items[:50], seconds) for _ in range(rounds))
        figures[count] = (fast, slow)
        print(f"rules_eval: {count:>5} rules: {fast:>10,.0f} evaluations/s (traces on); closures baseline "
              f"{slow:>9,.0f}/s; ratio {fast / slow:,.1f}x")
    growth = figures[10][0] / figures[1000][0]
    print(f"rules_eval: cost growth 10 -> 1,000 rules: {growth:.2f}x slower for 100x the rules (linear would be 100x)")
    if not smoke and figures[100][0] < 100_000:
        raise RequirementNotMet(f"{figures[100][0]:,.0f} evaluations/s at 100 rules < 100,000", figures)
    return figures


if __name__ == "__main__":
    run()
