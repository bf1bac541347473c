"""The retailer's own wording of the portal and its emails, per language (dashboard → Portal text).

Every shopper-facing message (its English source, as extracted into app/translations/messages.pot)
may be given the shop's text in each of the portal's languages. `app.i18n.gettext` reads these
first. An override keeps the source's placeholders (``%(name)s`` or ``{name}``): one that drops
or adds one would show a raw placeholder or fail to fill it, so it is refused with the reason.
"""
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import delete, select

from app.extensions import db
from app.i18n import LANGUAGES, placeholders
from app.models import PortalText
from app.forms import typed_only

TEMPLATE = Path(__file__).resolve().parent.parent / "translations" / "messages.pot"
TEXT_MAX = 2000


class TextRefused(ValueError):
    """An override that cannot be kept; the message says why, for the retailer."""


@lru_cache(maxsize=1)
def messages() -> tuple[str, ...]:
    """Every shopper-facing message (English source), in the catalogue template's order."""
    with TEMPLATE.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        found.extend(ids)
    return tuple(found)


@lru_cache(maxsize=8)
def shipped(locale: str) -> dict[str, str]:
    """The translations shipped for `locale` (msgid → text; the source itself in English)."""
    if locale == "en" or locale not in LANGUAGES:
        return {msgid: msgid for msgid in messages()}
    with (TEMPLATE.parent / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    found = {}
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found[message.id[0]], found[message.id[1]] = strings[0], strings[-1]
        else:
            found[message.id] = message.string
    return found


def overrides_of(account_id: int, locale: str) -> dict[str, str]:
    """The shop's texts in one language (msgid → text)."""
    rows = db.session.execute(select(PortalText.msgid, PortalText.text)
                              .where(PortalText.account_id == account_id, PortalText.locale == locale))
    return {msgid: text for msgid, text in rows}


def all_overrides(account_id: int) -> dict[tuple[str, str], str]:
    """The shop's texts in every language, by (msgid, locale)."""
    rows = db.session.execute(select(PortalText.msgid, PortalText.locale, PortalText.text)
                              .where(PortalText.account_id == account_id))
    return {(msgid, locale): text for msgid, locale, text in rows}


def check_override(msgid: str, text: str) -> str:
    """The text to keep for `msgid`, or TextRefused saying what is wrong with it."""
    if typed_only(text, keep="\n") != text:
        # NUL, a lone surrogate, U+FFFD (bytes that were not UTF-8), control characters: nobody
        # types them, and the first two cannot be stored.
        raise TextRefused("Use letters, digits and punctuation only: the text has characters that cannot be "
                          "stored or shown.")
    if len(text) > TEXT_MAX:
        raise TextRefused(f"Keep the text under {TEXT_MAX} characters.")
    wanted, given = placeholders(msgid), placeholders(text)
    if wanted != given:
        missing = sorted(set(wanted) - set(given))
        extra = sorted(set(given) - set(wanted))
        parts = []
        if missing:
            parts.append("keep " + ", ".join(missing))
        if extra:
            parts.append("remove " + ", ".join(extra) + " (the original has no such placeholder)")
        if not parts:
            parts.append("use each placeholder as often as the original: " + ", ".join(wanted))
        raise TextRefused("The placeholders must stay as in the original: " + "; ".join(parts) + ".")
    return text


def save_overrides(account_id: int, locale: str, texts: dict[str, str]) -> dict[str, str]:
    """Keep the shop's texts in one language (an empty text goes back to the shipped translation).

    All or nothing: returns {msgid: why refused} and writes nothing when any text is refused."""
    if locale not in LANGUAGES:
        return {"": "Choose one of the portal's languages."}
    known = set(messages())
    refused, kept = {}, {}
    for msgid, raw in texts.items():
        if msgid not in known:
            refused[msgid] = "This message is not one of the portal's."
            continue
        text = (raw or "").replace("\r\n", "\n").strip()
        if not text:
            kept[msgid] = None
            continue
        try:
            kept[msgid] = check_override(msgid, text)
        except TextRefused as error:
            refused[msgid] = str(error)
    if refused:
        return refused
    current = {row.msgid: row for row in db.session.scalars(
        select(PortalText).where(PortalText.account_id == account_id, PortalText.locale == locale))}
    for msgid, text in kept.items():
        row = current.get(msgid)
        if text is None:
            if row is not None:
                db.session.execute(delete(PortalText).where(PortalText.id == row.id))
        elif row is None:
            db.session.add(PortalText(account_id=account_id, locale=locale, msgid=msgid, text=text))
        elif row.text != text:
            row.text = text
    db.session.commit()
    return {}
