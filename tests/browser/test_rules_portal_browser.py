"""A shopper in rules mode is told what the shop's rules can really give (never an exchange they
cannot give), and the confirmation says for each item exactly what the status page says; with and
without JavaScript, on a phone and a desktop."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Account, OutboxEmail
from app.services import rules as service
from tests.browser.test_portal_journey import VIEWPORTS, find_order, seed
from tests.support.e2e import served_jobs
from tests.support.journey import reload_until
from tests.support.rules import BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION, FAULTY_REFUND

PROMISE = ("As soon as you submit, Acme Outdoor's returns policy decides whether each item gets a refund or a credit "
           "note; items it does not cover are decided by Acme Outdoor's staff. Your return's page shows what each "
           "item gets.")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("js", [pytest.param(True, id="js"), pytest.param(False, id="nojs")])
def test_rules_mode_promises_what_the_rules_give_and_confirmation_agrees_with_status(
        e2e_app, live_server, sandbox, browser, screenshot, monkeypatch, viewport, js):
    with served_jobs(e2e_app, monkeypatch):
        walk(e2e_app, live_server, sandbox, browser, screenshot, viewport, js)


def walk(e2e_app, live_server, sandbox, browser, screenshot, viewport, js):
    name = f"{'phone' if viewport['width'] < 500 else 'desktop'}-{'js' if js else 'nojs'}"
    facts = seed(e2e_app, sandbox, f"rules-promise-{name}", "rules")
    with e2e_app.app_context():
        account_id = db.session.scalar(select(Account.id).where(Account.slug == facts["slug"]))
        for raw in (FAULTY_REFUND, BIG_DISCOUNT_CREDIT, CANADA_NO_ACTION):
            service.create_rule(account_id, raw)
        db.session.remove()
    context = browser.new_context(viewport=viewport, java_script_enabled=js)
    page = context.new_page()
    find_order(page, live_server, facts["slug"])
    note = page.locator("#rules-note")
    expect(note).to_have_text(PROMISE)
    expect(note).not_to_contain_text("exchange")
    screenshot(f"portal-items-rules-promise-{name}", target=page)

    shoe = page.get_by_role("region", name=re.compile(facts["product"]))
    shoe.get_by_label("Return this item").check()
    shoe.get_by_label("Faulty").check()
    socks = page.get_by_role("region", name=re.compile("Wool Socks"))
    socks.get_by_label("Return this item").check()
    socks.get_by_label("Changed my mind").check()
    page.get_by_role("button", name="Review my return").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_role("heading", name="Your return is registered")).to_be_visible()

    # The rules decided at once: the confirmation names each item's outcome, no "decides later".
    confirmation = page.locator(".item-choice")
    # The rules run in a job just after the answer (on a worker in the production shape): a
    # reload shows what they decided, as a person refreshing would see.
    reload_until(page, lambda p: p.locator(".item-choice", has_text="Refund"))
    confirmed = [t.strip() for t in confirmation.all_inner_texts()]
    assert confirmed == ["Refund", "Acme Outdoor's staff will decide"]
    expect(page.get_by_text("When the shop has your parcel, it decides")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("exchange")
    screenshot(f"portal-confirmation-rules-{name}", target=page)

    page.get_by_role("link", name="See your return's status").click()
    expect(page.get_by_role("heading", name=re.compile("^Return R-"))).to_be_visible()
    assert [t.strip() for t in page.locator(".item-choice").all_inner_texts()] == confirmed
    screenshot(f"portal-status-rules-{name}", target=page)

    with e2e_app.app_context():
        email = db.session.scalar(select(OutboxEmail.text_body).where(OutboxEmail.account_id == account_id))
        db.session.remove()
    assert PROMISE in " ".join(email.split())
    assert "exchange" not in email
    context.close()
