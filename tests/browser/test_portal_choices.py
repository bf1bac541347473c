"""A shopper's choices on the items page survive every re-render — "Change my choices", an error
elsewhere on the page, the browser's Back button — with JavaScript on and off, on a phone; the
error summary names and links each field in error and takes the focus."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_journey import find_order, seed
from tests.support.journey import PHONE, all_controls_are_labelled, fresh_page, shoot

JS = [pytest.param(True, id="js"), pytest.param(False, id="no-js")]


@pytest.fixture
def shopper(browser):
    """A phone-sized page in its own browser (own cookies) per call, JavaScript on or off."""
    pages = []

    def open_page(js: bool):
        pages.append(fresh_page(browser, PHONE, js))
        return pages[-1]

    yield open_page
    for page in pages:
        page.context.close()


def choose_item(region, reason: str, option: str | None = None, how_many: str | None = None) -> None:
    """Tick an item for return, with how many, the reason and (when given) the option's label start."""
    region.get_by_label("Return this item").check()
    if how_many:
        region.get_by_label("How many").select_option(how_many)
    region.get_by_label(reason).check()
    if option:
        region.get_by_role("radio", name=re.compile("^" + option)).check()


def choose_exchange(page, shoe, size_label, js: bool) -> None:
    """Exchange, then a size: htmx loads the picker in place; without JavaScript the shopper asks for it."""
    shoe.get_by_role("radio", name=re.compile("^Exchange")).check()
    if not js:
        shoe.get_by_role("button", name="Show sizes and colours").click()
    shoe.get_by_role("group", name="Exchange for").get_by_role("radio", name=size_label).check()


def expect_shoe_choices(shoe, size_label) -> None:
    """The shoe's reason, note, option and size are all still chosen."""
    expect(shoe.get_by_label("Return this item")).to_be_checked()
    expect(shoe.get_by_label("Too small")).to_be_checked()
    expect(shoe.get_by_label("Anything the shop should know?")).to_have_value("Runs half a size small.")
    expect(shoe.get_by_role("radio", name=re.compile("^Exchange"))).to_be_checked()
    expect(shoe.get_by_role("group", name="Exchange for")).to_be_visible()
    expect(shoe.get_by_role("radio", name=size_label)).to_be_checked()


def open_order(e2e_app, sandbox, live_server, shopper, js, slug):
    """The seeded shop's order #1042 found in a new browser: (facts, page)."""
    facts = seed(e2e_app, sandbox, slug)
    page = shopper(js)
    find_order(page, live_server, facts["slug"])
    return facts, page


def start(e2e_app, sandbox, live_server, shopper, js, slug):
    """The shoe chosen for an exchange (reason, note, size): (page, shoe region, size label)."""
    facts, page = open_order(e2e_app, sandbox, live_server, shopper, js, slug)
    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    shoe.get_by_label("Return this item").check()
    shoe.get_by_label("Too small").check()
    shoe.get_by_label("Anything the shop should know?").fill("Runs half a size small.")
    wanted = facts["wanted"]
    size = re.compile("^Size: " + re.escape(wanted.options[0]) + ", .*" + re.escape(wanted.options[-1]) + "$")
    choose_exchange(page, shoe, size, js)
    return page, shoe, size


@pytest.mark.parametrize("js", JS)
def test_change_my_choices_keeps_the_exchange(e2e_app, live_server, sandbox, shopper, screenshot, js):
    page, shoe, size = start(e2e_app, sandbox, live_server, shopper, js, f"change-{js}")
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_text(re.compile("^Exchange for Size: "))).to_be_visible()
    page.get_by_role("button", name="Change my choices").click()
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()
    expect_shoe_choices(shoe, size)
    shoot(screenshot, page, f"portal-choices-kept-{'js' if js else 'no-js'}")
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_text(re.compile("^Exchange for Size: "))).to_be_visible()


@pytest.mark.parametrize("js", JS)
def test_an_error_elsewhere_keeps_the_exchange_and_is_summarised(e2e_app, live_server, sandbox, shopper,
                                                                screenshot, js):
    page, shoe, size = start(e2e_app, sandbox, live_server, shopper, js, f"error-{js}")
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    page.get_by_role("button", name="Review my return").click()

    summary = page.get_by_role("alert").filter(has_text="need your attention")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_text(["Wool Socks: Choose a reason.", "Wool Socks: Choose what you would like back."])
    expect_shoe_choices(shoe, size)
    all_controls_are_labelled(page)
    shoot(screenshot, page, f"portal-error-summary-{'js' if js else 'no-js'}")
    # Each link leads to its field, which says what is wrong next to it.
    links.first.click()
    assert page.url.endswith("#" + socks.get_by_label("Faulty").get_attribute("id"))
    expect(socks.get_by_text("Choose a reason.")).to_be_visible()
    if js:
        expect(socks.get_by_label("Faulty")).to_be_focused()

    socks.get_by_label("Faulty").check()
    socks.get_by_role("radio", name=re.compile("^Refund")).check()
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.get_by_text(re.compile("^Exchange for Size: "))).to_be_visible()
    # Back lands on the page that had the errors: the choices are the latest ones.
    page.go_back()
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()
    expect_shoe_choices(shoe, size)
    expect(socks.get_by_label("Faulty")).to_be_checked()


@pytest.mark.parametrize("js", JS)
def test_an_exchange_without_a_size_is_pointed_at(e2e_app, live_server, sandbox, shopper, screenshot, js):
    facts, page = open_order(e2e_app, sandbox, live_server, shopper, js, f"nosize-{js}")
    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    choose_item(shoe, "Faulty", "Exchange")
    if not js:
        expect(shoe.get_by_role("button", name="Show sizes and colours")).to_be_visible()
        all_controls_are_labelled(page)
        shoot(screenshot, page, "portal-exchange-chosen-no-js")
    page.get_by_role("button", name="Review my return").click()
    summary = page.get_by_role("alert").filter(has_text="need your attention")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        [f"{facts['product']}: Choose the size or colour you want instead."])
    expect(shoe.get_by_role("radio", name=re.compile("^Exchange"))).to_be_checked()
    picker = shoe.get_by_role("group", name="Exchange for")
    expect(picker).to_be_visible()
    expect(picker.get_by_text("Choose the size or colour you want instead.")).to_be_visible()


@pytest.mark.parametrize("js", JS)
def test_back_from_the_review_keeps_the_choices(e2e_app, live_server, sandbox, shopper, js):
    page, shoe, size = start(e2e_app, sandbox, live_server, shopper, js, f"back-{js}")
    page.get_by_role("button", name="Review my return").click()
    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Choose what to return")).to_be_visible()
    expect_shoe_choices(shoe, size)


def test_switching_away_from_the_exchange_and_back_keeps_the_size(e2e_app, live_server, sandbox, shopper):
    page, shoe, size = start(e2e_app, sandbox, live_server, shopper, True, "switch")
    shoe.get_by_role("radio", name=re.compile("^Refund")).check()
    expect(shoe.get_by_role("group", name="Exchange for")).to_be_hidden()
    shoe.locator("fieldset.picker").evaluate("picker => picker.classList.add('before')")
    shoe.get_by_role("radio", name=re.compile("^Exchange")).check()
    expect(shoe.locator("fieldset.picker.before")).to_have_count(0)   # the picker was loaded afresh
    expect(shoe.get_by_role("radio", name=size)).to_be_checked()
