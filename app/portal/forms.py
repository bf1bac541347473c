"""Portal forms: the order lookup (WTForms), tracking, and the per-line item choices.

The item choices are one field group per order line (`line-<id>-return`, `-quantity`, `-reason`,
`-note`, `-option`, `-variant`), so they are parsed here by hand rather than with nested WTForms
forms. Parsing only reports what a person can fix (a missing reason, an exchange without a size);
everything else (unknown lines, quantities, options the shop does not offer) is checked by
`app.services.return_submission.check_selections`, which trusts nothing that was posted.
"""
import re

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.domain.vocabulary import Option
from app.forms import BaseForm, plain_text, storable_text, strip_spaces, typed_only
from app.services.return_submission import NOTE_MAX, Selection
from app.services.tracking_numbers import TRACKING_MAX
from app.i18n import N_, gettext, lazy_gettext

_LINE_KEY = re.compile(r"^line-(\d{1,18})-(return|quantity|reason|note|option|variant)$")
FIELDS = ("return", "quantity", "reason", "note", "option", "variant")
PLAIN = N_("Use letters, digits and punctuation only.")


class LookupForm(BaseForm):
    """Find the order: its number and the email it was placed with."""

    order_number = StringField(lazy_gettext("Order number"), filters=[strip_spaces], validators=[
        DataRequired(lazy_gettext("Enter your order number.")),
        Length(max=64, message=lazy_gettext("That order number is too long.")), storable_text],
        render_kw={"inputmode": "text", "autocapitalize": "characters", "placeholder": "#1001"})
    email = StringField(lazy_gettext("Email address"), filters=[strip_spaces], validators=[
        DataRequired(lazy_gettext("Enter the email address you ordered with.")),
        Length(max=254, message=lazy_gettext("That email address is too long.")), storable_text],
        render_kw={"type": "email", "inputmode": "email", "autocapitalize": "none", "spellcheck": "false"})


class TrackingForm(BaseForm):
    """Add or correct the parcel's tracking number."""

    tracking_number = StringField(lazy_gettext("Tracking number"), filters=[strip_spaces], validators=[
        DataRequired(lazy_gettext("Enter the tracking number from your shipping label.")),
        Length(max=TRACKING_MAX + 20, message=lazy_gettext("That tracking number is too long.")), plain_text],
        render_kw={"autocapitalize": "characters", "spellcheck": "false"})


class CancelForm(BaseForm):
    """Only the CSRF token: the return is named by the signed link."""


def raw_state(formdata) -> dict[int, dict[str, str]]:
    """Every posted line field, by line id, as the strings that were sent (to fill the form again)."""
    state: dict[int, dict[str, str]] = {}
    for key in formdata:
        match = _LINE_KEY.match(key)
        if match:
            state.setdefault(int(match.group(1)), {})[match.group(2)] = (formdata.get(key) or "").strip()
    return state


def _clean_state(state: dict) -> tuple[dict, dict]:
    """The posted choices made safe to parse and show again, and what a person must fix: a note
    with characters no one types (NUL, lone surrogates…) is refused; a quantity or size that is
    not plain ASCII digits (², ٣) counts as not chosen."""
    errors: dict[int, dict[str, str]] = {}
    for line_id, fields in state.items():
        note = fields.get("note") or ""
        kept = typed_only(note)
        if kept != note:
            fields["note"] = kept
            errors.setdefault(line_id, {})["note"] = gettext(PLAIN)
        for key in ("quantity", "variant"):
            value = fields.get(key) or ""
            if value and not (value.isascii() and value.isdigit()):
                fields[key] = ""
    return state, errors


def read_choices(formdata, options_offered: bool):
    """(state, selections, errors) of a posted choices form (the portal's or staff's): the state
    cleaned to show again, the lines chosen with nothing to fix, and per line what to fix."""
    state, errors = _clean_state(raw_state(formdata))
    selections, parse_errors = parse_selections(state, options_offered)
    for line_id, problems in parse_errors.items():
        errors.setdefault(line_id, {}).update({k: v for k, v in problems.items() if k not in errors.get(line_id, {})})
    selections = [s for s in selections if s.line_id not in errors]
    return state, selections, errors


def _int(value: str | None) -> int | None:
    # ASCII only: "²" is a digit to str.isdigit() but not to int(), and "٣" is not what a form sends.
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 18 else None


def parse_selections(state: dict[int, dict[str, str]], options_offered: bool):
    """(selections, errors): the lines ticked for return, and per line id a dict of field -> message
    for what the customer must fix. `options_offered` is False in rules mode (no option asked)."""
    selections, errors = [], {}
    for line_id, fields in sorted(state.items()):
        if fields.get("return") != "1":
            continue
        problems = {}
        quantity = _int(fields.get("quantity"))
        if quantity is None or quantity < 1:
            problems["quantity"] = gettext("Choose how many to return.")
        reason = fields.get("reason") or ""
        if not reason:
            problems["reason"] = gettext("Choose a reason.")
        note = fields.get("note") or None
        if note and len(note) > NOTE_MAX:
            problems["note"] = gettext("Keep the note under %(count)s characters.", count=NOTE_MAX)
        option = fields.get("option") or None
        variant_id = None
        if options_offered and option is None:
            problems["option"] = gettext("Choose what you would like back.")
        if option == Option.EXCHANGE:
            # A variant radio left over from a picker the customer switched away from is dropped;
            # only an exchange carries one.
            variant_id = _int(fields.get("variant"))
            if variant_id is None:
                problems["variant"] = gettext("Choose the size or colour you want instead.")
        if problems:
            errors[line_id] = problems
            continue
        selections.append(Selection(line_id=line_id, quantity=quantity, reason=reason, note=note,
                                    option=option, variant_id=variant_id))
    return selections, errors


def hidden_fields(selections: list[Selection]) -> list[tuple[str, str]]:
    """The checked selections as (name, value) pairs for the review page's hidden inputs."""
    pairs = []
    for sel in selections:
        prefix = f"line-{sel.line_id}-"
        pairs += [(prefix + "return", "1"), (prefix + "quantity", str(sel.quantity)), (prefix + "reason", sel.reason)]
        if sel.note:
            pairs.append((prefix + "note", sel.note))
        if sel.option:
            pairs.append((prefix + "option", sel.option))
        if sel.variant_id is not None:
            pairs.append((prefix + "variant", str(sel.variant_id)))
    return pairs
