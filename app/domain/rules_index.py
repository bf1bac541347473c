"""Fast first-match evaluation of a priority-ordered rule list.

Every condition of every enabled rule gets one bit; each rule owns a contiguous block of bits
followed by a zero guard bit. For an item, each dimension answers "which conditions hold?" as one
bitmask with a dictionary look-up or a binary search over sorted thresholds (never a loop over
rules). Adding 1 at the start of every block carries into a rule's guard bit exactly when all of
its bits are set, so the first matching rule is the lowest guard bit that carried: evaluation
costs a handful of integer operations whatever the number of rules. The deciding rule's trace is
then built the plain way (rules.trace_of), and `evaluate_in_order` is the reference this must
agree with (tests/unit/test_rules_properties.py).
"""
from bisect import bisect_left, bisect_right
from collections import defaultdict
from operator import attrgetter

from app.domain.rules import FIELDS, NUMERIC, Decision, ItemFacts, RuleDef, decide

# Dimensions whose value is a set (an order's tags, a product's collections…), not one value.
MANY = {"tag", "product_tag", "collection", "discount_code"}


class _Threshold:
    """Conditions of one comparison operator on one numeric dimension, sorted by threshold, with
    cumulative masks so a binary search gives the mask of those that hold."""

    def __init__(self, pairs):
        pairs = sorted(pairs)
        self.keys = [t for t, _ in pairs]
        self.prefix = [0]  # prefix[i]: conditions 0..i-1 (smallest thresholds)
        for _, bit in pairs:
            self.prefix.append(self.prefix[-1] | bit)
        self.total = self.prefix[-1]

    def below(self, count: int) -> int:
        """Mask of the `count` smallest thresholds."""
        return self.prefix[count]

    def above(self, count: int) -> int:
        """Mask of all but the `count` smallest thresholds."""
        return self.total & ~self.prefix[count]


class _Numeric:
    def __init__(self):
        self.ops = defaultdict(list)
        self.eq = defaultdict(int)
        self.ne_all = 0
        self.ne_fail = defaultdict(int)

    def add(self, op, value, bit):
        if op == "eq":
            self.eq[value] |= bit
        elif op == "ne":
            self.ne_all |= bit
            self.ne_fail[value] |= bit
        else:
            self.ops[op].append((value, bit))

    def freeze(self):
        """Done adding: keep only the look-ups these conditions need (evaluation runs per item)."""
        self.eq, self.ne_fail = dict(self.eq), dict(self.ne_fail)
        self.searches = []
        for op, pairs in self.ops.items():
            threshold = _Threshold(pairs)
            # gt: threshold < seen; gte: threshold <= seen (the smallest thresholds hold);
            # lt: threshold > seen; lte: threshold >= seen (all but the smallest hold).
            search = bisect_left if op in ("gt", "lte") else bisect_right
            self.searches.append((threshold.keys, threshold.prefix, threshold.total if op in ("lt", "lte") else None,
                                  search))

    def mask(self, seen) -> int:
        mask = self.eq.get(seen, 0) if self.eq else 0
        if self.ne_all:
            mask |= self.ne_all & ~self.ne_fail.get(seen, 0)
        for keys, prefix, total, search in self.searches:
            held = prefix[search(keys, seen)]
            mask |= held if total is None else total & ~held
        return mask


class _Choice:
    """Membership conditions on a single value (country, reason, product, product type) or a set
    of values (order and product tags, collections, codes): positive ones hold when a value is in
    them; negative ones unless one is."""

    def __init__(self):
        self.positive = defaultdict(int)
        self.negative_all = 0
        self.negative_fail = defaultdict(int)
        self.contains = []
        self.none_used = 0

    def add(self, op, value, bit):
        members = [value] if isinstance(value, str) else list(value or ())
        if op in ("is", "any_of", "has"):
            for member in members:
                self.positive[member] |= bit
        elif op in ("is_not", "none_of", "has_not"):
            self.negative_all |= bit
            for member in members:
                self.negative_fail[member] |= bit
        elif op == "contains":
            self.contains.append((value, bit))
        elif op == "none_used":
            self.none_used |= bit

    def freeze(self, many: bool):
        """Done adding: with positive conditions only (the usual case) a single value needs one
        look-up, a set one per member."""
        self.positive, self.negative_fail = dict(self.positive), dict(self.negative_fail)
        if not (self.negative_all or self.contains or self.none_used):
            self.mask = self._positive_many if many else self._positive_one

    def _positive_one(self, seen) -> int:
        return self.positive.get(seen, 0)

    def _positive_many(self, seen) -> int:
        mask = 0
        for value in seen:
            mask |= self.positive.get(value, 0)
        return mask

    def mask(self, seen) -> int:
        """Mask of the conditions that hold for the item's value (or values)."""
        values = seen if isinstance(seen, (frozenset, tuple)) else (() if seen is None else (seen,))
        positive = failed = 0
        for value in values:
            positive |= self.positive.get(value, 0)
            failed |= self.negative_fail.get(value, 0)
        mask = positive | (self.negative_all & ~failed)
        for fragment, bit in self.contains:
            if any(fragment in value for value in values):
                mask |= bit
        if not values:
            mask |= self.none_used
        return mask


class RuleSet:
    """A compiled, priority-ordered list of rules (disabled rules left out)."""

    def __init__(self, rules: list[RuleDef]):
        self.rules = [rule for rule in rules if rule.enabled]
        self._dimensions = {}
        starts = guards = 0
        self._guard_rule = {}
        bit = 0
        for rule in self.rules:
            starts |= 1 << bit
            for condition in rule.conditions:
                index = self._dimensions.setdefault(
                    condition.dimension, _Numeric() if condition.dimension in NUMERIC else _Choice())
                if condition.operator == "between":
                    # low <= v <= high as two bits of the block, each a binary search.
                    index.add("gte", condition.value[0], 1 << bit)
                    index.add("lte", condition.value[1], 1 << (bit + 1))
                    bit += 2
                    continue
                index.add(condition.operator, condition.value, 1 << bit)
                bit += 1
            guards |= 1 << bit
            self._guard_rule[bit] = rule
            bit += 1  # the guard bit stays zero in every mask
        for dimension, index in self._dimensions.items():
            if isinstance(index, _Numeric):
                index.freeze()
            else:
                index.freeze(dimension in MANY)
        # (read the item's value, its index) per dimension used: one attribute read each.
        self._readers = [(attrgetter(FIELDS[dimension]), index) for dimension, index in self._dimensions.items()]
        self._starts, self._guards = starts, guards

    def match(self, facts: ItemFacts) -> RuleDef | None:
        """The first enabled rule whose conditions all hold, or None."""
        held = 0
        for read, index in self._readers:
            held |= index.mask(read(facts))
        carried = (held + self._starts) & self._guards
        if not carried:
            return None
        return self._guard_rule[(carried & -carried).bit_length() - 1]

    def evaluate(self, facts: ItemFacts) -> Decision:
        """The decision for one item, with the deciding rule's trace."""
        return decide(self.match(facts), facts)
