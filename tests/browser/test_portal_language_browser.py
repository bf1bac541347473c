"""The portal in the shopper's language, in Chromium: a French browser sees French, switches to
German on the lookup page and goes through items → review → submit in German (German money),
changing language half-way without losing a choice; the confirmation email is German. On a phone
and a desktop, with JavaScript on and off."""
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, Return
from tests.factories import make_account, make_user
from tests.support.journey import SHAPES, fresh_page, log_in, shape_name
from tests.support.portal import make_line, make_portal_order

VIEWPORTS = [pytest.param({"width": 390, "height": 844}, id="phone"),
             pytest.param({"width": 1280, "height": 900}, id="desktop")]
SHOTS = Path(os.environ.get("SHOTS_DIR", "test-artifacts/screenshots/language"))


def seed(e2e_app, slug) -> None:
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=slug, return_reasons=["Faulty", "Too small"],
                               exchange_enabled=False, primary_color="#0f766e")
        make_portal_order(account, [
            make_line(title="Trail Jacket", variant_title="M / Red", discounted_unit_price=Decimal("12.30")),
            make_line(title="Wool Socks", variant_title="One size", discounted_unit_price=Decimal("9.60"))],
            name="#1042", email="pat@example.com", currency="EUR")
        db.session.commit()
        db.session.remove()


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_french_shopper_switches_to_german_and_returns_in_german(e2e_app, live_server, browser, viewport, js):
    name = f"{'phone' if viewport['width'] < 500 else 'desktop'}-{'js' if js else 'nojs'}"
    slug = f"language-{name}"
    seed(e2e_app, slug)
    context = browser.new_context(viewport=viewport, java_script_enabled=js, locale="fr-FR",
                                  extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    page = context.new_page()
    page.goto(live_server.url(f"/r/{slug}"))
    expect(page.get_by_role("heading", name="Commencer un retour")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, f"{name}-1-lookup-fr")

    # A mistake first, in French; then German from the switcher, the order looked up in German.
    page.get_by_label("Numéro de commande").fill("9999")
    page.get_by_label("Adresse e-mail").fill("pat@example.com")
    page.get_by_role("button", name="Trouver ma commande").click()
    expect(page.get_by_text("Nous n'avons pas trouvé cette commande.")).to_be_visible()
    page.get_by_role("navigation", name="Langue").get_by_role("link", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Rücksendung starten")).to_be_visible()
    shot(page, f"{name}-2-lookup-de")
    page.get_by_label("Bestellnummer").fill("1042")
    page.get_by_label("E-Mail-Adresse").fill("pat@example.com")
    page.get_by_role("button", name="Meine Bestellung finden").click()

    expect(page.get_by_role("heading", name="Wählen Sie, was Sie zurücksenden")).to_be_visible()
    jacket = page.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.get_by_text("12,30 € pro Artikel bezahlt")).to_be_visible()
    jacket.get_by_label("Diesen Artikel zurücksenden").check()
    expect(jacket.get_by_text("12,30 € pro Artikel, zurück auf Ihre ursprüngliche Zahlungsart")).to_be_visible()
    jacket.get_by_label("Zu klein").check()
    jacket.get_by_label("Erstattung").check()
    jacket.get_by_label("Gibt es etwas, das der Shop wissen sollte?").fill("Etwas eng")
    page.get_by_role("button", name="Meine Rücksendung prüfen").first.click()
    expect(page.get_by_role("heading", name="Prüfen Sie Ihre Rücksendung")).to_be_visible()
    expect(page.locator(".estimate")).to_have_text("12,30 €")
    shot(page, f"{name}-3-review-de")

    # Changing one's mind about the language on the review: the choices are all still there.
    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", name="Elija qué devolver")).to_be_visible()
    jacket = page.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.get_by_label("Devolver este artículo")).to_be_checked()
    expect(jacket.get_by_label("Demasiado pequeño")).to_be_checked()
    expect(jacket.get_by_label("Reembolso")).to_be_checked()
    expect(jacket.get_by_label("¿Hay algo que la tienda deba saber?")).to_have_value("Etwas eng")
    shot(page, f"{name}-4-items-es-kept")
    page.get_by_role("navigation", name="Idioma").get_by_role("link", name="Deutsch").click()
    jacket = page.get_by_role("region", name=re.compile("Trail Jacket"))
    expect(jacket.get_by_label("Diesen Artikel zurücksenden")).to_be_checked()
    page.get_by_role("button", name="Meine Rücksendung prüfen").first.click()
    page.get_by_role("button", name="Rücksendung absenden").click()

    expect(page.get_by_role("heading", name="Ihre Rücksendung ist registriert")).to_be_visible()
    shot(page, f"{name}-5-confirmation-de")
    with e2e_app.app_context():
        ret = db.session.scalar(select(Return).where(Return.order_name == "#1042", Return.rma_number != "")
                                .order_by(Return.id.desc()))
        assert ret.locale == "de" and ret.items[0].reason == "Too small"
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.return_id == ret.id))
        assert email.subject.startswith("Ihre Rücksendung ")
        assert email.text_body.startswith("Guten Tag") and "Erstattung" in email.text_body
        db.session.remove()
    page.get_by_role("link", name="Status Ihrer Rücksendung ansehen").click()
    expect(page.get_by_role("heading", name=re.compile("^Rücksendung "))).to_be_visible()
    expect(page.get_by_text("geschätzt 12,30 €")).to_be_visible()
    shot(page, f"{name}-6-status-de")
    context.close()


@pytest.mark.parametrize("viewport, js", SHAPES)
def test_the_retailer_rewords_a_portal_text_in_german(e2e_app, live_server, browser, viewport, js):
    """Settings → Portal text: a placeholder dropped is refused with the reason and the text kept;
    corrected, it is saved and the German portal shows it, as text."""
    name = f"texts-{shape_name(viewport, js)}"
    with e2e_app.app_context():
        account = make_account(name="Acme Outdoor", slug=name)
        make_user(account, role="admin", email=f"boss-{name}@example.com")
        db.session.commit()
        db.session.remove()
    page = fresh_page(browser, viewport, js)
    log_in(page, live_server, f"boss-{name}@example.com")
    page.goto(live_server.url("/dashboard/settings"))
    page.get_by_role("link", name="Portal text").click()
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    # Found by the words the shopper reads in German (the English source would find it too).
    page.get_by_label("Find a text (in English or Deutsch)").fill("rücksendungen FÜR %(shop)s")
    page.get_by_role("button", name="Find").click()
    box = page.get_by_label("Returns for %(shop)s")
    expect(box).to_have_value("")
    expect(page.get_by_text("Boomerang's text: Rücksendungen für %(shop)s")).to_be_visible()
    box.fill("Rücksendungen <i>bei</i> uns")
    page.get_by_role("button", name="Save portal text").click()
    expect(page.get_by_role("alert")).to_contain_text("keep %(shop)s")
    expect(page.get_by_label("Returns for %(shop)s")).to_have_value("Rücksendungen <i>bei</i> uns")
    shot(page, f"{name}-1-refused")
    page.get_by_label("Returns for %(shop)s").fill("Rücksendungen <i>bei</i> %(shop)s")
    page.get_by_role("button", name="Save portal text").click()
    expect(page.get_by_text("Portal text saved for Deutsch.")).to_be_visible()
    shot(page, f"{name}-2-saved")
    page.goto(live_server.url(f"/r/{name}?lang=de"))
    expect(page.locator("footer")).to_have_text("Rücksendungen <i>bei</i> Acme Outdoor")
    page.context.close()
