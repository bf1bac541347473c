"""Staff decide an exchange by hand in Chromium: "Exchange…" loads the product's other in-stock
variants from Shopify (the sandbox) under the item, one is chosen, and the item is decided."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import ReturnItem
from tests.factories import make_account, make_return, make_user
from tests.support.e2e import rq_thread_worker
from tests.support.journey import DESKTOP, PHONE, all_controls_are_labelled, log_in, new_page, sandbox_order
from tests.support.portal import connect_to_sandbox, exchangeable_product


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_exchange_by_hand_from_the_return_page(e2e_app, live_server, sandbox, browser, screenshot, monkeypatch,
                                               viewport):
    size = "phone" if viewport is PHONE else "desktop"
    monkeypatch.setitem(e2e_app.config, "SHOPIFY_CLOCK", sandbox.clock)
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=f"exchange-{size}", return_action="manual")
        connect_to_sandbox(account, sandbox)
        make_user(account, role="staff", email=f"staff-exchange-{size}@example.com")
        product = exchangeable_product(sandbox, account.shop_domain)
        order = sandbox_order(account, sandbox, [product.bought.id], "pat@example.com")
        ret = make_return(account, order, reasons=("Too small",), option_source="customer")
        item = ret.items[0]
        item.product_id, item.variant_id, item.resolution = product.id, product.bought.id, "NO_ACTION"
        db.session.commit()
        return_id, item_id, title = ret.id, item.id, item.title
        wanted = product.in_stock[0]
        db.session.remove()
    with rq_thread_worker(e2e_app, monkeypatch):
        page = new_page(browser, viewport)
        log_in(page, live_server, f"staff-exchange-{size}@example.com")
        page.goto(live_server.url(f"/dashboard/returns/{return_id}"))
        page.get_by_role("link", name=f"Exchange {title} for another variant").click()
        picker = page.get_by_role("combobox", name=f"Exchange {title} for")
        expect(picker).to_be_visible()
        offered = picker.locator("option").evaluate_all("options => options.map(o => Number(o.value))")
        assert set(offered) == {v.id for v in product.in_stock}
        all_controls_are_labelled(page)
        screenshot(f"staff-exchange-picker-{size}", target=page)
        picker.select_option(str(wanted.id))
        page.get_by_role("button", name="Decide exchange").click()
        expect(page.locator(".flash-success", has_text=f"{title}: Exchange for")).to_be_visible()
        screenshot(f"staff-exchange-decided-{size}", target=page)
    with e2e_app.app_context():
        decided = db.session.get(ReturnItem, item_id)
        assert (decided.option, decided.resolution, decided.exchange_variant_id) == ("exchange", "DECIDED", wanted.id)
