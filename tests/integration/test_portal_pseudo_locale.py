"""Nothing a shopper reads is left in English: every portal page and every email, rendered in a
pseudo-locale whose every message is transformed, shows no English word of its own.

The pseudo-locale is built here from the message template (app/translations/messages.pot, which
extraction fills from every template under portal/ and portal/email/ by pattern): each message is
accented letter by letter and wrapped in ⟦…⟧, placeholders kept. It is served as Greek ("el"), a
language Boomerang does not ship whose CLDR dates and numbers have no Latin letters, so a Latin word
left on the page is a message that was never marked for translation. The shop's own data (its name,
product titles, reasons it wrote, the shopper's name, order and return numbers, links) is Greek or
recognisable and taken out before looking.
"""
import re
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.extensions import db
from app.i18n import PLACEHOLDER, babel
from app.models import Return
from app.portal import session as portal_session
from app.services.mail import render_email
from tests.fixtures.auth import look_up_order
from tests.support.portal import make_line, make_portal_order

PSEUDO = "el"
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "app" / "translations" / "messages.pot"
EMAILS = ROOT / "app" / "templates" / "portal" / "email"
ACCENTED = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         "áƀçđéƒĝĥíĵķĺɱñóþʠŕšŧúṽŵẋýžÁƁÇĐÉƑĜĤÍĴĶĹṀÑÓÞɊŔŠŦÚṼŴẊÝŽ")
# The shop's and shopper's data: Greek, so it cannot pass for an untranslated message.
SHOP, CUSTOMER, REASON = "Κατάστημα Δέλτα", "Ζωή Παππά", "Λάθος χρώμα"
TITLE, OTHER_TITLE, VARIANT = "Χιτώνας λινός", "Κασκόλ μάλλινο", "Μέγεθος Μ"
pytestmark = pytest.mark.account(name=SHOP, return_reasons=[REASON, "Faulty", "Too small"], credit_bonus="10%",
                                 restocking_fees={"Too small": "10"}, return_shipping_fee=Decimal("4.95"),
                                 photo_modes={"Faulty": "required", REASON: "optional"},
                                 return_instructions="Συσκευάστε προσεκτικά.", exchange_enabled=False)


def pseudo(text: str) -> str:
    """⟦áççéñŧéđ⟧ text with its placeholders (and a literal %%) as they were."""
    parts, last = [], 0
    for match in re.finditer(PLACEHOLDER.pattern + r"|%%", text):
        parts.append(text[last:match.start()].translate(ACCENTED))
        parts.append(match.group(0))
        last = match.end()
    parts.append(text[last:].translate(ACCENTED))
    return "⟦" + "".join(parts) + "⟧"


@pytest.fixture
def pseudo_locale(app, tmp_path):
    """The pseudo-locale as one more portal language, for this test only."""
    with TEMPLATE.open("rb") as handle:
        source = read_po(handle)
    catalog = Catalog(locale=PSEUDO)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = (pseudo(message.id[0]),) + (pseudo(message.id[1]),) * (catalog.num_plurals - 1)
            catalog.add(message.id, forms)
        else:
            catalog.add(message.id, pseudo(message.id))
    folder = tmp_path / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    languages, directories = app.config["PORTAL_LANGUAGES"], app.extensions["babel"].translation_directories
    app.config["PORTAL_LANGUAGES"] = (*languages, PSEUDO)
    app.extensions["babel"].translation_directories = [*directories, str(tmp_path)]
    babel.domain_instance.cache.clear()
    yield
    app.config["PORTAL_LANGUAGES"] = languages
    app.extensions["babel"].translation_directories = directories
    babel.domain_instance.cache.clear()


class VisibleText(HTMLParser):
    """What a person reads or hears: text nodes (not scripts or styles), and the attributes shown
    or spoken (alt, title, placeholder, aria-label, an input button's value, a confirmation's
    question, a table cell's label on a phone).
    An element in another language (lang="de": the language switcher's names) is left out."""

    SHOWN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "data-confirm", "data-label")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, page_lang: str):
        super().__init__()
        self.page_lang, self.stack, self.parts = page_lang, [], []

    def _hidden(self) -> bool:
        return any(tag in ("script", "style") or (lang and lang != self.page_lang) for tag, lang in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang") if tag != "html" else None
        if tag not in self.VOID:
            self.stack.append((tag, lang))
        if self._hidden() or (lang and lang != self.page_lang):
            return
        self.parts += [attrs[name] for name in self.SHOWN_ATTRIBUTES if attrs.get(name)]
        # An input button shows its value (a <button> shows its content, not its value).
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self._hidden():
            self.parts.append(data)


def english_words(text: str, data: set[str]) -> list[str]:
    """Latin-letter words left once the shop's data, links, addresses and numbers are taken out."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+|\S+@\S+|\S*\d\S*", " ", text)
    return re.findall(r"[A-Za-z]{2,}", text)


def visible(html: str) -> str:
    parser = VisibleText(PSEUDO)
    parser.feed(html)
    return " ".join(parser.parts)


def assert_all_translated(name: str, html: str, data: set[str]):
    left = english_words(visible(html), data)
    assert left == [], f"{name} shows untranslated words: {sorted(set(left))}"


@pytest.fixture
def shop(account):
    """An order with a returnable line, a second one, and one not shipped yet (a refusal shown)."""
    lines = [make_line(title=TITLE, variant_title=VARIANT, discounted_unit_price=Decimal("12.30")),
             make_line(title=OTHER_TITLE, quantity=2, discounted_unit_price=Decimal("20.00")),
             make_line(title="Καπέλο", fulfilled_quantity=0)]
    order = make_portal_order(account, lines, name="#7001", email="zoe@example.com", customer_name=CUSTOMER)
    db.session.commit()
    return order


def data_of(account, order, *returns) -> set[str]:
    values = {SHOP, CUSTOMER, REASON, TITLE, OTHER_TITLE, VARIANT, "Καπέλο", order.name, account.slug,
              "Συσκευάστε προσεκτικά.", account.shop_domain or SHOP}
    values |= {r.rma_number for r in returns}
    return {v for v in values if v}


def choose(order, reason=REASON, **extra):
    line = order.lines[0]
    return {f"line-{line.id}-return": "1", f"line-{line.id}-quantity": "1", f"line-{line.id}-reason": reason,
            f"line-{line.id}-option": "credit", **extra}


def test_every_portal_page_is_translated(client, account, shop, pseudo_locale):
    slug, order = account.slug, shop
    data = data_of(account, order)
    pages = {"lookup": client.get(f"/r/{slug}?lang={PSEUDO}")}
    pages["lookup, not found"] = look_up_order(client, account, "#9999", "zoe@example.com")
    pages["lookup, missing fields"] = client.post(f"/r/{slug}", data={"order_number": "", "email": ""})
    assert look_up_order(client, account, order.name, "zoe@example.com").status_code == 303
    pages["items"] = client.get(f"/r/{slug}/items")
    pages["items, a choice missing"] = client.post(f"/r/{slug}/items", data=choose(order, reason=""))
    review = client.post(f"/r/{slug}/items", data=choose(order))
    pages["review"] = review
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', review.get_data(as_text=True)))
    fields.pop("action", None)
    pages["problem"] = client.post(f"/r/{slug}/submit", data={**fields, "order_id": "0"})
    submitted = client.post(f"/r/{slug}/submit", data=fields)
    assert submitted.status_code == 303, submitted.get_data(as_text=True)
    ret = db.session.scalar(db.select(Return).where(Return.account_id == account.id))
    assert ret.locale == PSEUDO  # the language it was submitted in, kept for its emails
    data |= {ret.rma_number}
    pages["confirmation"] = client.get(submitted.headers["Location"])
    token = portal_session.status_token(ret)
    status_url = f"/r/{slug}/returns/{token}"
    pages["items, with the return made"] = client.get(f"/r/{slug}/items")
    pages["status"] = client.get(status_url)
    pages["status, tracking refused"] = client.post(f"{status_url}/tracking", data={"tracking_number": ""})
    pages["packing slip"] = client.get(f"{status_url}/packing-slip")
    pages["cancel, asked first"] = client.post(f"{status_url}/cancel")
    for status, extra in (("REQUESTED", {}), ("DECLINED", {"decline_note": "Όχι."}),
                          ("PROCESSED", {"processed_at": datetime.now(timezone.utc)}),
                          ("CANCELLED", {"cancelled_at": datetime.now(timezone.utc)})):
        for name, value in {"status": status, **extra}.items():
            setattr(ret, name, value)
        if status == "PROCESSED":
            ret.items[0].resolution, ret.items[0].issued_amount = "ISSUED", Decimal("12.30")
            ret.items[0].credit_method = "store_credit"
        db.session.commit()
        pages[f"status, {status.lower()}"] = client.get(status_url)
    data.add("Όχι.")
    pages["packing slip, cancelled"] = client.get(f"{status_url}/packing-slip")
    old = portal_session._serializer().dumps([account.id, ret.id, 0])
    pages["link expired"] = client.get(f"/r/{slug}/returns/{old}")
    pages["link not found"] = client.get(f"/r/{slug}/returns/{'x' * 40}")
    pages["not found (error page)"] = client.get(f"/r/{slug}/returns/{token}/nothing-here")
    account.option_mode = "rules"
    db.session.commit()
    assert look_up_order(client, account, order.name, "zoe@example.com").status_code in (302, 303)
    pages["items, rules mode"] = client.get(f"/r/{slug}/items")
    for name, response in pages.items():
        assert response.status_code < 500, name
        assert f'lang="{PSEUDO}"' in response.get_data(as_text=True), name
        assert_all_translated(name, response.get_data(as_text=True), data)


def email_templates() -> list[str]:
    """Every email (its name: portal/email/<name>.txt and .html), found in the folder, not listed."""
    return sorted({path.stem for path in EMAILS.iterdir()
                   if path.suffix in (".html", ".txt") and not path.name.startswith("_")})


def test_the_emails_are_found_in_their_folder():
    assert {"confirmation", "issued", "credit_note"} <= set(email_templates())


@pytest.mark.parametrize("name", email_templates())
def test_every_email_is_translated(name, app, account, shop, pseudo_locale):
    order = shop
    ret = Return(account_id=account.id, order_id=order.id, rma_number="R-7001-1", status="OPEN",
                 option_source="customer", shopify_order_id=order.shopify_order_id, order_name=order.name,
                 customer_email=order.email, customer_name=CUSTOMER, currency="EUR", locale=PSEUDO,
                 created_at=datetime.now(timezone.utc) - timedelta(days=1))
    db.session.add(ret)
    db.session.flush()
    from app.models import ReturnItem  # the model the item of the context is
    item = ReturnItem(return_id=ret.id, order_line_id=order.lines[0].id, shopify_line_id=1, title=TITLE,
                      variant_title=VARIANT, unit_value=Decimal("12.30"), quantity=1, reason=REASON, option="credit")
    ret.items.append(item)
    db.session.flush()
    status_url = "https://returns.example.com/r/x/returns/token"
    # Every branch of every email shows: a label with all its links, a carrier and its tracking.
    links = {kind: f"https://labels.example.com/{kind}" for kind in ("pdf", "png", "file", "qr")}
    label = SimpleNamespace(tracking_number="1Z999", carrier="Ταχυμεταφορές")
    text, html = render_email(name, account=account, ret=ret, item=item, items=[item], amount=Decimal("12.30"),
                              code="GIFT-ΑΒΓΔ", lines=[TITLE], status_url=status_url, rules_mode=False,
                              reason="Όχι.", note="Όχι.", label=label, label_links=links, tracking_number="1Z999",
                              tracking_url="https://track.example.com/1Z999", carrier="Ταχυμεταφορές",
                              decline_note="Όχι.")
    data = data_of(account, order, ret) | {"GIFT-ΑΒΓΔ", "Όχι.", "Ταχυμεταφορές"}
    assert_all_translated(f"{name}.html", html, data)
    assert english_words(text, data) == [], f"{name}.txt shows untranslated words"
    assert f'lang="{PSEUDO}"' in html


def test_the_check_finds_an_untranslated_word():
    # The detector itself: an English word among transformed text and data is reported.
    shown = visible(f'<p>{pseudo("Return by %(date)s") % {"date": "3 Ιανουαρίου"}} Refund {SHOP}</p>'
                    '<button aria-label="Close">×</button><span lang="de">Deutsch</span>')
    assert english_words(shown, {SHOP}) == ["Refund", "Close"]
