"""The returns a shopper already made on the order they looked up: the lookup (order number and
email) proves the order is theirs, so it shows them, as the confirmation email's link does."""
from sqlalchemy import select

from app.domain import returns as states
from app.extensions import db
from app.models import Account, Order, Return
from app.services.returns import eligibility


def returns_of_order(account: Account, order: Order) -> list[Return]:
    """This shop's returns of this order that still stand (not cancelled), newest first."""
    return list(db.session.scalars(
        select(Return).where(Return.account_id == account.id, Return.order_id == order.id,
                             Return.status != states.CANCELLED)
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
