"""The returns a shopper already made on the order they looked up: the lookup (order number and
email) proves the order is theirs, so it shows them, as the confirmation email's link does."""
from datetime import datetime, timezone

from sqlalchemy import select, update

from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.models import Account, Order, Return, ReturnItem
from app.services.return_eligibility import eligibility


def returns_of_order(account: Account, order: Order) -> list[Return]:
    """This shop's returns of this order that still stand (not cancelled), newest first."""
    return list(db.session.scalars(
        select(Return).where(Return.account_id == account.id, Return.order_id == order.id,
                             Return.status != ReturnStatus.CANCELLED)  # a declined one stays: its message
        .order_by(Return.created_at.desc(), Return.id.desc())))


def returns_by_line(returns: list[Return]) -> dict[int, list[Return]]:
    """Per order line id, the returns (of `returns`) that hold some of its units."""
    by_line: dict[int, list[Return]] = {}
    for ret in returns:
        for item in ret.items:
            if item.order_line_id is not None and ret not in by_line.get(item.order_line_id, []):
                by_line.setdefault(item.order_line_id, []).append(ret)
    return by_line


def nothing_left_to_return(account: Account, order: Order) -> bool:
    """Whether no unit of the order can be returned now."""
    return not any(verdict.returnable for verdict in eligibility(account, order).values())


def the_only_return(account: Account, order: Order) -> Return | None:
    """The order's one standing return when nothing else can be returned: where a shopper coming
    back is sent straight away. None when there are several, none, or more to return."""
    returns = returns_of_order(account, order)
    if len(returns) == 1 and nothing_left_to_return(account, order):
        return returns[0]
    return None


def reveal_gift_card_codes(ret: Return) -> set[int]:
    """The items whose gift card code the status page may show in full now: those never shown
    before, each marked shown (committed). A code is shown in full once; afterwards its last
    characters, since a status link travels (forwarded emails, shared screens, browser history).

    One conditional UPDATE per code: of two first views at once, one shows it."""
    unseen = [item.id for item in ret.items if item.gift_card_code_encrypted and item.gift_card_code_shown_at is None]
    if not unseen:
        return set()
    now = datetime.now(timezone.utc)
    shown = set()
    for item_id in unseen:
        won = db.session.execute(update(ReturnItem).where(
            ReturnItem.id == item_id, ReturnItem.gift_card_code_shown_at.is_(None)
        ).values(gift_card_code_shown_at=now).execution_options(synchronize_session=False)).rowcount
        if won:
            shown.add(item_id)
    db.session.commit()
    return shown
