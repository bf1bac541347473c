"""A shopper who comes back: looking the order up again leads to the return already made (and
to what can still be returned), in words that match the truth; a status link that no longer
works gives the shop's own page with a way back to the lookup. JavaScript on and off, phone."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_choices import JS, choose_item, open_order, shopper  # noqa: F401  (the fixture)
from tests.browser.test_portal_journey import find_order, seed
from tests.support.journey import all_controls_are_labelled, shoot


def return_socks(page, live_server, slug, how_many="2", keep_choices=False) -> str:
    """Return the socks for a refund (with whatever else is chosen when `keep_choices`); the RMA."""
    if not keep_choices:
        find_order(page, live_server, slug)
    choose_item(page.get_by_role("region", name=re.compile("Wool Socks")), "Faulty", "Refund", how_many)
    page.get_by_role("button", name="Review my return").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()
    return page.locator(".rma").inner_text()


@pytest.mark.parametrize("js", JS)
def test_looking_the_order_up_again_leads_to_the_return(e2e_app, live_server, sandbox, shopper, screenshot, js):
    facts = seed(e2e_app, sandbox, f"again-{js}")
    rma = return_socks(shopper(js), live_server, facts["slug"])

    # Later, on another device: the lookup shows the return and what can still be sent back.
    page = shopper(js)
    find_order(page, live_server, facts["slug"])
    existing = page.get_by_role("region", name="Your returns for this order")
    expect(existing).to_contain_text(rma)
    expect(existing).to_contain_text("Open")
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    expect(socks).to_contain_text(f"This item is in your return {rma}.")
    expect(page.get_by_text("already been returned or refunded")).to_have_count(0)
    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    expect(shoe.get_by_label("Return this item")).to_be_visible()   # still returnable
    all_controls_are_labelled(page)
    shoot(screenshot, page, f"portal-lookup-existing-return-{'js' if js else 'no-js'}")

    existing.get_by_role("link", name=re.compile(f"See return {rma}")).click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.get_by_text("Wool Socks")).to_be_visible()


@pytest.mark.parametrize("js", JS)
def test_nothing_left_to_return_goes_straight_to_the_return(e2e_app, live_server, sandbox, shopper, screenshot, js):
    facts, page = open_order(e2e_app, sandbox, live_server, shopper, js, f"done-{js}")
    choose_item(page.get_by_role("region", name=re.compile(facts["product"])), "Faulty", "Refund", "2")
    rma = return_socks(page, live_server, facts["slug"], keep_choices=True)

    page = shopper(js)
    find_order(page, live_server, facts["slug"])
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.get_by_text("Everything you can return from order #1042 is in this return.")).to_be_visible()
    shoot(screenshot, page, f"portal-lookup-all-returned-{'js' if js else 'no-js'}")
    # The order's page is still one link away.
    page.get_by_role("link", name="See order #1042").click()
    expect(page.get_by_role("region", name="Your returns for this order")).to_contain_text(rma)


@pytest.mark.parametrize("js", JS)
def test_a_status_link_that_no_longer_works_leads_back_to_the_lookup(e2e_app, live_server, sandbox, shopper,
                                                                    screenshot, js):
    facts = seed(e2e_app, sandbox, f"expired-{js}")
    page = shopper(js)
    response = page.goto(live_server.url(f"/r/{facts['slug']}/returns/WzEsIDJd.not-a-valid-signature"))
    assert response.status == 404
    expect(page.get_by_role("heading", name="We could not find this return")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("Acme Outdoor")   # the shop's own look
    shoot(screenshot, page, f"portal-link-expired-{'js' if js else 'no-js'}")
    page.get_by_role("link", name="Find your order").click()
    expect(page.get_by_role("heading", name="Start a return")).to_be_visible()
    find_order(page, live_server, facts["slug"])
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()


@pytest.mark.parametrize("js", JS)
def test_cancelling_asks_first_and_going_back_keeps_the_return(e2e_app, live_server, sandbox, shopper, screenshot, js):
    facts = seed(e2e_app, sandbox, f"cancel-{js}")
    page = shopper(js)
    rma = return_socks(page, live_server, facts["slug"])
    page.get_by_role("link", name="See your return's status").click()
    question = f"Cancel return {rma}? This cannot be undone."
    answers = []
    if js:  # the browser's own dialog asks
        page.on("dialog", lambda dialog: (answers.append(dialog.message), dialog.dismiss() if len(answers) == 1
                                          else dialog.accept()))
    page.get_by_role("button", name="Cancel this return").click()
    if js:
        expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()   # dismissed: nothing sent
    else:  # a page of its own asks, with the way back
        expect(page.get_by_role("heading", name=question)).to_be_focused()
        shoot(screenshot, page, "portal-cancel-asks-no-js")
        page.get_by_role("link", name="Go back").click()
    expect(page.get_by_role("heading", name=f"Return {rma}")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel this return")).to_be_visible()   # changed my mind: still open

    page.get_by_role("button", name="Cancel this return").click()
    if not js:
        page.get_by_role("button", name="Cancel this return").click()   # the asking page's button
    expect(page.get_by_text(f"Return {rma} is cancelled.")).to_be_visible()
    if js:
        assert answers == [question, question]
