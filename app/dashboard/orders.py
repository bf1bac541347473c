"""Orders: a searchable list (newest first, keyset pages) and one order with its lines and returns."""
import re
from datetime import datetime, time, timedelta, timezone

from flask import abort, render_template, request, url_for
from sqlalchemy import and_, or_
from wtforms import Form, SearchField
from wtforms.fields import DateField
from wtforms.validators import Length, Optional

from app.dashboard import bp
from app.dashboard.return_shopify import made_in_shopify
from app.dashboard.search import ORDER_NUMBER, check_date_range, like_escape
from app.dashboard.scope import current_account, get_scoped_or_404, scoped
from app.extensions import db
from app.forms import plain_text, strip_spaces
from app.models import Order, Return
from app.query_params import query_arg

PAGE_SIZE = 25
_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,19})$")


class OrderSearchForm(Form):
    """The list's filters (a GET form: no CSRF token needed, nothing changes)."""

    q = SearchField("Order number, email or name", filters=[strip_spaces],
                    validators=[Optional(), Length(max=200, message="Use at most 200 characters."), plain_text])
    date_from = DateField("Placed from", validators=[Optional()],
                          render_kw={"type": "date"})
    date_to = DateField("Placed until", validators=[Optional()],
                        render_kw={"type": "date"})

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return check_date_range(self, ok)


def _search(query, q: str):
    number = ORDER_NUMBER.match(q)
    if number:
        return query.where(or_(Order.name == f"#{number.group(1)}", Order.name == q))
    lowered = q.lower()
    if "@" in q:
        return query.where(Order.email.like(like_escape(lowered) + "%", escape="\\"))
    pattern = f"%{like_escape(q)}%"
    return query.where(or_(Order.name.ilike(pattern, escape="\\"),
                           Order.customer_name.ilike(pattern, escape="\\"),
                           Order.email.like(f"%{like_escape(lowered)}%", escape="\\")))


def _cursor(order: Order) -> str:
    stamp = order.created_at.astimezone(timezone.utc)
    micros = int(stamp.timestamp()) * 1_000_000 + stamp.microsecond
    return f"{micros}-{order.id}"


def _parse_cursor(raw: str):
    match = _CURSOR.match(raw or "")
    if not match:
        abort(400, description="That page link is broken. Go back to the first page.")
    micros, order_id = int(match.group(1)), int(match.group(2))
    try:
        stamp = datetime.fromtimestamp(micros // 1_000_000, timezone.utc).replace(
            microsecond=micros % 1_000_000)
    except (OverflowError, OSError, ValueError):
        abort(400, description="That page link is broken. Go back to the first page.")
    return stamp, order_id


@bp.get("/orders")
def orders():
    """Every stored order of the account, newest first, searchable."""
    form = OrderSearchForm(request.args)
    query = scoped(Order)
    status = 200
    if form.validate():
        if form.q.data:
            query = _search(query, form.q.data)
        if form.date_from.data:
            query = query.where(Order.created_at >= datetime.combine(
                form.date_from.data, time.min, timezone.utc))
        if form.date_to.data:
            query = query.where(Order.created_at < datetime.combine(
                form.date_to.data + timedelta(days=1), time.min, timezone.utc))
    else:
        status = 400
    after, before = query_arg("after"), query_arg("before")
    if after and before:
        abort(400, description="That page link is broken. Go back to the first page.")
    newest_first = (Order.created_at.desc(), Order.id.desc())
    if before:
        stamp, order_id = _parse_cursor(before)
        rows = db.session.scalars(query.where(or_(
            Order.created_at > stamp, and_(Order.created_at == stamp, Order.id > order_id)))
            .order_by(Order.created_at.asc(), Order.id.asc()).limit(PAGE_SIZE + 1)).all()
        has_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        has_older = True
    else:
        if after:
            stamp, order_id = _parse_cursor(after)
            query = query.where(or_(Order.created_at < stamp,
                                    and_(Order.created_at == stamp, Order.id < order_id)))
        rows = db.session.scalars(query.order_by(*newest_first).limit(PAGE_SIZE + 1)).all()
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = bool(after)
    filters = {key: request.args[key] for key in ("q", "date_from", "date_to") if request.args.get(key)}
    older_url = url_for("dashboard.orders", after=_cursor(rows[-1]), **filters) if rows and has_older else None
    newer_url = url_for("dashboard.orders", before=_cursor(rows[0]), **filters) if rows and has_newer else None
    return render_template("dashboard/orders.html", form=form, orders=rows, older_url=older_url,
                           newer_url=newer_url, filtered=bool(filters), account=current_account(),
                           first_url=url_for("dashboard.orders", **filters) if (after or before) else None,
                           ), status


@bp.get("/orders/<int:order_id>")
def order(order_id: int):
    """One order: its lines (what was paid, fulfilled, refunded), its returns, and the returns
    made in Shopify itself (its admin, its self-serve returns)."""
    row = get_scoped_or_404(Order, order_id)
    returns = db.session.scalars(scoped(Return).where(Return.order_id == row.id)
                                 .order_by(Return.created_at.desc(), Return.id.desc())).all()
    return render_template("dashboard/order.html", order=row, returns=returns, shopify_made=made_in_shopify(row))
