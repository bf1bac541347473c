"""The portal and its emails in the shopper's language (Flask-Babel), with the shop's own wording.

English is the source language: every shopper-facing string is written in English in a template
(``{{ _("...") }}``, ``{% trans %}``) or in Python (``gettext`` / ``lazy_gettext`` below) and
translated in ``app/translations/<lang>/LC_MESSAGES/messages.po`` (``make i18n`` extracts, updates and
compiles them). The dashboard stays English: only portal requests and emails choose a language.

A portal page's language is, in order: the one the shopper picked on the page (``?lang=de``, then
remembered in the session), the best of the browser's Accept-Language among the portal's
languages, the shop's own (``Account.locale``). An email is written in its return's language
(``Return.locale``, kept from the page it was submitted on) through `rendering_in`.

A retailer may reword any message per language (``PortalText`` rows, dashboard → Portal text):
`gettext` looks the shop's wording up first, once per request and language. An override is text,
never markup: templates escape it like any value.
"""
import re
from contextlib import contextmanager

from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from babel import Locale
from flask_babel import Babel, LazyString, force_locale, get_locale
from jinja2 import pass_context
from markupsafe import escape

# The languages shipped, by code, in their own words (what the switcher shows).
LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"}
DEFAULT_LOCALE = "en"
SESSION_KEY = "portal_lang"
PORTAL_PREFIX = "/r/"  # where app/__init__.py mounts the portal
# The pages that take ``?lang=`` (app/query_params.py lists it for them); any other page links to
# the choose-items page in the language picked.
LANG_ENDPOINTS = ("portal.lookup", "portal.items", "portal.confirmation", "portal.status", "portal.packing_slip")
POSTED_TO_PAGE = {"portal.tracking": "portal.status", "portal.cancel": "portal.status", "portal.submit": "portal.items"}
# Placeholders a message keeps: %(name)s (Python and templates) and {name} (str.format).
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")

babel = Babel()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with the portal's locale choice, and give templates the gettext that reads
    the shop's overrides first (newstyle: ``_("Return %(rma)s", rma=ret.rma_number)``)."""
    app.config.setdefault("PORTAL_LANGUAGES", tuple(LANGUAGES))
    babel.init_app(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE)
    app.before_request(_start_request)
    app.jinja_env.install_gettext_callables(gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True)
    app.jinja_env.globals.update(portal_languages=portal_languages, language_links=language_links,
                                 current_locale=current_locale)
    # ``{{ message|translate }}``: a message named elsewhere (a constant, an enum's label, an error),
    # translated as it is shown; text that is no message of ours is shown as it is.
    app.jinja_env.filters["translate"] = translate
    app.jinja_env.filters["inline"] = inline


def _start_request() -> None:
    """Each request chooses its own language and reads its shop's wording afresh: a request run
    inside an app context that is already pushed (a test, a command) shares its `g`, where
    Flask-Babel and this module keep what they read. A language picked on a page is remembered even
    when the page only redirects (the choose-items page without a session goes to the lookup)."""
    for key in ("_flask_babel", "i18n_account", "i18n_overrides"):
        g.pop(key, None)
    if request.blueprint == "portal" and "lang" in request.args:
        get_locale()


def portal_languages() -> dict[str, str]:
    """The languages a shopper may choose on this shop's portal (code → name in its own words), in
    the order shown: the portal's that the shop offers (Account.languages), its own always."""
    return {code: LANGUAGES.get(code) or _own_name(code) for code in _offered()}


def _offered() -> tuple[str, ...]:
    codes = current_app.config["PORTAL_LANGUAGES"]
    account = _portal_account() if in_portal() else None
    if account is None or account[2] is None:
        return tuple(codes)
    chosen = set(account[2]) | {account[1]}
    return tuple(code for code in codes if code in chosen)


def _own_name(code: str) -> str:
    """A configured language Boomerang does not ship, named in its own words by CLDR."""
    try:
        return Locale.parse(code).get_display_name(code).capitalize()
    except (ValueError, TypeError):
        return code


def valid_locale(code) -> str | None:
    """`code` when it is one of the portal's languages (a parameter, a stored value), else None."""
    return code if isinstance(code, str) and code in current_app.config["PORTAL_LANGUAGES"] else None


def language_of_shop_locale(code) -> str | None:
    """The portal language for a shop locale as Shopify names it ("fr", "fr-CA", "pt-BR"): its
    language part when the portal speaks it, else None."""
    if not isinstance(code, str) or len(code) > 16:
        return None
    language = code.split("-", 1)[0].lower()
    return language if language.isascii() and valid_locale(language) else None


def in_portal() -> bool:
    """A request to the portal: one of its pages, or an address under it that matches none (its
    404 page is the shopper's too)."""
    return has_request_context() and (request.blueprint == "portal" or
                                      (request.blueprint is None and request.path.startswith(PORTAL_PREFIX)))


def select_locale() -> str:
    """Flask-Babel's locale selector: English outside the portal (the dashboard is English)."""
    return portal_locale() if in_portal() else DEFAULT_LOCALE


def portal_locale() -> str:
    """The portal page's language: picked on the page (this request's ``lang``, else the session's),
    else the browser's best among the portal's languages, else the shop's own."""
    from app.query_params import query_arg  # at call time: app.query_params imports app.forms, which imports this
    offered = _offered()
    picked = query_arg("lang") if request.endpoint in LANG_ENDPOINTS else None
    if picked in offered:
        session[SESSION_KEY] = picked
        return picked
    remembered = session.get(SESSION_KEY)
    if isinstance(remembered, str) and remembered in offered:
        return remembered
    browser = request.accept_languages.best_match(offered)
    if browser is not None:
        return browser
    account = _portal_account()
    return valid_locale(account[1] if account else None) or DEFAULT_LOCALE


def current_locale() -> str:
    """The language being written in now (a portal page, an email), as a code ("de")."""
    # An app without Babel bound (a unit test of the templates' filters) writes English.
    locale = get_locale() if has_app_context() and "babel" in current_app.extensions else None
    return str(locale) if locale is not None else DEFAULT_LOCALE


def language_links() -> list[tuple[str, str, str, bool]]:
    """(code, name, url, current) for the switcher: the same page in each language. A page that
    answers a post links to the page it came from (the review: the choose-items page, which keeps
    the choices)."""
    if request.blueprint != "portal":  # a portal template the dashboard shows (the packing slip)
        return []
    args = dict(request.view_args or {})
    endpoint = POSTED_TO_PAGE.get(request.endpoint, request.endpoint)
    if endpoint not in LANG_ENDPOINTS:
        endpoint, args = "portal.items", {"slug": args.get("slug", "")}
    from flask import url_for  # at call time: only pages rendered in a request build links
    now = current_locale()
    return [(code, name, url_for(endpoint, **args, lang=code), code == now)
            for code, name in portal_languages().items()]


def _portal_account() -> tuple[int, str, list | None] | None:
    """(id, locale, languages offered) of the shop whose portal this request is on, read once per
    request."""
    if "i18n_account" not in g:
        from app.models import Account  # at call time: app.i18n is bound before the models load
        from app.extensions import db  # at call time: as above
        slug = (request.view_args or {}).get("slug") if has_request_context() else None
        row = db.session.execute(db.select(Account.id, Account.locale, Account.languages)
                                 .where(Account.slug == slug)).first() if isinstance(slug, str) else None
        g.i18n_account = (row[0], row[1], row[2] if isinstance(row[2], list) else None) if row else None
    return g.i18n_account


@contextmanager
def rendering_in(locale: str | None, account_id: int | None = None):
    """Write (an email, a subject) in `locale` with the shop's overrides for it; an unknown or
    missing locale writes English."""
    code = valid_locale(locale) or DEFAULT_LOCALE
    saved = g.get("i18n_account", None), "i18n_account" in g
    g.i18n_account = (account_id, code, None) if account_id is not None else None
    try:
        with force_locale(code):
            yield code
    finally:
        if saved[1]:
            g.i18n_account = saved[0]
        else:
            g.pop("i18n_account", None)


def _overrides() -> dict[str, str]:
    """The shop's own wording in the current language (msgid → text), read once per request."""
    account = _override_account()
    if account is None or account[0] is None:
        return {}
    locale = current_locale()
    cache = g.setdefault("i18n_overrides", {})
    key = (account[0], locale)
    if key not in cache:
        from app.services.portal_texts import overrides_of  # at call time: services import this module
        cache[key] = overrides_of(account[0], locale)
    return cache[key]


def _override_account() -> tuple[int, str] | None:
    """The shop whose wording applies: the email's (`rendering_in`), else the portal page's."""
    if "i18n_account" in g:
        return g.i18n_account
    if in_portal():
        return _portal_account()
    return None


def _translated(msgid: str) -> str:
    from flask_babel import get_translations  # at call time: keeps the module's imports small
    if not has_app_context() or not msgid or "babel" not in current_app.extensions:  # "": the header
        return msgid
    override = _overrides().get(msgid)
    return override if override is not None else get_translations().ugettext(msgid)


def gettext(msgid: str, **variables) -> str:
    """The message in the current language (the shop's wording first), with %(name)s filled in."""
    text = _translated(msgid)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """The singular or plural message for `num` in the current language; %(num)d is `num`."""
    from flask_babel import get_translations  # at call time: as in _translated
    overrides = _overrides()
    key = singular if num == 1 else plural
    text = overrides.get(key) or get_translations().ungettext(singular, plural, num)
    return text % {"num": num, **variables}


def translate(text) -> str:
    """A message made elsewhere, in the current language (no placeholders are filled)."""
    return _translated(text) if isinstance(text, str) and text else text


# Languages whose nouns keep their capital inside a sentence.
CAPITALISED_NOUNS = ("de",)


def inline(label: str) -> str:
    """A label used inside a sentence: "Refund" → "refund", but German's "Erstattung" stays."""
    text = str(label or "")
    if current_locale() in CAPITALISED_NOUNS or not text:
        return text
    return text[:1].lower() + text[1:]


def N_(msgid: str) -> str:
    """Marks a message for extraction where it is named, to be translated where it is shown."""
    return msgid


def lazy_gettext(msgid: str, **variables) -> LazyString:
    """`gettext` when the text is used (a form's label, a module constant), not when defined."""
    return LazyString(gettext, msgid, **variables)


def placeholders(text: str) -> list[str]:
    """The placeholders of a message, sorted (a translation or override must keep the same)."""
    return sorted(PLACEHOLDER.findall(text or ""))


@pass_context
def _template_gettext(context, msgid: str) -> str:
    # Jinja's newstyle gettext marks what this returns as safe where autoescaping is on and then
    # fills the %(name)s in, escaped: the message itself is escaped here, so an override or a
    # translation is shown as text, never taken as markup.
    text = _translated(msgid)
    return escape(text) if context.eval_ctx.autoescape else text


@pass_context
def _template_ngettext(context, singular: str, plural: str, num: int) -> str:
    from flask_babel import get_translations  # at call time: as in _translated
    key = singular if num == 1 else plural
    text = _overrides().get(key) or get_translations().ungettext(singular, plural, num)
    return escape(text) if context.eval_ctx.autoescape else text
