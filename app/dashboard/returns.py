"""Returns in the dashboard (read-only here; the actions issue adds staff actions) and the Outbox
of emails the app wrote."""
import math
import re

from flask import abort, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from wtforms import Form, SearchField
from wtforms.validators import Length, Optional

from app.dashboard import bp
from app.dashboard.search import ORDER_NUMBER, like_escape
from app.dashboard.scope import get_scoped_or_404, scoped
from app.domain.returns import STATUS_LABELS
from app.extensions import db
from app.forms import strip_spaces
from app.models import OutboxEmail, Return
from app.services.returns import OPTION_LABELS

PAGE_SIZE = 25
_RMA = re.compile(r"^[Rr]-?(\d{1,12})$")


class ReturnSearchForm(Form):
    """The list's search box (a GET form: nothing changes, no CSRF token needed)."""

    q = SearchField("RMA, order number or email", filters=[strip_spaces],
                    validators=[Optional(), Length(max=200, message="Use at most 200 characters.")])


def search_returns(query, q: str):
    """Exact matches for what people paste (R-100042, #1001, 1001, an email), else a substring."""
    rma = _RMA.match(q)
    if rma:
        return query.where(Return.rma_number == f"R-{rma.group(1)}")
    number = ORDER_NUMBER.match(q)
    if number:
        return query.where(or_(Return.order_name == f"#{number.group(1)}", Return.order_name == q))
    if "@" in q:
        return query.where(Return.customer_email.like(like_escape(q.lower()) + "%", escape="\\"))
    pattern = f"%{like_escape(q)}%"
    return query.where(or_(Return.rma_number.ilike(pattern, escape="\\"),
                           Return.order_name.ilike(pattern, escape="\\"),
                           Return.customer_email.like(f"%{like_escape(q.lower())}%", escape="\\"),
                           Return.customer_name.ilike(pattern, escape="\\")))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400, description="That page number is not valid. Go back to the first page.")
    return int(raw)


@bp.get("/returns")
def returns():
    """Every return of the account, newest first, a page at a time, searchable."""
    form = ReturnSearchForm(request.args)
    query = scoped(Return)
    status = 200
    if form.validate():
        if form.q.data:
            query = search_returns(query, form.q.data)
    else:
        status = 400
    page = _page_number()
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = db.session.scalars(query.options(selectinload(Return.items))
                              .order_by(Return.created_at.desc(), Return.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("dashboard/returns.html", form=form, returns=rows, page=page, pages=pages,
                           total=total, q=form.q.data or "", labels=STATUS_LABELS), status


@bp.get("/returns/<int:return_id>")
def return_detail(return_id: int):
    """One return: its items (reason, option, note) and its timeline."""
    ret = get_scoped_or_404(Return, return_id)
    return render_template("dashboard/return.html", ret=ret, labels=STATUS_LABELS, options=OPTION_LABELS)


@bp.get("/outbox")
def outbox():
    """Emails the app wrote for this account, newest first (in the embedded default they are
    only stored here: there is no SMTP server)."""
    page = _page_number()
    query = scoped(OutboxEmail)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("dashboard/outbox.html", emails=rows, page=page,
                           pages=max(1, math.ceil(total / PAGE_SIZE)), total=total)
