"""The words a return is described in: one enum per concept, each value with its one label.

A value is exactly the string stored in the database and posted by forms, so a member compares
equal to it (``ReturnStatus.OPEN == "OPEN"``); ``.label`` is what pages and emails show. Templates
read the same enums (app.templating registers them, and a ``|label`` filter), so no page keeps a
copy of these labels. Pure: nothing here knows Flask or the database.
"""
from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum whose members are written ``NAME = "stored value", "Label"``."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def label_of(cls, value: str | None, default: str | None = None) -> str | None:
        """The label of a stored value; ``default`` (else the value itself) when it is not one of ours."""
        try:
            return cls(value).label
        except ValueError:
            return value if default is None else default

    @classmethod
    def choices(cls, *members: Labelled) -> list[tuple[str, str]]:
        """(value, label) pairs for a form's choices: ``members``, else all, in declaration order."""
        return [(m.value, m.label) for m in (members or cls)]


class ReturnStatus(Labelled):
    """Where a return is in its lifecycle (app.domain.returns says which moves are allowed)."""

    REQUESTED = "REQUESTED", "Awaiting review"   # the shop reviews it first (Account.review_mode)
    OPEN = "OPEN", "Open"
    IN_TRANSIT = "IN_TRANSIT", "In transit"
    RECEIVED = "RECEIVED", "Received"
    PROCESSED = "PROCESSED", "Processed"
    CLOSED = "CLOSED", "Closed"
    CANCELLED = "CANCELLED", "Cancelled"
    DECLINED = "DECLINED", "Declined"   # the shop declined it at review: nothing is issued


class ReviewMode(Labelled):
    """Which returns staff approve or decline before the shopper sends anything."""

    NONE = "none", "None — every return is open at once"
    ALL = "all", "All — every return waits for staff to approve or decline it"
    RULE = "rule", "By rule — only returns a “Send to review” rule matches"


class DeclineReason(Labelled):
    """Shopify's reasons for declining a return request (2026-04 schema ``enum ReturnDeclineReason``)."""

    RETURN_PERIOD_ENDED = "RETURN_PERIOD_ENDED", "The return period has ended"
    FINAL_SALE = "FINAL_SALE", "The return contains final sale items"
    OTHER = "OTHER", "Another reason"


class ItemResolution(Labelled):
    """Where one returned item stands between its decision and its issuing in Shopify."""

    UNDECIDED = "UNDECIDED", "Not decided"
    DECIDED = "DECIDED", "Decided, not issued yet"
    ISSUING = "ISSUING", "Being issued"
    ISSUED = "ISSUED", "Issued"
    FAILED = "FAILED", "Failed"
    NO_ACTION = "NO_ACTION", "No action (staff decide)"   # a rule left the item to staff


class Option(Labelled):
    """What the shopper gets for an item: chosen in the portal, by staff, or by the shop's rules."""

    REFUND = "refund", "Refund"
    CREDIT = "credit", "Credit note"   # store credit, or a gift card where that is impossible
    EXCHANGE = "exchange", "Exchange"


class RuleOutcome(Labelled):
    """What a rule decides for an item: an option it can issue without staff, or to leave it to them."""

    REFUND = Option.REFUND.value, Option.REFUND.label
    CREDIT = Option.CREDIT.value, Option.CREDIT.label
    NO_ACTION = "no_action", "No Action"   # a name: "a No Action rule"
    # Staff approve or decline the return first (where the account reviews by rule); the item's
    # option is then theirs to decide, as with No Action.
    REVIEW = "review", "Send to review"
    # Items not worth shipping back (app/services/submission_rules.py): the shopper keeps the item,
    # no parcel or label, and the refund or credit note is issued once the return is open.
    KEEP_REFUND = "keep_refund", "Refund, keep the item"
    KEEP_CREDIT = "keep_credit", "Credit note, keep the item"
    # The item may only be exchanged (customer choice); in rules mode it is left to staff, as No Action.
    EXCHANGE_ONLY = "exchange_only", "Exchange only"
    # A restocking fee of the rule's own percentage (Rule.fee_percentage), instead of the reason's.
    FEE = "fee", "Restocking fee"


class OptionMode(Labelled):
    """Who chooses each item's option: the shopper in the portal, or the shop's rules."""

    CUSTOMER_CHOICE = "customer_choice", "The customer, per item, in the portal"
    RULES = "rules", "My rules, automatically (the portal does not ask)"


class ReturnAction(Labelled):
    """When a return's options are issued in Shopify (app.domain.returns.ACTION_STATES: at which status)."""

    FIRST_SCAN = "first_scan", ("First scan — issue when the carrier first scans the parcel (in transit). Refunds "
                                "are issued without restocking; the items are restocked when the return is "
                                "received.")
    PROCESSING = "processing", "Processing — issue when staff mark the return processed, after checking the items."
    MANUAL = "manual", "Manual — issue only when staff close the return."


# When each return action issues the options, in words: for staff ("issues the options …") and for
# the shopper ("…, you get what you chose").
ACTION_WHEN = {ReturnAction.FIRST_SCAN: "at the first carrier scan", ReturnAction.PROCESSING: "when processed",
               ReturnAction.MANUAL: "when closed"}
ACTION_WHEN_SHOPPER = {ReturnAction.FIRST_SCAN: "As soon as the carrier has your parcel",
                       ReturnAction.PROCESSING: "When the shop has checked the items",
                       ReturnAction.MANUAL: "When the shop has completed your return"}


class RestockState(Labelled):
    """Units waiting to be put back after receipt (a return processed at first scan); each label
    reads after "Units: "."""

    PENDING = "PENDING", "waiting for the parcel"
    RESTOCKING = "RESTOCKING", "being restocked"   # legacy restocks only
    DONE = "DONE", "restocked"
    FAILED = "FAILED", "restock failed"


class LabelProvider(Labelled):
    """Who sells the shop's prepaid return labels ("" : no labels)."""

    NONE = "", "No prepaid labels"
    EASYPOST = "easypost", "EasyPost"
    SHIPPO = "shippo", "Shippo"


class LabelIssueOn(Labelled):
    """When a return's prepaid label is bought."""

    SUBMISSION = "submission", "When the return is submitted"
    APPROVAL = "approval", "When the shop approves the return"


class EmailKind(Labelled):
    """The emails a shopper gets along a return (app.services.shopper_emails), each switchable per shop."""

    SUBMITTED = "submitted", "Return submitted"
    LABEL_READY = "label_ready", "Return label ready"
    RECEIVED = "received", "Parcel received"
    ISSUED = "issued", "Refund, credit or exchange issued"
    EXCHANGE_SHIPPED = "exchange_shipped", "Exchange shipped"
    DECLINED = "declined", "Return declined"
    CANCELLED = "cancelled", "Return cancelled"


class LabelState(Labelled):
    """Where a return label's purchase stands (app.services.labels)."""

    CREATING = "CREATING", "Getting rates"
    SHIPMENT_CREATED = "SHIPMENT_CREATED", "Rate chosen"
    BUYING = "BUYING", "Buying"
    BOUGHT = "BOUGHT", "Bought"
    FAILED = "FAILED", "Failed"
    VOIDED = "VOIDED", "Voided"
