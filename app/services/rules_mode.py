"""What rules mode will really do for an account, from its rules as they stand: the promise the
portal makes to shoppers, and whether rules mode may be switched on at all."""
from app.domain.rules_reach import Reach, reach, shopper_promise
from app.models import Account
from app.services.rules import reasons_of, rule_defs


def reach_of(account_id: int) -> Reach:
    """What the account's rules can produce for items returned through its portal."""
    return reach(rule_defs(account_id), reasons_of(account_id))


def shopper_promise_for(account: Account) -> str:
    """What the portal tells a shopper will happen to their items in rules mode."""
    return shopper_promise(reach_of(account.id), account.name)


def rules_mode_refusal(account_id: int) -> str | None:
    """Why switching this account to rules mode is refused (None: it may switch): with no rule
    that can decide anything, every item would silently wait for staff."""
    if reach_of(account_id).live:
        return None
    return ("You have no rule that can decide anything yet (none, or all switched off), so every returned item "
            "would wait for staff. Add a rule on the Rules page first, then switch.")
