"""Jinja settings and template globals."""
from flask import Flask, g

from app.domain import vocabulary
from app.domain.contrast import Palette, portal_palette
from app.domain.formatting import format_date, format_datetime, format_money, format_percent
from app.domain.rules_parse import outcome_words
from app.i18n import current_locale, translate
from app.htmx import HTMX_PATH, HTMX_SRI, is_htmx
from app import shopper_words as words
from app.services.rules_mode import reach_of

DEFAULT_BRAND = "#1f6feb"


def init_app(app: Flask) -> None:
    """Register template globals and the filters that format dates, times and money (CTFd's
    init_template_filters): templates call no strftime and format no amount themselves."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(date=_date, datetime=_datetime, money=_money, percent=format_percent)
    app.jinja_env.globals.update(
        csp_nonce=lambda: getattr(g, "csp_nonce", ""),
        htmx_path=HTMX_PATH,
        htmx_sri=HTMX_SRI,
        is_htmx=is_htmx,
        brand_palette=brand_palette,
        rules_promise=_rules_promise,
        # The domain's sentences in the shopper's language (app/shopper_words.py).
        verdict_message=words.verdict_message, return_by_message=words.return_by_message,
        bonus_words=words.bonus_words, action_when=words.action_when,
    )
    # The vocabulary's enums, by name (CTFd's JinjaEnum): templates compare with
    # ``ReturnStatus.CANCELLED`` and show ``value|label(Option)``, never a copied string or label.
    app.jinja_env.globals.update({enum.__name__: enum for enum in VOCABULARY})
    app.jinja_env.globals.update(ACTION_WHEN=vocabulary.ACTION_WHEN, ACTION_WHEN_SHOPPER=vocabulary.ACTION_WHEN_SHOPPER)
    app.jinja_env.filters["label"] = label
    # ``{{ rule.outcome|rule_outcome(rule.fee_percentage) }}``: "Restocking fee 15%" for a fee rule.
    app.jinja_env.filters["rule_outcome"] = outcome_words


VOCABULARY = (vocabulary.ReturnStatus, vocabulary.ItemResolution, vocabulary.Option, vocabulary.RuleOutcome,
              vocabulary.OptionMode, vocabulary.ReturnAction, vocabulary.RestockState, vocabulary.ReviewMode,
              vocabulary.DeclineReason, vocabulary.LabelProvider, vocabulary.LabelIssueOn,
              vocabulary.LabelState, vocabulary.EmailKind)


def label(value: str | None, enum: type[vocabulary.Labelled], default: str | None = None) -> str:
    """``{{ item.option|label(Option) }}``: the label of a stored value; ``default`` (else the
    value itself, or nothing for None) when it is not one of the enum's."""
    return translate(enum.label_of(value, default) or "")


# In the language being written (app/i18n.py): English on the dashboard, the shopper's in the
# portal and its emails.
def _date(moment, style: str = "short") -> str:
    return format_date(moment, style, locale=current_locale())


def _datetime(moment, style: str = "short") -> str:
    return format_datetime(moment, style, locale=current_locale())


def _money(amount, currency: str | None = None, exact: bool = False) -> str:
    return format_money(amount, currency, exact, locale=current_locale())


def brand_palette(colour: str | None) -> Palette:
    """The portal's readable colours for a shop's brand colour (one stored before colours were
    checked may fail AA: it is adjusted here); Boomerang's own blue for a colour that is not #rrggbb."""
    try:
        return portal_palette(colour or DEFAULT_BRAND)
    except ValueError:
        return portal_palette(DEFAULT_BRAND)


def _rules_promise(account) -> str:
    """What rules mode will really do with a shopper's items, from the shop's rules as they are, in
    the shopper's language."""
    return words.promise(reach_of(account.id), account.name)
