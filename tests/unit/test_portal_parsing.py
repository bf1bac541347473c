"""Pure pieces of the portal: how typed numbers and emails are read, how the per-line form is
parsed, the variant labels and the status timeline."""
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from app.portal.forms import hidden_fields, parse_selections, raw_state
from app.portal.session import normalise_email, normalise_order_number
from app.portal.status import timeline
from app.services.return_eligibility import exchange_choices, variant_label
from app.services.return_submission import Selection
from app.shopify.operations import VariantData
from decimal import Decimal


@pytest.mark.parametrize("typed, names", [
    ("1001", ("#1001", "1001")), ("#1001", ("#1001", "1001")), (" # 10 01 ", ("#1001", "1001")),
    ("EU1001", ("#EU1001", "EU1001")), ("##1001", ("#1001", "1001")), ("", ()), ("###", ()), (None, ()),
])
def test_order_numbers_with_or_without_hash(typed, names):
    assert normalise_order_number(typed) == names


def test_emails_ignore_case_and_spaces():
    assert normalise_email("  Pat.Smith@Example.COM \t") == "pat.smith@example.com"


def form(**fields):
    return {f"line-7-{k}": v for k, v in fields.items()}


def test_only_ticked_lines_are_selected_and_choices_are_kept():
    state = raw_state({**form(**{"return": "1", "quantity": "2", "reason": "Faulty", "note": " Torn ",
                                 "option": "exchange", "variant": "55"}),
                       "line-8-quantity": "1", "line-8-reason": "Faulty", "unrelated": "x"})
    selections, errors = parse_selections(state, options_offered=True)
    assert errors == {}
    assert selections == [Selection(7, 2, "Faulty", "Torn", "exchange", 55)]
    assert dict(hidden_fields(selections)) == {"line-7-return": "1", "line-7-quantity": "2", "line-7-reason": "Faulty",
                                               "line-7-note": "Torn", "line-7-option": "exchange",
                                               "line-7-variant": "55"}


def test_missing_choices_are_reported_per_field():
    _, errors = parse_selections(raw_state(form(**{"return": "1", "quantity": "x", "option": "exchange"})), True)
    assert set(errors[7]) == {"quantity", "reason", "variant"}
    _, errors = parse_selections(raw_state(form(**{"return": "1", "quantity": "1", "reason": "Faulty"})), True)
    assert errors[7] == {"option": "Choose what you would like back."}


def test_rules_mode_asks_no_option_and_a_leftover_variant_is_dropped():
    selections, errors = parse_selections(
        raw_state(form(**{"return": "1", "quantity": "1", "reason": "Faulty"})), False)
    assert errors == {} and selections[0].option is None
    selections, _ = parse_selections(raw_state(form(**{"return": "1", "quantity": "1", "reason": "Faulty",
                                                       "option": "refund", "variant": "9"})), True)
    assert selections[0].variant_id is None


def variant(vid, options, qty=5, available=True):
    return VariantData(vid, " / ".join(v for _, v in options), None, Decimal("10"), available, qty, "DENY", True,
                       tuple(options))


def test_variant_labels_and_exchange_choices():
    bought = variant(1, [("Size", "S"), ("Colour", "Navy")])
    other = variant(2, [("Size", "M"), ("Colour", "Blue")])
    sold_out = variant(3, [("Size", "L"), ("Colour", "Blue")], qty=0)
    assert variant_label(other) == "Size: M, Colour: Blue"
    assert variant_label(variant(4, [("Title", "Default Title")])) == "Default Title"
    line = SimpleNamespace(variant_id=1)
    assert exchange_choices(line, [bought, other, sold_out]) == [other]


def test_timeline_marks_reached_and_skipped_steps():
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    ret = SimpleNamespace(status="RECEIVED", created_at=at, in_transit_at=None, received_at=at, processed_at=None,
                          closed_at=None, cancelled_at=None, items=[])
    steps = timeline(ret)
    assert [(s.label, s.done, s.current) for s in steps] == [
        ("Return started", True, False), ("On its way", True, False), ("Received", True, True),
        ("Processed", False, False)]
    ret.status, ret.cancelled_at = "CANCELLED", at
    assert [s.label for s in timeline(ret)] == ["Return started", "Cancelled"]


def test_the_processed_step_says_issuing_only_while_it_is_going_on():
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    ret = SimpleNamespace(status="PROCESSED", created_at=at, in_transit_at=at, received_at=at, processed_at=at,
                          closed_at=None, cancelled_at=None, items=[SimpleNamespace(resolution="ISSUING")])
    assert timeline(ret)[-1].detail == "Your refund, credit note or exchange is being issued."
    ret.items = [SimpleNamespace(resolution="ISSUED")]   # issued at first scan, before processing
    assert timeline(ret)[-1].detail == "The shop has checked your items."


def test_a_failed_item_tells_the_customer_the_shop_is_on_it_without_the_reason():
    from app.portal.status import item_outcome

    failed = SimpleNamespace(resolution="FAILED", option="exchange", failure_reason="Shopify refused: stock")
    assert item_outcome(failed, "USD") == "The shop is sorting this item out and will be in touch."
    assert item_outcome(SimpleNamespace(resolution="DECIDED", option="refund"), "USD") is None


def test_a_return_the_shopper_keeps_has_no_parcel_steps():
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    kept = SimpleNamespace(keep_item=True, resolution="ISSUED")
    ret = SimpleNamespace(status="OPEN", created_at=at, in_transit_at=None, received_at=None, processed_at=None,
                          closed_at=None, cancelled_at=None, items=[kept])
    (step,) = timeline(ret)
    assert (step.label, step.detail) == ("Return started", "Keep the items: there is nothing to send back.")
    ret.status = "REQUESTED"
    assert [s.label for s in timeline(ret)] == ["Return requested", "Awaiting review"]
    ret.items.append(SimpleNamespace(keep_item=False, resolution="DECIDED"))  # one still ships
    assert "Send it back" in [s.label for s in timeline(ret)]
