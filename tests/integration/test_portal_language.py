"""The portal in the shopper's language: chosen on the page, else the browser's, else the shop's;
remembered for the visit; kept on the return for its emails; money and dates the language's way;
the dashboard stays English; the shop's own wording of any message, per language, refused when
it would lose a placeholder or cannot be stored."""
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, PortalText, Return
from app.services import portal_texts
from tests.factories import make_user
from tests.fixtures.auth import log_in, look_up_order
from tests.support.hostile import form_body
from tests.support.settings import post_settings
from tests.support.portal import make_line, make_portal_order

FORM = "application/x-www-form-urlencoded"
pytestmark = pytest.mark.account(name="Acme Outdoor", return_reasons=["Faulty", "Too small"], exchange_enabled=False)


@pytest.fixture
def order(account):
    made = make_portal_order(account, [make_line(title="Trail Jacket", discounted_unit_price=Decimal("12.30"))],
                             name="#4242", email="pat@example.com", currency="EUR")
    db.session.commit()
    return made


def heading(response) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1).strip()


def test_the_browser_language_is_used_when_the_portal_has_it(client, account):
    page = client.get(f"/r/{account.slug}", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert heading(page) == "Commencer un retour"
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_a_browser_language_the_portal_lacks_falls_back_to_the_shops(client, account):
    account.locale = "es"
    db.session.commit()
    assert heading(client.get(f"/r/{account.slug}", headers={"Accept-Language": "ja, ko;q=0.8"})) == \
        "Iniciar una devolución"
    account.locale = "en"
    db.session.commit()
    assert heading(client.get(f"/r/{account.slug}", headers={"Accept-Language": "ja"})) == "Start a return"


def test_the_language_picked_on_the_page_wins_and_is_remembered(client, account):
    french = {"Accept-Language": "fr"}
    page = client.get(f"/r/{account.slug}?lang=de", headers=french)
    assert heading(page) == "Rücksendung starten"
    # The switcher offers every language by its own name; the current one is not a link.
    body = page.get_data(as_text=True)
    assert '<strong lang="de" aria-current="true">Deutsch</strong>' in body
    assert f'href="/r/{account.slug}?lang=fr"' in body and ">Français</a>" in body
    assert heading(client.get(f"/r/{account.slug}", headers=french)) == "Rücksendung starten"


@pytest.mark.parametrize("value", ["\x00", "../", "../../etc/passwd", "x" * 5000, "zz", "EN", "de\x00", "²"])
def test_a_hostile_language_is_ignored_never_an_error(client, account, value):
    page = client.get(f"/r/{account.slug}", query_string={"lang": value}, headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert heading(page) == "Iniciar una devolución"


def test_a_lone_surrogate_in_the_language_is_ignored(client, account):
    page = client.get(f"/r/{account.slug}?lang=%ED%A0%80", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and heading(page) == "Commencer un retour"


def test_a_german_return_shows_german_money_keeps_its_language_and_its_email_is_german(client, account, order):
    client.get(f"/r/{account.slug}?lang=de")
    assert look_up_order(client, account, "#4242").status_code == 303
    items = client.get(f"/r/{account.slug}/items").get_data(as_text=True).replace("\xa0", " ")
    assert "Wählen Sie, was Sie zurücksenden" in items and "12,30 €" in items
    line = order.lines[0]
    choice = {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": "Faulty",
              f"line-{line.id}-option": "refund"}
    review = client.post(f"/r/{account.slug}/items", data=choice).get_data(as_text=True).replace("\xa0", " ")
    assert "Prüfen Sie Ihre Rücksendung" in review and "12,30 €" in review and "Defekt" in review
    # The stored reason is the shop's own value, whatever language it was shown in.
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', review))
    fields.pop("action", None)
    done = client.post(f"/r/{account.slug}/submit", data=fields)
    assert done.status_code == 303
    ret = db.session.scalar(select(Return).where(Return.account_id == account.id))
    assert ret.locale == "de" and ret.items[0].reason == "Faulty"
    assert "Ihre Rücksendung ist registriert" in client.get(done.headers["Location"]).get_data(as_text=True)
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.return_id == ret.id))
    assert email.subject == f"Ihre Rücksendung {ret.rma_number} zur Bestellung #4242"
    assert email.text_body.startswith("Guten Tag") and "ist registriert" in email.text_body
    assert 'lang="de"' in email.html_body


def test_changing_the_language_keeps_the_items_chosen(client, account, order):
    look_up_order(client, account, "#4242")
    line = order.lines[0]
    client.post(f"/r/{account.slug}/items", data={
        f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": "Too small",
        f"line-{line.id}-option": "refund", f"line-{line.id}-note": "Zu eng"})
    page = client.get(f"/r/{account.slug}/items?lang=es").get_data(as_text=True)
    assert "Elija qué devolver" in page
    assert re.search(rf'id="line-{line.id}-return"[^>]*checked', page)
    assert re.search(r'value="Too small"\s+checked', page) and "Zu eng" in page


def test_the_dashboard_stays_english(client, account):
    log_in(client, make_user(account, role="admin"))
    page = client.get("/dashboard/settings", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and '<html lang="en">' in page.get_data(as_text=True)


def test_the_shop_language_is_a_setting(client, account):
    log_in(client, make_user(account, role="admin"))
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert 'name="locale"' in page and ">Deutsch</option>" in page


# --- the shop's own wording ------------------------------------------------------------------------

def overrides_page(client, language="de", **query):
    return client.get("/dashboard/settings/portal-text", query_string={"language": language, **query})


def index_of(msgid: str) -> int:
    return portal_texts.messages().index(msgid)


def test_an_override_replaces_the_shipped_translation_and_is_shown_as_text(client, account):
    log_in(client, make_user(account, role="admin"))
    name = f"text-{index_of('Start a return')}"
    saved = client.post("/dashboard/settings/portal-text?language=de",
                        data={"language": "de", name: "Jetzt <b>zurückgeben</b>"})
    assert saved.status_code == 303
    page = client.get(f"/r/{account.slug}?lang=de").get_data(as_text=True)
    assert "Jetzt &lt;b&gt;zurückgeben&lt;/b&gt;" in page and "<b>zurückgeben" not in page
    # Other languages keep theirs; emptying the box goes back to the shipped text.
    assert heading(client.get(f"/r/{account.slug}?lang=fr")) == "Commencer un retour"
    client.post("/dashboard/settings/portal-text?language=de", data={"language": "de", name: ""})
    assert db.session.scalar(select(PortalText).where(PortalText.account_id == account.id)) is None


def test_an_override_keeps_the_placeholders(client, account):
    log_in(client, make_user(account, role="admin"))
    msgid = "Returns for %(shop)s"
    dropped = client.post("/dashboard/settings/portal-text?language=fr&find=Returns for",
                          data={"language": "fr", f"text-{index_of(msgid)}": "Retours de la boutique"})
    assert dropped.status_code == 422
    assert "keep %(shop)s" in dropped.get_data(as_text=True)
    assert "Retours de la boutique" in dropped.get_data(as_text=True)  # what was typed is kept
    added = client.post("/dashboard/settings/portal-text?language=fr",
                        data={"language": "fr", f"text-{index_of(msgid)}": "Retours %(shop)s {order}"})
    assert added.status_code == 422 and "remove {order}" in added.get_data(as_text=True)
    assert db.session.scalar(select(PortalText)) is None
    kept = client.post("/dashboard/settings/portal-text?language=fr",
                       data={"language": "fr", f"text-{index_of(msgid)}": "Les retours de %(shop)s"})
    assert kept.status_code == 303
    assert "Les retours de Acme Outdoor" in client.get(f"/r/{account.slug}?lang=fr").get_data(as_text=True)


@pytest.mark.parametrize("text, said", [("Bonjour\x00", "cannot be stored"), ("Bonjour \ufffd", "cannot be stored"),
                                        ("x" * 2001, "under 2000 characters")])
def test_an_unstorable_or_overlong_override_is_refused(client, account, text, said):
    log_in(client, make_user(account, role="admin"))
    refused = client.post("/dashboard/settings/portal-text?language=fr", content_type=FORM,
                          data=form_body({"language": "fr", f"text-{index_of('Start a return')}": text}))
    assert refused.status_code == 422 and said in refused.get_data(as_text=True)
    assert db.session.scalar(select(PortalText)) is None


def test_a_lone_surrogate_is_refused_by_the_service():
    # A form cannot carry one (bytes that are not UTF-8 arrive as U+FFFD or escapes); JSON or a
    # command could, and the service refuses it all the same.
    with pytest.raises(portal_texts.TextRefused, match="cannot be stored"):
        portal_texts.check_override("Start a return", "Bonjour \ud800")


def test_one_refused_override_writes_none(client, account):
    log_in(client, make_user(account, role="admin"))
    refused = client.post("/dashboard/settings/portal-text?language=es", data={
        "language": "es", f"text-{index_of('Start a return')}": "Empezar",
        f"text-{index_of('Returns for %(shop)s')}": "Devoluciones"})
    assert refused.status_code == 422
    assert db.session.scalar(select(PortalText)) is None


def test_the_override_page_searches_and_ignores_an_unknown_language(client, account):
    log_in(client, make_user(account, role="admin"))
    page = overrides_page(client, language="../xx", find="tracking number")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Français" in body and "Add tracking number" in body and "Start a return" not in body
    assert overrides_page(client, find="a\x00b").status_code == 400


def test_the_search_finds_a_text_by_the_words_shoppers_read_in_that_language(client, account):
    log_in(client, make_user(account, role="admin"))
    body = overrides_page(client, language="fr", find="NUMÉRO DE SUIVI").get_data(as_text=True)
    assert "Add tracking number" in body and "Start a return" not in body
    client.post("/dashboard/settings/portal-text?language=fr&find=Start a return", data={
        "language": "fr", f"text-{index_of('Start a return')}": "Renvoyer un article"})
    body = overrides_page(client, language="fr", find="renvoyer un").get_data(as_text=True)
    assert "Start a return" in body and "Add tracking number" not in body
    # Another language's words find nothing here.
    assert "0 texts in Français" in overrides_page(client, language="fr", find="Sendungsnummer").get_data(as_text=True)


def test_only_the_languages_the_shop_offers_are_matched_and_offered(client, account):
    account.locale, account.languages = "de", ["en"]
    db.session.commit()
    page = client.get(f"/r/{account.slug}", headers={"Accept-Language": "fr, en;q=0.5"})
    assert heading(page) == "Start a return"  # French is not offered: the browser's next choice
    body = page.get_data(as_text=True)
    assert ">Deutsch</a>" in body and "Français" not in body and "Español" not in body
    # A language the shop does not offer, asked for by the link, is ignored like any unknown one.
    assert heading(client.get(f"/r/{account.slug}?lang=es", headers={"Accept-Language": "fr"})) == \
        "Rücksendung starten"


def test_the_languages_offered_are_a_setting_and_always_include_the_shops(client, account):
    log_in(client, make_user(account, role="admin"))
    assert post_settings(client, {"locale": "es", "languages": ["fr"]}).status_code == 303
    db.session.refresh(account)
    assert account.locale == "es" and account.languages == ["fr", "es"]
    assert post_settings(client, {"languages": ["en", "fr", "de", "es"]}).status_code == 303
    db.session.refresh(account)
    assert account.languages is None  # all of them: a language added later is offered too
    refused = post_settings(client, {"languages": ["fr", "../xx"]})
    assert refused.status_code == 422 and "Choose among the listed languages." in refused.get_data(as_text=True)
