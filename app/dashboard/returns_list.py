"""The staff returns list: its filters, its sorts and pages that stay fast at 100,000 returns.

Only helpers live here (no routes). A page is read in two steps: the ids of the page, from an
index in the order shown, then those rows with their items; the total is counted up to a cap, so
neither grows with the size of the account.
"""
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from flask_login import current_user
from sqlalchemy import exists, func, literal, or_, select, union_all
from sqlalchemy.orm import load_only
from werkzeug.datastructures import MultiDict
from wtforms import Form, HiddenField, SearchField, SelectField
from wtforms.fields import DateField
from wtforms.validators import Length, Optional, ValidationError

from app.dashboard.forms import plain_text
from app.dashboard.search import ORDER_NUMBER, check_date_range, like_escape
from app.domain.returns import ENDED, FORWARD
from app.domain.triage import NEEDS_DECISION as NEEDS_DECISION_STATES
from app.domain.triage import summarize_items
from app.domain.vocabulary import ItemResolution, Option, ReturnStatus
from app.extensions import db
from app.forms import strip_spaces
from app.models import Return, ReturnItem

_RMA = re.compile(r"^[Rr]-?(\d{1,12})$")
# Beyond this many matches the list says "1,000+": counting every match of an item filter means
# one EXISTS probe per candidate return (about 100 ms at 100,000 returns), far more than the page.
COUNT_CAP = 1_000
STATUS_ORDER = (*FORWARD, ReturnStatus.CANCELLED, ReturnStatus.DECLINED)
SORTS = {"newest": "Newest first", "oldest": "Oldest first", "status": "Status (open first)", "rma": "RMA number"}
PAGE_SIZES = ("25", "50", "100")
# Issue-state filter values beyond the resolutions: items someone must decide (not cancelled).
NEEDS_DECISION = "decision"
# Status filter value beyond the statuses: every return still in progress.
ACTIVE = "active"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ufffd\ud800-\udfff]")
FILTER_KEYS = ("q", "status", "option", "issue", "reason", "product", "variant", "date_from", "date_to", "sort",
               "per_page")
_SHOPIFY_ID = re.compile(r"^[0-9]{1,19}$")


class ReturnFilterForm(Form):
    """The list's search and filters (a GET form: nothing changes, no CSRF token needed)."""

    q = SearchField("RMA, order number or email", filters=[strip_spaces],
                    validators=[Optional(), Length(max=200, message="Use at most 200 characters."), plain_text])
    status = SelectField("Status", choices=[("", "Any status"),
                                            (ACTIVE, "In progress (not closed, cancelled or declined)")]
                         + ReturnStatus.choices(*STATUS_ORDER), default="")
    option = SelectField("Option", choices=[("", "Any option")] + Option.choices()
                         + [("none", "Not chosen yet")], default="")
    issue = SelectField("Issue state", choices=[("", "Any issue state"), (NEEDS_DECISION, "Needs a decision")]
                        + ItemResolution.choices(), default="")
    # An item's reason, exactly as stored (the analytics page links here per reason).
    reason = SearchField("Reason", filters=[strip_spaces],
                         validators=[Optional(), Length(max=120, message="Use at most 120 characters."), plain_text])
    # A product or variant by its Shopify id: set only by the analytics page's links, kept hidden.
    product = HiddenField("Product")
    variant = HiddenField("Variant")
    date_from = DateField("Started from", validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField("Started until", validators=[Optional()], render_kw={"type": "date"})
    sort = SelectField("Sort", choices=list(SORTS.items()), default="newest")
    per_page = SelectField("Per page", choices=[(n, n) for n in PAGE_SIZES], default="25")

    _CHOICE_MESSAGES = {"status": "Choose a status from the list.", "option": "Choose an option from the list.",
                        "issue": "Choose an issue state from the list.", "sort": "Choose a sort from the list.",
                        "per_page": "Show 25, 50 or 100 per page."}

    def validate_q(self, field):
        """No control characters (a NUL is refused by PostgreSQL) or undecodable bytes."""
        if field.data and _UNPRINTABLE.search(field.data):
            raise ValidationError("Remove the control characters or broken letters from the search.")

    def validate_product(self, field):
        """A Shopify id: ASCII digits, within BIGINT."""
        if field.data and not (_SHOPIFY_ID.match(field.data) and int(field.data) < 2**63):
            raise ValidationError("That product link is not valid. Clear the filters and start again.")

    def validate_variant(self, field):
        """A Shopify id: ASCII digits, within BIGINT."""
        if field.data and not (_SHOPIFY_ID.match(field.data) and int(field.data) < 2**63):
            raise ValidationError("That variant link is not valid. Clear the filters and start again.")

    def validate(self, extra_validators=None):
        """Field errors in words a person can act on; an end date before the start is refused."""
        ok = super().validate(extra_validators)
        for name, message in self._CHOICE_MESSAGES.items():
            if self[name].errors:
                self[name].errors = [message]
        return check_date_range(self, ok)


def search_clause(q: str):
    """Exact matches for what people paste (R-1042, #1001, 1001, an email), else a substring."""
    rma = _RMA.match(q)
    if rma:
        return Return.rma_number == f"R-{rma.group(1)}"
    number = ORDER_NUMBER.match(q)
    if number:
        return or_(Return.order_name == f"#{number.group(1)}", Return.order_name == q)
    if "@" in q:
        return Return.customer_email.like(like_escape(q.lower()) + "%", escape="\\")
    pattern = f"%{like_escape(q)}%"
    return or_(Return.rma_number.ilike(pattern, escape="\\"), Return.order_name.ilike(pattern, escape="\\"),
               Return.customer_email.like(f"%{like_escape(q.lower())}%", escape="\\"),
               Return.customer_name.ilike(pattern, escape="\\"))


def filter_clauses(form: ReturnFilterForm) -> list:
    """WHERE clauses for a validated form, the account's scope first."""
    clauses = [Return.account_id == current_user.account_id]
    if form.q.data:
        clauses.append(search_clause(form.q.data))
    if form.status.data == ACTIVE:
        clauses.append(Return.status.notin_(ENDED))
    elif form.status.data:
        clauses.append(Return.status == form.status.data)
    if form.date_from.data:
        clauses.append(Return.created_at >= datetime.combine(form.date_from.data, time.min, timezone.utc))
    if form.date_to.data:
        clauses.append(Return.created_at < datetime.combine(form.date_to.data + timedelta(days=1), time.min,
                                                            timezone.utc))
    # Option and issue state describe one item together ("a failed exchange"), so one EXISTS.
    item = []
    if form.option.data:
        item.append(ReturnItem.option.is_(None) if form.option.data == "none"
                    else ReturnItem.option == form.option.data)
    if form.issue.data == NEEDS_DECISION:
        # A cancelled return issues nothing, so nothing on it waits for a decision.
        item.append(ReturnItem.resolution.in_(NEEDS_DECISION_STATES))
        clauses.append(Return.status.notin_((ReturnStatus.CANCELLED, ReturnStatus.DECLINED)))
    elif form.issue.data:
        item.append(ReturnItem.resolution == form.issue.data)
    if form.reason.data:
        item.append(ReturnItem.reason == form.reason.data)
    if form.product.data:
        item.append(ReturnItem.product_id == int(form.product.data))
    if form.variant.data:
        item.append(ReturnItem.variant_id == int(form.variant.data))
    if item:
        clauses.append(exists().where(ReturnItem.return_id == Return.id, *item))
    return clauses


@dataclass
class ReturnsPage:
    """One page of the list: its rows, whether another follows, and the (capped) total."""

    rows: list
    summaries: dict  # return id → ItemsSummary (options, value, issue states) of its items
    page: int
    per_page: int
    has_next: bool
    total: int
    capped: bool

    @property
    def pages(self) -> int:
        """Pages known to exist (a lower bound when the total is capped)."""
        return max(1, -(-self.total // self.per_page))


def _ordered_ids(clauses: list, sort: str, limit: int, offset: int) -> list[int]:
    if sort == "status":
        # Lifecycle order, newest first within a status: one branch per status, each read from
        # ix_returns_account_status_created in index order and cut at the page's end, so the final
        # sort only sees a few pages' worth of rows instead of every match.
        branches = [select(Return.id.label("id"), literal(rank).label("rank"), Return.created_at.label("created"))
                    .where(*clauses, Return.status == status)
                    .order_by(Return.created_at.desc(), Return.id.desc()).limit(offset + limit)
                    for rank, status in enumerate(STATUS_ORDER)]
        merged = union_all(*[b.subquery().select() for b in branches]).subquery()
        query = select(merged.c.id).order_by(merged.c.rank, merged.c.created.desc(), merged.c.id.desc())
    else:
        order = {"newest": (Return.created_at.desc(), Return.id.desc()),
                 "oldest": (Return.created_at.asc(), Return.id.asc()),
                 "rma": (Return.id.asc(),)}[sort]
        query = select(Return.id).where(*clauses).order_by(*order)
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def capped_count(clauses: list) -> tuple[int, bool]:
    """How many returns match, counting at most COUNT_CAP + 1 of them; (count, capped)."""
    inner = select(Return.id).where(*clauses).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(inner))
    return min(total, COUNT_CAP), total > COUNT_CAP


def load_page(form: ReturnFilterForm | None, page: int) -> ReturnsPage:
    """The page of returns the (validated) form asks for; an invalid form lists nothing."""
    per_page = int(form.per_page.data) if form and form.per_page.data in PAGE_SIZES else 25
    if form is None:
        return ReturnsPage([], {}, page, per_page, False, 0, False)
    clauses = filter_clauses(form)
    ids = _ordered_ids(clauses, form.sort.data or "newest", per_page + 1, (page - 1) * per_page)
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows, summaries = [], {}
    if ids:
        # Only the columns a row shows: the list never touches addresses, traces or results.
        found = {r.id: r for r in db.session.scalars(select(Return).where(Return.id.in_(ids)).options(load_only(
            Return.rma_number, Return.order_name, Return.customer_name, Return.customer_email, Return.status,
            Return.created_at, Return.currency, Return.tracking_number, Return.tracking_state)))}
        rows = [found[i] for i in ids if i in found]
        summaries = _summaries(ids)
    total, capped = capped_count(clauses)
    return ReturnsPage(rows, summaries, page, per_page, has_next, total, capped)


def _summaries(ids: list[int]) -> dict:
    """Each listed return's items summed up for its row, from four columns of their items (no
    item objects: a page of 100 returns reads a few hundred small tuples)."""
    by_return: dict[int, list] = {i: [] for i in ids}
    for item in db.session.execute(select(ReturnItem.return_id, ReturnItem.option, ReturnItem.resolution,
                                          ReturnItem.quantity, ReturnItem.unit_value)
                                   .where(ReturnItem.return_id.in_(ids))):
        by_return[item.return_id].append(item)
    return {i: summarize_items(items) for i, items in by_return.items()}


def count_listed(args: dict) -> tuple[int, bool]:
    """How many returns the list shows under these filters (capped like the list's own total)."""
    form = ReturnFilterForm(MultiDict(args))
    if not form.validate():
        raise ValueError(f"invalid list filters {args!r}: {form.errors}")
    return capped_count(filter_clauses(form))


def closable_ids(form: ReturnFilterForm, limit: int) -> list[int]:
    """Every return the (validated) filters match that can still be closed, oldest first, at
    most `limit` + 1 of them (so the caller can tell that there are too many). A return awaiting
    review is approved or declined first, never closed."""
    clauses = filter_clauses(form) + [Return.status.notin_((*ENDED, ReturnStatus.REQUESTED))]
    return list(db.session.scalars(select(Return.id).where(*clauses).order_by(Return.id).limit(limit + 1)))


def filter_args(args) -> dict:
    """The filters of the current request, for links that keep them (pages, sorts, redirects)."""
    return {key: args[key] for key in FILTER_KEYS if args.get(key)}
