"""The domain's sentences for the shopper, in the shopper's language.

The domain (pure, English) says why a line cannot be returned, until when it can, what a bonus
is worth and what rules mode will do; the dashboard shows those words as they are. The portal and
its emails build the same sentences here from the same facts, through `app.i18n.gettext`, with
money and dates in the language's own format. Messages the domain names and the portal shows
as they are (enum labels, the shop's default reasons) are listed with N_ so extraction finds them.
"""
from app.domain.eligibility import Reason
from app.domain.formatting import format_date, format_money, format_percent
from app.domain.rules_reach import Reach
from app.domain.vocabulary import Option, ReturnAction, RuleOutcome
from app.i18n import N_, current_locale, gettext as _

REASON_MESSAGES = {
    Reason.PAST_RETENTION: N_("This order is too old to be returned online."),
    Reason.ORDER_CANCELLED: N_("This order was cancelled."),
    Reason.OUTSIDE_WINDOW: N_("The return window for this order has closed."),
    Reason.EXCLUDED: N_("This item is final sale and cannot be returned."),
    Reason.NOT_FULFILLED: N_("This item has not been shipped yet."),
    Reason.ALREADY_RETURNED: N_("This item has already been returned or refunded."),
}

# Labels and phrases of the domain that the portal shows through |label and |translate.
SHOWN_AS_THEY_ARE = (
    # Return statuses (app.domain.vocabulary.ReturnStatus).
    N_("Awaiting review"), N_("Open"), N_("In transit"), N_("Received"), N_("Processed"), N_("Closed"),
    N_("Cancelled"), N_("Declined"),
    # Options, and what an item without one gets.
    N_("Refund"), N_("Credit note"), N_("Exchange"), N_("what the shop decides"), N_("a decision"),
    # When each return action issues the options (ACTION_WHEN_SHOPPER).
    N_("As soon as the carrier has your parcel"), N_("When the shop has checked the items"),
    N_("When the shop has completed your return"), N_("When the shop has processed your return"),
    # The return reasons a new shop starts with (a shop's own reasons are shown as written).
    N_("Faulty"), N_("Too small"), N_("Too large"), N_("Not as described"), N_("Changed my mind"),
    N_("Arrived too late"), N_("Wrong item sent"),
)

# Refusals the services raise in English and the portal shows translated (views: translate(str(error))).
REFUSALS = (
    N_("This tracking number is already used for another return. Check the number on your shipping label; if "
       "you sent several returns in one parcel, please contact the shop."),
    N_("Enter the tracking number as printed on the label (letters and digits)."),
    N_("The tracking number can only be changed before the parcel is scanned."),
    N_("The tracking number can only be changed before the return is received."),
    N_("This return can no longer be cancelled online: it is on its way."),
    N_("This return changed meanwhile and can no longer be cancelled."),
    N_("This return was cancelled."),
    N_("We could not reach the shop to check sizes and colours just now. Please try again in a minute, or "
       "choose a refund or credit note instead."),
    # Photos (app/domain/photos.py, app/photos/images.py).
    N_("That file is empty."), N_("Each photo must be 10 MB or smaller."),
    N_("That file is not a JPEG, PNG or WebP photo."), N_("That image is too large to open (too many pixels)."),
)

ACTION_WHEN_SHOPPER = {ReturnAction.FIRST_SCAN: N_("As soon as the carrier has your parcel"),
                       ReturnAction.PROCESSING: N_("When the shop has checked the items"),
                       ReturnAction.MANUAL: N_("When the shop has completed your return")}


def day(moment) -> str:
    """A day as the shopper reads it ("3 January 2027", "3. Januar 2027")."""
    return format_date(moment, "long", locale=current_locale())


def money(amount, currency: str | None, exact: bool = False) -> str:
    """An amount as the shopper reads it ("12,30 €" in German)."""
    return format_money(amount, currency, exact, locale=current_locale())


def verdict_message(verdict) -> str | None:
    """Why a line cannot be returned (the domain's `Eligibility.message`, translated)."""
    if not verdict.reason:
        return None
    if verdict.reason == Reason.OUTSIDE_WINDOW and verdict.closed_on:
        if verdict.per_item:
            return _("The return window for this item closed on %(date)s.", date=day(verdict.closed_on))
        return _("The return window for this order has closed. Returns were accepted until %(date)s.",
                 date=day(verdict.closed_on))
    message = REASON_MESSAGES.get(verdict.reason)
    return _(message) if message else None


def return_by_message(verdict) -> str | None:
    """"Return by 3 January 2027", or per parcel "Return 1 by … and 2 by …" (the domain's
    `Eligibility.return_by`, translated)."""
    windows = verdict.windows if verdict.returnable else ()
    if not windows:
        return None
    if len(windows) == 1:
        return _("Return by %(date)s", date=day(windows[0].last_day))
    parts = [_("%(count)s by %(date)s", count=w.units, date=day(w.last_day)) for w in windows]
    return _("Return %(parts)s and %(last)s", parts=", ".join(parts[:-1]), last=parts[-1])


def bonus_words(bonus, currency: str) -> str:
    """What a bonus adds: "10% extra" or "5.00 USD extra per item" (`Bonus.describe`, translated)."""
    if bonus.percent is not None:
        return _("%(percent)s%% extra", percent=format_percent(bonus.percent))
    return _("%(amount)s extra per item", amount=money(bonus.amount, currency))


def action_when(account) -> str:
    """When the shop's return action issues what the shopper chose, as the start of a sentence."""
    return _(ACTION_WHEN_SHOPPER.get(account.return_action, N_("When the shop has processed your return")))


def promise(found: Reach, shop: str) -> str:
    """What rules mode will do with a shopper's items (`rules_reach.shopper_promise`, translated)."""
    shown = _("Your return's page shows what each item gets.")
    if not found.automated:
        return _("%(shop)s's staff decide what each item gets. Your return's page will show it.", shop=shop)
    words = {RuleOutcome.REFUND: _("a refund"), RuleOutcome.CREDIT: _("a credit note"),
             Option.REFUND: _("a refund"), Option.CREDIT: _("a credit note")}
    automated = [words[o] for o in found.automated]
    if len(automated) > 1:
        text = _("As soon as you submit, %(shop)s's returns policy decides whether each item gets %(options)s",
                 shop=shop, options=_("%(first)s or %(last)s", first=", ".join(automated[:-1]), last=automated[-1]))
        if found.staff:
            text = _("%(text)s; items it does not cover are decided by %(shop)s's staff", text=text, shop=shop)
    elif found.staff:
        text = _("As soon as you submit, %(shop)s's returns policy decides which items get %(option)s; "
                 "the others are decided by %(shop)s's staff", shop=shop, option=automated[0])
    else:
        text = _("As soon as you submit, %(shop)s's returns policy gives each item %(option)s",
                 shop=shop, option=automated[0])
    return _("%(text)s. %(shown)s", text=text, shown=shown)
