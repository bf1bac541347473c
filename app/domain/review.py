"""Review before approval: whether a return waits for staff, and what a decline must carry. Pure.

A return is reviewed when the account reviews all returns, or reviews by rule and, for at least
one of its items, the first rule that matches says "Send to review". The rules decide this in
both option modes: in customer-choice mode that is all they decide (the shopper's choices stand);
in rules mode they decide the items' options as well, and a review rule leaves its item's option
to staff (as No Action does).
"""
from __future__ import annotations

from collections.abc import Iterable

from app.domain.returns import DECLINE_NOTE_MAX, ReturnRefused
from app.domain.vocabulary import DeclineReason, Option, ReviewMode, RuleOutcome


def review_applies(mode: str, outcomes: Iterable[str | None]) -> bool:
    """Whether a return whose items' rule outcomes are ``outcomes`` waits for staff to review it."""
    if mode == ReviewMode.ALL:
        return True
    if mode == ReviewMode.RULE:
        return any(outcome == RuleOutcome.REVIEW for outcome in outcomes)
    return False


def uses_request(options: Iterable[str | None]) -> bool:
    """Whether a reviewed return with items of these ``options`` is a Shopify return request
    (``returnRequest`` at submission, approved or declined in Shopify), rather than created in
    Shopify only at approval: a request cannot carry exchange lines (2026-04 schema
    ``ReturnRequestInput``), so a return with an exchange waits for approval and ``returnCreate``."""
    return not any(option == Option.EXCHANGE for option in options)


def check_decline(reason: str | None, note: str | None) -> tuple[str, str]:
    """The decline's Shopify reason and its message to the shopper, checked; ReturnRefused when
    the reason is not one of Shopify's or the message is empty or over 500 characters.

    Shopify counts characters (2026-04 schema ``ReturnDeclineRequestInput.declineNote``: "Maximum
    length: 500 characters"), which Python's ``len`` counts the same way (code points)."""
    if reason not in tuple(DeclineReason):
        raise ReturnRefused("Choose Shopify's reason for declining from the list.")
    text = (note or "").strip()
    if not text:
        raise ReturnRefused("Write a message to the shopper: it says why the return is declined.")
    if len(text) > DECLINE_NOTE_MAX:
        raise ReturnRefused(f"Keep the message to {DECLINE_NOTE_MAX} characters (Shopify's limit); it has "
                            f"{len(text)}.")
    return reason, text
