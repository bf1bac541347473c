"""Shoppers add photos to items in the portal; staff see them on the return page; nobody else can."""
import io
import re

import pytest
from flask import g
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Return, ReturnPhoto
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in, look_up_order
from tests.support.photos import GPS_MARK, jpeg, photo_with_metadata, png, webp
from tests.support.portal import make_line, make_portal_order

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Damaged", "Changed my mind"],
                                 photo_modes={"Faulty": "optional", "Damaged": "required"},
                                 users=["staff"], in_sandbox=True)


def choose(line, reason="Faulty"):
    return {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": reason,
            f"line-{line.id}-option": "refund"}


def files(line, *blobs, name="photo.jpg"):
    return {f"line-{line.id}-photos": [(io.BytesIO(b), name) for b in blobs]}


def post_items(client, account, data):
    return client.post(f"/r/{account.slug}/items", data=data, content_type="multipart/form-data")


def hidden_of(body):
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body.split('class="edit-form"')[0]))


def photo_urls(body):
    return re.findall(r'<img src="(/r/[^"]+/photos/[^"]+)"', body)


@pytest.fixture
def order(account):
    made = make_portal_order(account, [make_line(title="Trail Jacket"), make_line(title="Wool Socks")],
                             email="pat@example.com")
    db.session.commit()
    return made


def count_photos():
    return db.session.scalar(select(func.count()).select_from(ReturnPhoto))


def test_shopper_adds_photos_staff_see_them_and_nothing_else_does(app, account, order, client, stored):
    jacket, socks = order.lines
    look_up_order(client, account, order.name)
    page = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'accept="image/jpeg,image/png,image/webp"' in page
    assert "Needed when the reason is Damaged." in page and "Welcome when the reason is Faulty." in page

    response = post_items(client, account, {**choose(jacket), **files(jacket, photo_with_metadata(), png(), webp())})
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "Check your return" in body
    urls = photo_urls(body)
    assert len(urls) == 3
    assert len(stored.keys()) == 3

    # Each photo is served through the app, to this shopper, as a clean JPEG turned upright.
    shown = client.get(urls[0])
    assert shown.status_code == 200
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert GPS_MARK.encode() not in shown.data
    image = Image.open(io.BytesIO(shown.data))
    assert image.size == (200, 400)  # the sideways photo, turned as its EXIF said
    assert not image.getexif() and "comment" not in image.info

    # Another shopper (another browser) cannot see or remove them.
    stranger = app.test_client()
    assert stranger.get(urls[0]).status_code == 404
    look_up_order(stranger, account, order.name)
    assert stranger.get(urls[0]).status_code == 404
    post_items(stranger, account, {**choose(jacket), "remove_photo": urls[0].rsplit("/", 1)[1]})
    assert count_photos() == 3

    submitted = client.post(f"/r/{account.slug}/submit", data=hidden_of(body))
    assert submitted.status_code == 303
    ret = db.session.scalar(select(Return))
    photos = db.session.scalars(select(ReturnPhoto).order_by(ReturnPhoto.id)).all()
    assert [p.return_item_id for p in photos] == [ret.items[0].id] * 3
    assert all(p.session_key is None for p in photos)
    # Sent with the return, they are no longer the shopper's to fetch from the portal.
    assert client.get(urls[0]).status_code == 404

    staff = app.test_client()
    log_in(staff, "staff@example.com")
    page = staff.get(f"/dashboard/returns/{ret.id}").get_data(as_text=True)
    staff_urls = re.findall(r'<img src="(/dashboard/returns/\d+/photos/[^"]+)"', page)
    assert len(staff_urls) == 3 and "Customer's photo 1 of Trail Jacket" in page
    seen = staff.get(staff_urls[0])
    assert seen.status_code == 200 and seen.headers["Content-Type"] == "image/jpeg"
    assert seen.headers["Cache-Control"] == "private, no-store" and seen.data == shown.data
    # No public or presigned link anywhere: the page names only the app's own address.
    assert "X-Amz" not in page and "amazonaws" not in page and "127.0.0.1:" not in page

    # Another account's staff get a 404 for the same address; so does an unknown or odd key.
    other = make_account()
    make_user(other, role="admin", email="other@example.com")
    db.session.commit()
    outsider = app.test_client()
    g.pop("_login_user", None)  # the test's app context is shared by its requests: forget the staff login
    log_in(outsider, "other@example.com")
    assert outsider.get(staff_urls[0]).status_code == 404
    for bad in ("x" * 32, "..%2F..%2Fsecret_key", "a" * 500, "%00", "%ED%A0%80"):
        assert staff.get(f"/dashboard/returns/{ret.id}/photos/{bad}").status_code == 404
    assert staff.get(f"/dashboard/returns/{10**30}/photos/{'a' * 32}").status_code == 404


def test_a_required_photo_missing_is_an_error_on_the_item_and_choices_are_kept(account, order, client, local_store):
    jacket, _ = order.lines
    look_up_order(client, account, order.name)
    data = {**choose(jacket, "Damaged"), f"line-{jacket.id}-note": "Seam split"}
    response = post_items(client, account, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Add at least one photo of this item: the shop needs one for “Damaged”." in body
    assert f'id="line-{jacket.id}-photos"' in body and 'aria-invalid="true"' in body
    assert "Seam split" in body and re.search(r'value="Damaged"\s+checked', body)

    # Adding one makes the same choices go through.
    response = post_items(client, account, {**data, **files(jacket, jpeg())})
    assert response.status_code == 200 and "Check your return" in response.get_data(as_text=True)


def test_photos_survive_going_back_and_can_be_removed(account, order, client, local_store):
    jacket, _ = order.lines
    look_up_order(client, account, order.name)
    # "Upload photos" (the button without JavaScript) keeps them and shows the page again.
    response = post_items(client, account, {**choose(jacket), **files(jacket, jpeg(), jpeg()), "action": "edit"})
    assert response.status_code == 200
    body = client.get(f"/r/{account.slug}/items").get_data(as_text=True)  # Back, or a reload
    keys = re.findall(r'name="remove_photo" value="([^"]+)"', body)
    assert len(keys) == 2 and "Your photo 2 of Trail Jacket" in body
    response = post_items(client, account, {**choose(jacket), "remove_photo": keys[0]})
    body = response.get_data(as_text=True)
    assert re.findall(r'name="remove_photo" value="([^"]+)"', body) == [keys[1]]
    assert count_photos() == 1 and len(local_store.keys()) == 1
    assert re.search(r'value="Faulty"\s+checked', body)  # the choices stay as they were


def test_five_photos_fit_in_one_post_and_a_sixth_is_refused(app, account, order, client, local_store):
    jacket, _ = order.lines
    look_up_order(client, account, order.name)
    # Five 3 MB photos: far past the 2 MB every other form may send.
    big = jpeg(pad_to=3 * 1024 * 1024)
    response = post_items(client, account, {**choose(jacket), **files(jacket, *[big] * 5)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    photos = db.session.scalars(select(ReturnPhoto)).all()
    assert len(photos) == 5 and all(p.byte_size < 100_000 for p in photos)  # the padding is not kept
    response = post_items(client, account, {**choose(jacket), **files(jacket, jpeg())})
    assert response.status_code == 422
    assert "Add at most 5 photos per item." in response.get_data(as_text=True)
    assert count_photos() == 5


def test_a_body_past_the_limit_is_a_clear_413(app, account, order, client, local_store, monkeypatch):
    jacket, _ = order.lines
    monkeypatch.setitem(app.config, "PHOTO_REQUEST_MAX_BYTES", 4 * 1024 * 1024)
    look_up_order(client, account, order.name)
    response = post_items(client, account, {**choose(jacket), **files(jacket, jpeg(pad_to=5 * 1024 * 1024))})
    body = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Photos can be up to 10 MB each: choose fewer or smaller photos" in body
    assert f'href="/r/{account.slug}/items"' in body
    assert count_photos() == 0 and local_store.keys() == set()


def test_reasons_that_ask_no_photos_attach_none(app, account, order, client, local_store):
    jacket, socks = order.lines
    look_up_order(client, account, order.name)
    response = post_items(client, account, {**choose(jacket, "Changed my mind"), **files(jacket, jpeg()),
                                            **choose(socks)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and photo_urls(body) == []
    client.post(f"/r/{account.slug}/submit", data=hidden_of(body))
    assert db.session.scalar(select(func.count()).select_from(ReturnPhoto)
                             .where(ReturnPhoto.return_item_id.is_not(None))) == 0
