"""What a staff action on returns will do, said before it is done: how many returns change, what
is issued in Shopify per option (items and value, shop currency), and what to beware of (parcels
not received, items nobody decided). The confirmation carries a token of exactly the state it was
computed from; the action is done only when the token still matches, so a return that changed
meanwhile (a carrier scan, another member of staff, a new return matching the filters) is shown
again instead of issuing something nobody saw.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain import returns as states
from app.domain.formatting import format_money
from app.domain.triage import NEEDS_DECISION
from app.domain.vocabulary import ACTION_WHEN, ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.models import Account, Return

TARGETS = {"receive": ReturnStatus.RECEIVED, "process": ReturnStatus.PROCESSED, "close": ReturnStatus.CLOSED,
           "cancel": ReturnStatus.CANCELLED}
VERBS = {"receive": "Mark {} received", "process": "Mark {} processed", "close": "Close {}", "cancel": "Cancel {}"}
NOT_RECEIVED = (ReturnStatus.OPEN, ReturnStatus.IN_TRANSIT)
NAMED = 5  # RMAs named in a warning; the rest are counted
_CHUNK = 500  # ids per IN (…): well under every database's parameter limit


class NotConfirmed(Exception):
    """The posted confirmation does not match the returns as they are now; ``plan`` is the new one."""

    def __init__(self, plan: "Plan"):
        what = "This return" if plan.single_rma else "These returns"
        super().__init__(f"{what} changed since the confirmation was shown. Check what will happen now and confirm "
                         "again.")
        self.plan = plan


@dataclass
class OptionLine:
    """One option to be issued: how many items, and their value per currency."""

    option: str
    items: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The option as staff know it."""
        return Option(self.option).label

    @property
    def total_text(self) -> str:
        """The value, e.g. "40.00 USD" (each currency apart, should returns differ)."""
        return " + ".join(format_money(amount, currency) for currency, amount in sorted(self.totals.items()))


@dataclass
class Plan:
    """What `action` will do to the chosen returns, and the token binding a confirmation to it."""

    action: str
    return_ids: list[int]
    single_rma: str | None = None
    moves: int = 0
    issuing: int = 0
    lines: list[OptionLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    not_received: int = 0
    token: str = ""

    @property
    def issues(self) -> bool:
        """Whether confirming issues anything in Shopify."""
        return bool(self.lines)

    @property
    def needs_override(self) -> bool:
        """Processing before the parcel was received is done only on an explicit override."""
        return self.action == "process" and self.not_received > 0

    @property
    def quiet(self) -> bool:
        """Nothing issued, nothing to beware of, nothing refused: one click may do it."""
        return self.action != "cancel" and not (self.lines or self.warnings or self.unchanged)

    @property
    def title(self) -> str:
        """e.g. "Close return R-1001", "Mark return R-1001 processed" or "Close 3 returns"."""
        what = f"return {self.single_rma}" if self.single_rma else (
            f"{len(self.return_ids):,} return{'s' if len(self.return_ids) != 1 else ''}")
        return VERBS[self.action].format(what)

    def matches(self, posted) -> bool:
        """Whether a posted token is this plan's (constant time; anything malformed is not)."""
        return isinstance(posted, str) and len(posted) == 64 and posted.isascii() and hmac.compare_digest(
            posted.encode(), self.token.encode())


def plan_action(account: Account, action: str, return_ids: list[int]) -> Plan:
    """What `action` ("receive", "process", "close" or "cancel") will do to these returns of the
    account (ids of other accounts' returns are ignored: callers check ownership first)."""
    target = TARGETS[action]
    found = {}
    for start in range(0, len(return_ids), _CHUNK):
        chunk = return_ids[start:start + _CHUNK]
        found.update((r.id, r) for r in db.session.scalars(
            select(Return).where(Return.account_id == account.id, Return.id.in_(chunk))
            .options(selectinload(Return.items)).execution_options(populate_existing=True)))
    rets = [found[i] for i in return_ids if i in found]
    plan = Plan(action=action, return_ids=list(return_ids),
                single_rma=rets[0].rma_number if len(return_ids) == 1 and rets else None)
    lines: dict[str, OptionLine] = {}
    bare, in_transit, undecided, waiting, fired = [], [], 0, 0, 0
    for ret in rets:
        refusal = _refusal(ret, target)
        if refusal:
            plan.unchanged.append((ret.rma_number, refusal))
            continue
        plan.moves += 1
        plan.not_received += ret.status in NOT_RECEIVED
        if action == "cancel":
            continue
        if ret.action_triggered_at is not None:
            fired += 1
            continue
        if not states.action_fires(account.return_action, target):
            waiting += 1
            continue
        plan.issuing += 1
        for item in ret.items:
            if item.resolution in NEEDS_DECISION:
                undecided += 1
            elif item.resolution == ItemResolution.DECIDED.value and item.option in tuple(Option):
                line = lines.setdefault(item.option, OptionLine(item.option))
                line.items += 1
                line.totals[ret.currency] = (line.totals.get(ret.currency, Decimal("0"))
                                             + item.unit_value * item.quantity)
        if ret.status in NOT_RECEIVED:
            (bare if not ret.tracking_number else in_transit).append(ret.rma_number)
    plan.lines = [lines[o] for o in tuple(Option) if o in lines]
    plan.warnings = _warnings(plan, bare, in_transit, undecided)
    plan.notes = _notes(plan, account, fired, waiting)
    plan.token = _token(account, action, rets)
    return plan


def confirmed_plan(account: Account, action: str, return_ids: list[int], posted) -> Plan:
    """The plan, if the posted token is still its token; NotConfirmed (with the plan as it is now)
    otherwise. Nothing is changed either way."""
    plan = plan_action(account, action, return_ids)
    if not plan.matches(posted):
        raise NotConfirmed(plan)
    return plan


def _refusal(ret: Return, target: str) -> str | None:
    """Why the action leaves this return as it is (None: it moves)."""
    if target == ReturnStatus.CANCELLED and ret.action_triggered_at is not None:
        return "Its options are already being issued; it can no longer be cancelled."
    if ret.status == target or (ret.status in states.FORWARD and target in states.FORWARD
                                and states.FORWARD.index(ret.status) > states.FORWARD.index(target)):
        return f"Already {ReturnStatus(ret.status).label.lower()}."
    try:
        states.check_move(ret.status, target)
    except states.TransitionRefused as refused:
        return str(refused)
    return None


def _subject(plan: Plan, rmas: list[str]) -> tuple[str, bool, str]:
    """Who a warning is about: (the return's RMA, or a count; singular?; the RMAs named after)."""
    if plan.single_rma:
        return plan.single_rma, True, ""
    named = ", ".join(rmas[:NAMED]) + (f" and {len(rmas) - NAMED:,} more" if len(rmas) > NAMED else "")
    return f"{len(rmas):,}", len(rmas) == 1, f" ({named})"


def _warnings(plan: Plan, bare: list[str], in_transit: list[str], undecided: int) -> list[str]:
    warnings = []
    if bare:
        who, one, names = _subject(plan, bare)
        warnings.append(f"{who} {'has' if one else 'have'} no tracking number and {'has' if one else 'have'} not "
                        f"been received: the options are issued without the parcel{names}.")
    if in_transit:
        who, one, names = _subject(plan, in_transit)
        warnings.append(f"{who} {'is' if one else 'are'} on the way and {'has' if one else 'have'} not been "
                        f"received yet: the options are issued before the parcel arrives{names}.")
    if plan.needs_override and not (bare or in_transit):
        warnings.append("The parcel has not been received yet.")
    if undecided:
        warnings.append(f"{undecided:,} item is not decided: nothing is issued for it until someone decides."
                        if undecided == 1 else
                        f"{undecided:,} items are not decided: nothing is issued for them until someone decides.")
    return warnings


def _notes(plan: Plan, account: Account, fired: int, waiting: int) -> list[str]:
    notes = []
    if plan.action == "cancel":
        notes.append("Nothing will be issued. The return's Shopify return is cancelled too, so its items can be "
                     "returned again.")
    if fired:
        notes.append("Nothing more is issued for the return: its options were issued already." if plan.single_rma
                     else f"Nothing more is issued for {fired:,} of them: their options were issued already.")
    if waiting:
        notes.append(f"Nothing is issued now: this shop issues the options {ACTION_WHEN[account.return_action]}.")
    for rma, reason in plan.unchanged[:NAMED]:
        notes.append(f"{rma} stays as it is: {reason}")
    if len(plan.unchanged) > NAMED:
        notes.append(f"{len(plan.unchanged) - NAMED:,} more stay as they are.")
    return notes


def _token(account: Account, action: str, rets: list[Return]) -> str:
    """A digest of everything the confirmation depends on: the action, the shop's setting, each
    return's state and tracking, and each item's option, issue state, quantity and value."""
    state = [action, account.return_action] + [
        [r.id, r.status, r.action_triggered_at.isoformat() if r.action_triggered_at else None, r.tracking_number,
         r.currency, sorted([i.id, i.option, i.resolution, i.quantity, str(i.unit_value), i.exchange_variant_id]
                            for i in r.items)]
        for r in rets]
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()
