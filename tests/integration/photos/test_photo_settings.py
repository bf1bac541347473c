"""Admins choose, per return reason, whether the portal asks for photos, and how many per item."""
import pytest

from app.extensions import db
from app.models import Account
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order
from tests.support.settings import SETTINGS, page_values, post_settings

pytestmark = pytest.mark.account(users=["admin"], logged_in="admin",
                                 return_reasons=["Faulty", "Damaged", "Too small"])


def test_photo_settings_are_saved_and_shown_again(account, client):
    response = post_settings(client, {"photos_required_reasons": "damaged", "photos_optional_reasons": "Faulty\n",
                                      "photos_per_item": "3"})
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert saved.photo_modes == {"Damaged": "required", "Faulty": "optional"}
    assert saved.photos_per_item == 3
    shown = page_values(client.get(SETTINGS).get_data(as_text=True))
    assert (shown["photos_required_reasons"], shown["photos_optional_reasons"], shown["photos_per_item"]) == (
        "Damaged", "Faulty", "3")


def test_by_default_no_reason_asks_for_photos(account, client, app):
    assert account.photos_per_item == 5 and not account.photo_modes
    order = make_portal_order(account, [make_line()], email="pat@example.com")
    db.session.commit()
    shopper = app.test_client()
    look_up_order(shopper, account, order.name)
    page = shopper.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert "multipart/form-data" not in page and "Photos of the item" not in page


@pytest.mark.parametrize("changes, message", [
    ({"photos_required_reasons": "Lost in the post"}, "“Lost in the post” is not one of the return reasons above."),
    ({"photos_required_reasons": "Faulty", "photos_optional_reasons": "faulty"},
     "“faulty” is listed as required too: keep it in one list."),
    ({"photos_per_item": "0"}, "Choose between 1 and 10 photos."),
    ({"photos_per_item": "11"}, "Choose between 1 and 10 photos."),
    ({"photos_per_item": "²"}, "Enter a number of photos in digits, e.g. 5."),
    ({"photos_per_item": "9" * 5000}, "Choose between 1 and 10 photos."),
    ({"photos_optional_reasons": "Faulty\x00"}, None),
])
def test_bad_photo_settings_are_refused_and_nothing_is_written(account, client, changes, message):
    response = post_settings(client, changes)
    assert response.status_code == 422
    if message:
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(Account, account.id)
    assert not saved.photo_modes and saved.photos_per_item == 5
