"""Hostile uploads: whatever a file claims to be, only a real JPEG, PNG or WebP within the limits is
kept; anything else is refused with a message on its item, the choices stay, nothing is written."""
import io
import re
from urllib.parse import quote_from_bytes

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ReturnPhoto
from tests.fixtures.auth import look_up_order
from tests.support.photos import fake_png, gif, jpeg, png_bomb, zip_bomb
from tests.support.portal import make_line, make_portal_order

pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Changed my mind"],
                                 photo_modes={"Faulty": "optional"})

NOT_A_PHOTO = "That file is not a JPEG, PNG or WebP photo."
TOO_MANY_PIXELS = "That image is too large to open (too many pixels)."


@pytest.fixture
def order(account):
    made = make_portal_order(account, [make_line(title="Trail Jacket")], email="pat@example.com")
    db.session.commit()
    return made


def post(client, account, line, uploads, **extra):
    data = {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": "Faulty",
            f"line-{line.id}-note": "Zip broke", **extra}
    if uploads is not None:
        data[f"line-{line.id}-photos"] = [(io.BytesIO(blob), name, kind) for blob, name, kind in uploads]
    return client.post(f"/r/{account.slug}/items", data=data, content_type="multipart/form-data")


def nothing_written(store):
    return db.session.scalar(select(func.count()).select_from(ReturnPhoto)) == 0 and store.keys() == set()


@pytest.mark.parametrize("uploads, message", [
    ([(gif(), "photo.gif", "image/gif")], NOT_A_PHOTO),
    ([(b"just some text, not an image", "photo.jpg", "image/jpeg")], NOT_A_PHOTO),
    ([(fake_png(), "photo.png", "image/png")], NOT_A_PHOTO),
    ([(zip_bomb(), "photo.png", "image/png")], NOT_A_PHOTO),
    ([(png_bomb(), "photo.png", "image/png")], TOO_MANY_PIXELS),            # past Pillow's error limit
    ([(png_bomb(10_000, 10_000), "photo.png", "image/png")], TOO_MANY_PIXELS),  # past its warning limit
    ([(jpeg(pad_to=10 * 1024 * 1024 + 1), "big.jpg", "image/jpeg")], "Each photo must be 10 MB or smaller."),
    ([(b"", "empty.jpg", "image/jpeg")], "That file is empty."),
    # One bad file among good ones: none of them is kept.
    ([(jpeg(), "a.jpg", "image/jpeg"), (fake_png(), "b.png", "image/png")], "Photo 2: " + NOT_A_PHOTO),
], ids=["gif", "text-as-jpeg", "fake-png", "zip-bomb-as-png", "pixel-bomb", "pixel-bomb-warning", "over-10mb",
        "empty", "one-bad-of-two"])
def test_hostile_files_are_refused_cleanly_and_nothing_is_written(account, order, client, local_store, uploads,
                                                                   message):
    look_up_order(client, account, order.name)
    line = order.lines[0]
    response = post(client, account, line, uploads)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and "Nothing was uploaded; please choose the photos again." in body
    assert "Zip broke" in body and re.search(r'value="Faulty"\s+checked', body)
    assert nothing_written(local_store)


@pytest.mark.parametrize("name", ["\x00.jpg", "gpj.\u202eexe", "../../etc/passwd", "a" * 5000, "²"])
def test_the_file_name_is_never_used(account, order, client, local_store, name):
    look_up_order(client, account, order.name)
    response = post(client, account, order.lines[0], [(jpeg(), name, "image/jpeg")], action="edit")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ReturnPhoto)) == 1


@pytest.mark.parametrize("field", ["line-999999999-photos", "line-99999999999999999999999-photos", "line-x-photos"])
def test_photos_for_a_line_not_in_the_order_are_not_kept(account, order, client, local_store, field):
    look_up_order(client, account, order.name)
    response = client.post(f"/r/{account.slug}/items", content_type="multipart/form-data",
                           data={field: [(io.BytesIO(jpeg()), "p.jpg")], "action": "edit"})
    assert response.status_code == 200
    assert nothing_written(local_store)


@pytest.mark.parametrize("key", [b"\x00", b"\xed\xa0\x80", "²".encode() * 32, b"a" * 10_000, b"../" * 11])
def test_removing_with_a_hostile_key_removes_nothing(account, order, client, local_store, key):
    look_up_order(client, account, order.name)
    post(client, account, order.lines[0], [(jpeg(), "p.jpg", "image/jpeg")], action="edit")
    # Sent as raw bytes (a lone surrogate cannot be built as text).
    response = client.post(f"/r/{account.slug}/items", data=b"remove_photo=" + quote_from_bytes(key).encode(),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ReturnPhoto)) == 1


def test_uploads_without_a_portal_session_write_nothing(account, order, client, local_store):
    response = post(client, account, order.lines[0], [(jpeg(), "p.jpg", "image/jpeg")])
    assert response.status_code == 303
    assert nothing_written(local_store)
    assert client.get(f"/r/{account.slug}/photos/{'a' * 32}").status_code == 404
