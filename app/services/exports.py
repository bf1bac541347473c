"""CSV exports of the returns list: every return a filter of the list matches (every page, in the
list's order), one row per return or one row per returned item, streamed.

Memory stays flat whatever the size of the account: the returns are read in keyset batches of
`BATCH` (the last row's sort key starts the next batch, so no batch rereads what came before, as
an OFFSET would), each batch's items, Shopify returns and labels are read with it by return id,
and every read is a Core row (plain tuples, never ORM objects), so the session's identity map
stays empty. Each batch is written and handed to the response before the next one is read.

The files are UTF-8 with a byte order mark: without it Excel on Windows reads a CSV in the
system's code page and mangles every accented name; LibreOffice, Google Sheets and Python's
``utf-8-sig`` read the mark and drop it. Cells are built by `app.domain.csv_rows` (exact money,
ISO 8601 UTC times, text neutralised against formulas), every cell quoted (OWASP's advice for
CSV, with the quote prefix: https://owasp.org/www-community/attacks/CSV_Injection).
"""
import csv
import io
import logging
import re
from collections.abc import Iterator
from datetime import date

from sqlalchemy import and_, or_, select

from app.domain import csv_rows
from app.extensions import db
from app.models import Return, ReturnItem, ShopifyReturn
from app.models.labels import ReturnLabel

log = logging.getLogger(__name__)

BATCH = 1_000
BOM = "\ufeff"
KINDS = ("returns", "items")

_RETURN_COLUMNS = (Return.id, Return.rma_number, Return.status, Return.created_at, Return.updated_at,
                   Return.received_at, Return.processed_at, Return.closed_at, Return.cancelled_at,
                   Return.order_name, Return.shopify_order_id, Return.customer_name, Return.customer_email,
                   Return.currency, Return.return_shipping_fee, Return.tracking_number, Return.tracking_provider,
                   Return.tracking_state)
_ITEM_COLUMNS = (ReturnItem.return_id, ReturnItem.shopify_line_id, ReturnItem.product_id, ReturnItem.variant_id,
                 ReturnItem.sku, ReturnItem.title, ReturnItem.variant_title, ReturnItem.quantity,
                 ReturnItem.unit_value, ReturnItem.reason, ReturnItem.note, ReturnItem.option, ReturnItem.keep_item,
                 ReturnItem.exchange_variant_id, ReturnItem.exchange_variant_title, ReturnItem.resolution,
                 ReturnItem.issued_at, ReturnItem.issued_amount, ReturnItem.credit_method,
                 ReturnItem.shopify_refund_id, ReturnItem.shopify_gift_card_id, ReturnItem.exchange_order_id,
                 ReturnItem.exchange_order_name, ReturnItem.restocking_fee_percentage, ReturnItem.bonus_amount,
                 ReturnItem.bonus_gift_card_id, ReturnItem.outside_refund_amount, ReturnItem.outside_refund_method,
                 ReturnItem.failure_reason, ReturnItem.shopify_return_ref_id)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def filename(shop: str, kind: str, today: date) -> str:
    """The download's name: the shop, what it holds and the day, in characters every system
    accepts (e.g. "acme-outdoor-returned-items-2026-12-06.csv")."""
    shop = _NOT_SLUG.sub("-", shop.lower().removesuffix(".myshopify.com")).strip("-")[:60] or "shop"
    return f"{shop}-{'returns' if kind == 'returns' else 'returned-items'}-{today.isoformat()}.csv"


def stream_csv(kind: str, clauses: list, sort: str, status_order: tuple = (), *, batch: int | None = None
               ) -> Iterator[bytes]:
    """The CSV of `kind` ("returns" or "items") for the returns matching `clauses` (which scope
    them to an account), in the list's `sort` ("newest", "oldest", "rma", or "status", which walks
    `status_order`), as UTF-8 chunks: the header, then one chunk per batch of returns (`batch`,
    default BATCH, returns each). An error midway ends the file with a line saying it is
    incomplete, then is raised again (the headers are sent: only breaking off the response can
    tell the browser the download failed)."""
    batch = batch or BATCH
    columns = csv_rows.RETURN_COLUMNS if kind == "returns" else csv_rows.ITEM_COLUMNS
    yield (BOM + _csv_text([csv_rows.header(columns)])).encode("utf-8")
    written = 0
    try:
        for returns in _batches(clauses, sort, status_order, batch):
            rows = list(_rows(kind, returns))
            # The batch is read: end the read transaction, so a slow download holds no connection
            # (nor an old snapshot) while it takes the chunk; the next batch starts after this one's key.
            db.session.rollback()
            yield _csv_text(rows).encode("utf-8")
            written += len(rows)
    except Exception:
        # The headers are sent: no error page can follow. The file's last line says it is cut
        # short, for whoever opens a partial file, and the error is raised again so the server
        # breaks off the response and the browser calls the download failed.
        log.exception("the %s export stopped after %d rows", kind, written)
        db.session.rollback()
        yield _csv_text([[f"EXPORT INCOMPLETE: it stopped after {written} rows because of an error. "
                          "Download it again."]]).encode("utf-8")
        raise


def _csv_text(rows: list[list[str]]) -> str:
    """Rows as CSV text: every cell quoted, CRLF line endings."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _batches(clauses: list, sort: str, status_order: tuple, batch: int) -> Iterator[list]:
    """The matching returns' rows, `batch` at a time, in the list's order."""
    if sort == "status":
        # The list's lifecycle order: each status newest first, one keyset walk per status.
        for status in status_order:
            yield from _walk([*clauses, Return.status == status], descending=True, batch=batch)
    elif sort == "rma":
        yield from _walk(clauses, descending=False, batch=batch, by_created=False)
    else:
        yield from _walk(clauses, descending=sort != "oldest", batch=batch)


def _walk(clauses: list, *, descending: bool, batch: int, by_created: bool = True) -> Iterator[list]:
    """Keyset pages over (created_at, id), or id alone: each starts after the previous one's last
    row. The redundant bound on created_at lets the index on (account_id, created_at) start there."""
    last = None
    while True:
        query = select(*_RETURN_COLUMNS).where(*clauses)
        if last is not None:
            created, last_id = last
            if not by_created:
                query = query.where(Return.id > last_id)
            elif descending:
                query = query.where(Return.created_at <= created, or_(
                    Return.created_at < created, and_(Return.created_at == created, Return.id < last_id)))
            else:
                query = query.where(Return.created_at >= created, or_(
                    Return.created_at > created, and_(Return.created_at == created, Return.id > last_id)))
        if not by_created:
            order = (Return.id.asc(),)
        elif descending:
            order = (Return.created_at.desc(), Return.id.desc())
        else:
            order = (Return.created_at.asc(), Return.id.asc())
        rows = db.session.execute(query.order_by(*order).limit(batch)).all()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = (rows[-1].created_at, rows[-1].id)


def _rows(kind: str, returns: list) -> Iterator[list[str]]:
    """One batch's CSV rows, its items, Shopify returns and labels read by return id."""
    ids = [r.id for r in returns]
    items: dict[int, list[dict]] = {i: [] for i in ids}
    for item in db.session.execute(select(*_ITEM_COLUMNS).where(ReturnItem.return_id.in_(ids))
                                   .order_by(ReturnItem.return_id, ReturnItem.id)):
        items[item.return_id].append(item._asdict())
    shopify_returns: dict[int, list] = {i: [] for i in ids}
    shopify_ids: dict[int, int | None] = {}
    for ref in db.session.execute(select(ShopifyReturn.id, ShopifyReturn.return_id, ShopifyReturn.shopify_return_id)
                                  .where(ShopifyReturn.return_id.in_(ids)).order_by(ShopifyReturn.seq)):
        shopify_ids[ref.id] = ref.shopify_return_id
        shopify_returns[ref.return_id].append(ref.shopify_return_id)
    labels = {} if kind != "returns" else {
        label.return_id: label._asdict() for label in db.session.execute(
            select(ReturnLabel.return_id, ReturnLabel.carrier, ReturnLabel.state, ReturnLabel.cost,
                   ReturnLabel.currency).where(ReturnLabel.return_id.in_(ids)))}
    for ret in returns:
        values = ret._asdict()
        if kind == "returns":
            yield csv_rows.row(csv_rows.RETURN_COLUMNS, csv_rows.return_values(
                values, items[ret.id], shopify_returns[ret.id], labels.get(ret.id)))
            continue
        for item in items[ret.id]:
            yield csv_rows.row(csv_rows.ITEM_COLUMNS, csv_rows.item_values(
                values, item, shopify_ids.get(item["shopify_return_ref_id"])))
