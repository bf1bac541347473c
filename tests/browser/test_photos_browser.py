"""Photos in Chromium: a shopper on a phone adds photos of a returned item in the portal (with
JavaScript on and off), a required photo missing is explained on the item, a photo can be
removed, and staff on a desktop see the photos on the return page."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ReturnPhoto
from tests.factories import make_account, make_user
from tests.support.journey import log_in
from tests.support.photos import jpeg, photo_with_metadata, png
from tests.support.portal import connect_to_sandbox, make_line, make_portal_order

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def seed(e2e_app, sandbox, slug):
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, return_reasons=["Faulty", "Damaged", "Too small"],
                               photo_modes={"Faulty": "optional", "Damaged": "required"})
        connect_to_sandbox(account, sandbox)
        make_user(account, role="staff", email=f"staff-{slug}@example.com")
        make_portal_order(account, [make_line(title="Trail Jacket", variant_title="M / Red"),
                                    make_line(title="Wool Socks")], name="#1042", email="pat@example.com")
        db.session.commit()
        db.session.remove()


def photo_file(name, data, kind):
    return {"name": name, "mimeType": kind, "buffer": data}


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_shopper_on_a_phone_adds_photos_and_staff_see_them(e2e_app, live_server, sandbox, browser, screenshot, js):
    slug = f"photos-{'js' if js else 'nojs'}"
    seed(e2e_app, sandbox, slug)
    shopper = browser.new_context(viewport=PHONE, java_script_enabled=js).new_page()
    shopper.goto(live_server.url(f"/r/{slug}"))
    shopper.get_by_label("Order number").fill("1042")
    shopper.get_by_label("Email address").fill("pat@example.com")
    shopper.get_by_role("button", name="Find my order").click()

    jacket = shopper.get_by_role("region", name=re.compile("Trail Jacket"))
    jacket.get_by_label("Return this item").check()
    jacket.get_by_label("Damaged").check()
    jacket.get_by_label("Anything the shop should know?").fill("Zip tore on day one.")
    jacket.get_by_role("radio", name=re.compile("^Refund")).check()
    expect(jacket.get_by_text("Needed when the reason is Damaged.")).to_be_visible()
    shopper.get_by_role("button", name="Review my return", exact=True).last.click()

    # No photo for "Damaged": said on the item, everything chosen is still there.
    jacket = shopper.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.locator(".error")).to_have_text(
        "Add at least one photo of this item: the shop needs one for “Damaged”.")
    expect(jacket.get_by_label("Damaged")).to_be_checked()
    expect(jacket.get_by_label("Anything the shop should know?")).to_have_value("Zip tore on day one.")
    screenshot(f"photos-required-phone-{slug}", shopper)

    # A file that is not a photo is refused on the item; nothing is kept.
    jacket.get_by_label("Photos of the item").set_input_files(
        [photo_file("scan.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")])
    jacket.get_by_role("button", name="Upload photos").click()
    jacket = shopper.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.locator(".error")).to_contain_text("That file is not a JPEG, PNG or WebP photo.")

    jacket.get_by_label("Photos of the item").set_input_files(
        [photo_file("IMG_0001.jpg", photo_with_metadata(), "image/jpeg"), photo_file("close.png", png(), "image/png"),
         photo_file("tag.jpg", jpeg(), "image/jpeg")])
    jacket.get_by_role("button", name="Upload photos").click()
    jacket = shopper.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.get_by_role("img", name=re.compile("Your photo"))).to_have_count(3)
    jacket.get_by_role("button", name="Remove photo 3 of Trail Jacket").click()
    jacket = shopper.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.get_by_role("img", name=re.compile("Your photo"))).to_have_count(2)
    expect(jacket.get_by_label("Anything the shop should know?")).to_have_value("Zip tore on day one.")
    screenshot(f"photos-items-phone-{slug}", shopper)
    shopper.get_by_role("button", name="Review my return", exact=True).last.click()

    expect(shopper.get_by_role("heading", name="Check your return")).to_be_visible()
    thumbs = shopper.get_by_role("img", name=re.compile("Your photo"))
    expect(thumbs).to_have_count(2)
    served = shopper.request.get(live_server.url(thumbs.first.get_attribute("src")))
    assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
    screenshot(f"photos-review-phone-{slug}", shopper)
    shopper.get_by_role("button", name="Submit return").click()
    expect(shopper.get_by_role("heading", name="Your return is registered")).to_be_visible()
    rma = shopper.locator(".rma").inner_text()

    staff = browser.new_context(viewport=DESKTOP).new_page()
    log_in(staff, live_server, f"staff-{slug}@example.com")
    staff.goto(live_server.url("/dashboard/returns"))
    staff.get_by_role("link", name=rma).click()
    photos = staff.get_by_role("img", name=re.compile("Customer's photo"))
    expect(photos).to_have_count(2)
    # Each thumbnail really loaded (the browser decoded the image the app sent).
    for index in range(2):
        photos.nth(index).scroll_into_view_if_needed()
        expect(photos.nth(index)).to_have_js_property("complete", True)
        assert photos.nth(index).evaluate("img => img.naturalWidth") > 0
    screenshot(f"photos-return-desktop-{slug}", staff)
    # The shopper's browser, even now, cannot open the staff address.
    gone = shopper.request.get(live_server.url(photos.first.get_attribute("src")), max_redirects=0)
    assert gone.status in (302, 401)
    with e2e_app.app_context():
        assert len(db.session.scalars(select(ReturnPhoto)).all()) == 2
        db.session.remove()
