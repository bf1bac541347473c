"""Photos of returned items: taken in the portal while the shopper chooses (pending, tied to their
portal session and the order line), attached to the return's items when it is submitted, shown to
staff, and deleted with the personal data they belong to.

Bytes go to the photo store (app/photos/storage.py) only after every file of an upload has been
read and re-encoded (app/photos/images.py): one refused file and nothing of that upload is kept.
Deleting removes the stored object first and then the row, so a run cut short in between is
finished by running it again (removing an object that is gone does nothing).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import IO, Iterable

from flask import current_app
from sqlalchemy import delete, or_, select

from app.domain.photos import (MAX_PHOTO_BYTES, PhotoMode, PhotoRefused, asks_photos, count_problem,
                               mode_for)
from app.domain.returns import ReturnRefused
from app.extensions import db
from app.i18n import gettext as _, ngettext, translate
from app.models import Account, Order, Return, ReturnItem, ReturnPhoto
from app.photos.images import reencode
from app.photos.storage import PhotoStore, new_key, store_from_settings, valid_key

_STORE_KEY = "boomerang.photo_store"


def photo_store() -> PhotoStore:
    """The app's photo store, made once from its settings."""
    extensions = current_app.extensions
    if _STORE_KEY not in extensions:
        extensions[_STORE_KEY] = store_from_settings(current_app.config)
    return extensions[_STORE_KEY]


def _read_capped(stream: IO[bytes]) -> bytes:
    # One byte past the limit is enough to refuse it; the rest is never read into memory.
    return stream.read(MAX_PHOTO_BYTES + 1)


def pending(account: Account, order: Order, session_key: str | None) -> dict[int, list[ReturnPhoto]]:
    """This portal session's photos of the order's lines, by line id, oldest first."""
    if not session_key:
        return {}
    rows = db.session.scalars(select(ReturnPhoto).where(
        ReturnPhoto.account_id == account.id, ReturnPhoto.order_id == order.id,
        ReturnPhoto.session_key == session_key, ReturnPhoto.return_item_id.is_(None))
        .order_by(ReturnPhoto.id)).all()
    found: dict[int, list[ReturnPhoto]] = {}
    for row in rows:
        found.setdefault(row.order_line_id, []).append(row)
    return found


def add_pending(account: Account, order: Order, session_key: str,
                uploads: dict[int, list[IO[bytes]]]) -> dict[int, str]:
    """Keep the uploaded files of each of the order's lines as pending photos of this session.

    Returns what to fix per line id; when anything is refused nothing at all is written. Lines
    not in the order are ignored, as are uploads when the shop asks no photos."""
    if not asks_photos(account.photo_modes):
        return {}
    lines = {line.id for line in order.lines}
    held = pending(account, order, session_key)
    limit = account.photos_per_item
    made: list[tuple[int, object]] = []
    errors: dict[int, str] = {}
    for line_id, files in uploads.items():
        if line_id not in lines or not files:
            continue
        if len(held.get(line_id, [])) + len(files) > limit:
            errors[line_id] = _too_many(limit)
            continue
        for number, stream in enumerate(files, start=1):
            try:
                made.append((line_id, reencode(_read_capped(stream))))
            except PhotoRefused as refusal:
                problem = translate(str(refusal))
                errors[line_id] = (_("Photo %(number)s: %(problem)s Nothing was uploaded; please choose the photos "
                                     "again.", number=number, problem=problem) if len(files) > 1 else
                                   _("%(problem)s Nothing was uploaded; please choose the photos again.",
                                     problem=problem))
                break
    if errors or not made:
        return errors
    store = photo_store()
    stored = []
    try:
        for line_id, photo in made:
            key = new_key()
            store.put(key, photo.data, photo.content_type)
            stored.append(key)
            db.session.add(ReturnPhoto(account_id=account.id, order_id=order.id, order_line_id=line_id,
                                       session_key=session_key, storage_key=key, content_type=photo.content_type,
                                       byte_size=len(photo.data), width=photo.width, height=photo.height))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for key in stored:
            store.delete(key)
        raise
    return {}


def remove_pending(account: Account, session_key: str | None, storage_key: str) -> bool:
    """Delete one of this session's pending photos; False when it names none of them."""
    row = _pending_row(account, session_key, storage_key)
    if row is None:
        return False
    photo_store().delete(row.storage_key)
    db.session.delete(row)
    db.session.commit()
    return True


def _pending_row(account: Account, session_key: str | None, storage_key: str) -> ReturnPhoto | None:
    if not session_key or not valid_key(storage_key):
        return None
    return db.session.scalar(select(ReturnPhoto).where(
        ReturnPhoto.account_id == account.id, ReturnPhoto.storage_key == storage_key,
        ReturnPhoto.session_key == session_key, ReturnPhoto.return_item_id.is_(None)))


def pending_photo(account: Account, session_key: str | None, storage_key: str) -> tuple[ReturnPhoto, bytes] | None:
    """A pending photo of this portal session and its bytes, or None (anyone else's, or gone)."""
    row = _pending_row(account, session_key, storage_key)
    data = photo_store().get(row.storage_key) if row is not None else None
    return (row, data) if data is not None else None


def account_photo(account_id: int, return_id: int, storage_key: str) -> tuple[ReturnPhoto, bytes] | None:
    """A photo of one of the account's returns and its bytes, or None (another account's, or gone)."""
    if not valid_key(storage_key) or not 0 < return_id < 2**63:
        return None
    row = db.session.scalar(select(ReturnPhoto).join(ReturnItem, ReturnItem.id == ReturnPhoto.return_item_id).where(
        ReturnPhoto.account_id == account_id, ReturnPhoto.storage_key == storage_key,
        ReturnItem.return_id == return_id))
    data = photo_store().get(row.storage_key) if row is not None else None
    return (row, data) if data is not None else None


def problems(account: Account, order: Order, session_key: str | None, selections: Iterable) -> dict[int, str]:
    """Per chosen line, what is wrong with its photos (a required one missing, too many)."""
    held = pending(account, order, session_key)
    found = {}
    for sel in selections:
        mode = mode_for(account.photo_modes, sel.reason)
        count = len(held.get(sel.line_id, [])) if mode != PhotoMode.NOT_ASKED else 0
        if count_problem(mode, count, account.photos_per_item, sel.reason):
            found[sel.line_id] = _photo_problem(count, account.photos_per_item, sel.reason)
    return found


def _photo_problem(count: int, limit: int, reason: str) -> str:
    """The domain's verdict on an item's photos (count_problem), in the shopper's words and language."""
    if count:
        return _too_many(limit)
    return _("Add at least one photo of this item: the shop needs one for “%(reason)s”.", reason=translate(reason))


def _too_many(limit: int) -> str:
    return ngettext("Add at most %(num)d photo per item.", "Add at most %(num)d photos per item.", limit)


def attach(account: Account, session_key: str | None, ret: Return) -> None:
    """Give the return's items this session's pending photos of their lines (in the return's own
    transaction: the caller commits). Raises ReturnRefused, and the return is not made, when an
    item's reason needs a photo it does not have. Photos of reasons that ask none stay pending
    and are swept."""
    order = db.session.get(Order, ret.order_id)
    held = pending(account, order, session_key) if order is not None else {}
    for item in ret.items:
        mode = mode_for(account.photo_modes, item.reason)
        photos = held.get(item.order_line_id, []) if mode != PhotoMode.NOT_ASKED else []
        if count_problem(mode, len(photos), account.photos_per_item, item.reason):
            raise ReturnRefused(_("%(item)s: %(problem)s Nothing was sent.", item=item.title,
                                  problem=_photo_problem(len(photos), account.photos_per_item, item.reason)))
        for photo in photos:
            photo.return_item_id = item.id
            photo.session_key = None


def by_item(ret: Return) -> dict[int, list[ReturnPhoto]]:
    """The return's photos by item id, oldest first."""
    rows = db.session.scalars(select(ReturnPhoto).join(ReturnItem, ReturnItem.id == ReturnPhoto.return_item_id)
                              .where(ReturnItem.return_id == ret.id).order_by(ReturnPhoto.id)).all()
    found: dict[int, list[ReturnPhoto]] = {}
    for row in rows:
        found.setdefault(row.return_item_id, []).append(row)
    return found


def delete_photos(*conditions) -> int:
    """Delete the photos matching all `conditions`: their stored objects, then their rows (the
    caller commits). Returns how many rows went; safe to run again after a failure."""
    rows = db.session.execute(select(ReturnPhoto.id, ReturnPhoto.storage_key).where(*conditions)).all()
    if not rows:
        return 0
    store = photo_store()
    for _id, key in rows:
        store.delete(key)
    db.session.execute(delete(ReturnPhoto).where(ReturnPhoto.id.in_([r.id for r in rows])))
    return len(rows)


def of_orders_or_returns(order_ids: list[int], return_ids: list[int]):
    """The condition for photos taken for any of these orders or attached to any of these returns."""
    conditions = []
    if order_ids:
        conditions.append(ReturnPhoto.order_id.in_(order_ids))
    if return_ids:
        conditions.append(ReturnPhoto.return_item_id.in_(
            select(ReturnItem.id).where(ReturnItem.return_id.in_(return_ids))))
    return or_(*conditions) if conditions else None


def sweep_pending(now: datetime | None = None) -> int:
    """Delete photos uploaded in the portal longer than PHOTO_PENDING_HOURS ago that never became
    part of a return (the shopper left). Safe to run twice."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(hours=current_app.config["PHOTO_PENDING_HOURS"])
    deleted = delete_photos(ReturnPhoto.return_item_id.is_(None), ReturnPhoto.created_at < cutoff)
    db.session.commit()
    return deleted


def export_rows(account_id: int, order_ids: list[int], return_ids: list[int]) -> list[dict]:
    """The customer's photos for a data export: what each is of and when it was taken (the
    images themselves stay here; the merchant can see them on the return pages)."""
    condition = of_orders_or_returns(order_ids, return_ids)
    if condition is None:
        return []
    rows = db.session.execute(
        select(ReturnPhoto, ReturnItem.title, Return.rma_number)
        .outerjoin(ReturnItem, ReturnItem.id == ReturnPhoto.return_item_id)
        .outerjoin(Return, Return.id == ReturnItem.return_id)
        .where(ReturnPhoto.account_id == account_id, condition).order_by(ReturnPhoto.id)).all()
    return [{"rma_number": rma, "item": title, "content_type": photo.content_type, "bytes": photo.byte_size,
             "width": photo.width, "height": photo.height, "created_at": photo.created_at.isoformat(),
             "attached": photo.return_item_id is not None} for photo, title, rma in rows]
