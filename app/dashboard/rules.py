"""The rules pages (admin only): the priority list with drag and keyboard reordering, the rule
editor, the dry run, and the impact and never-fires warnings shown beside the rules.

Views stay thin: they read the request, call app.services.rules / rules_preview, and render.
Anything posted that does not fit (another account's rule, a short or padded order, unknown
dimensions) ends in a 4xx or the form with its error, and nothing is written. HTMX requests get
the fragment they swap; the same URLs work as plain forms without JavaScript.
"""
import re

from flask import abort, flash, redirect, render_template, request, url_for

from app.ask_first import ask_first, confirmed
from app.dashboard import bp
from app.dashboard.rules_form import (DIMENSION_CHOICES, KEY, OUTCOME_CHOICES, ConditionRow, RuleForm, new_key,
                                     value_kind)
from app.dashboard.scope import admin_required, current_account, get_scoped_or_404, scoped
from app.domain.rules import MAX_CONDITIONS, RuleInvalid
from app.domain.rules_parse import parse_rule
from app.domain.rules_input import validate
from app.domain.rules_reach import admin_summary, reach, unoffered_reasons
from app.domain.rules_warnings import never_firing
from app.domain.vocabulary import OptionMode, ReviewMode, RuleOutcome
from app.extensions import db
from app.htmx import is_htmx, retarget
from app.models import Return, Rule
from app.query_params import query_arg
from app.services import rules as service
from app.services import rules_preview as preview

MAX_POSTED_IDS = 1000
SUBMISSION_OUTCOMES = (RuleOutcome.KEEP_REFUND, RuleOutcome.KEEP_CREDIT, RuleOutcome.EXCHANGE_ONLY, RuleOutcome.FEE)
MAX_ID = 2**63 - 1  # ids are BIGINT: a longer number in a URL is a 404, not a database error
RULE_ID = f"<int(max={MAX_ID}):rule_id>"


def _last() -> int:
    """How many recent returns the impact preview replays (?last=N, bounded)."""
    return min(query_arg("last", preview.DEFAULT_LAST, source=request.values), preview.MAX_LAST)


def _list_context(account, message: str | None = None, status_text: str | None = None) -> dict:
    """Everything the priority list shows: rules, their parsed form, warnings and impact."""
    rules = service.rules_of(account.id)
    defs = [service.to_def(r) for r in rules]
    usable = [d for d in defs if d is not None]
    warnings = never_firing(usable)
    impact = preview.impact(account.id, usable, _last())
    rows = []
    usable_index = 0
    for rule, parsed in zip(rules, defs, strict=True):
        row = {"rule": rule, "conditions": [service.describe(c) for c in rule.conditions or []],
               "broken": parsed is None, "warning": None, "caught": None}
        if parsed is not None:
            found = warnings.get(usable_index)
            row["warning"] = found.message if found else _unoffered_warning(parsed, rule, account.return_reasons or [])
            row["caught"] = impact.caught[usable_index]
            usable_index += 1
        rows.append(row)
    found = reach(usable, account.return_reasons or [])
    return {"rows": rows, "impact": impact, "message": message, "status_text": status_text,
            "reach": found, "mode_summary": admin_summary(found),
            "customer_choice": account.option_mode != OptionMode.RULES.value,
            "review_by_rule": account.review_mode == ReviewMode.RULE.value,
            # These outcomes act at submission in either option mode (app/services/submission_rules.py).
            "submission_outcomes": any(r.enabled and r.outcome in SUBMISSION_OUTCOMES for r in rules)}


def _unoffered_warning(parsed, rule: Rule, reasons: list[str]) -> str | None:
    """A saved rule naming a reason the portal no longer offers (the reasons changed since)."""
    missing = unoffered_reasons(parsed, reasons)
    if not missing:
        return None
    typed = [v for c in rule.conditions or [] if c.get("dimension") == "return_reason"
             for v in (c.get("value") if isinstance(c.get("value"), list) else [c.get("value")])]
    shown = next((str(v) for v in typed if str(v).strip().lower() == missing[0]), missing[0])
    return (f"Your portal no longer offers the reason “{shown}”, so no new return has it. "
            "Edit the rule, or add the reason back in Settings.")


def _list_response(account, message=None, status_text=None, status=200, refused: dict | None = None):
    """The list fragment for HTMX, the whole page otherwise."""
    if is_htmx():
        return render_template("dashboard/_partials/rule_list.html", banner_oob=True,
                               refused=refused or {}, **_list_context(account, message, status_text)), status
    if status_text:
        flash(status_text, "success")
    return render_template("dashboard/rules.html", account=account, refused=refused or {},
                           **_list_context(account, message)), status


@bp.get("/rules")
@admin_required
def rules_page():
    """The ordered list of rules, the mode they run in, and what they would do."""
    return _list_response(current_account())


@bp.post("/rules/reorder")
@admin_required
def rules_reorder():
    """Store the order the list was dragged into (`rule` ids, top first; or JSON {"rules": [...]})."""
    account = current_account()
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested past the parser's depth; `silent` covers only ValueError
            body = None
        raw_ids = body.get("rules") if isinstance(body, dict) else None
        if not isinstance(raw_ids, list):
            abort(400, "Send {\"rules\": [rule ids, top first]}.")
    else:
        raw_ids = request.form.getlist("rule")
    if len(raw_ids) > MAX_POSTED_IDS:
        abort(400, "Too many rules in that order.")
    try:
        ids = [int(str(value)) for value in raw_ids]
    except ValueError:
        abort(400, "Rule ids are numbers.")
    try:
        service.reorder(account.id, ids)
    except service.RulesOrderMismatch as mismatch:
        return _list_response(account, message=str(mismatch), status=409)
    return _list_response(account, status_text="New order saved.")


@bp.post(f"/rules/{RULE_ID}/move")
@admin_required
def rule_move(rule_id: int):
    """Move one rule up or down (the keyboard alternative to dragging)."""
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, "Move a rule up or down.")
    account = current_account()
    rule = get_scoped_or_404(Rule, rule_id)
    name = rule.name
    try:
        service.move(account.id, rule_id, step)
    except service.RuleNotFound:
        abort(404)
    position = db.session.get(Rule, rule_id).position
    return _after_change(account, rule_id, f"“{name}” is now number {position}.")


POSITION = re.compile(r"[0-9]{1,4}")  # ASCII digits only: "٣" or "1e9" is not a position here


@bp.post(f"/rules/{RULE_ID}/position")
@admin_required
def rule_position(rule_id: int):
    """Move one rule straight to a typed position (no matter how far), refusing positions that
    do not exist with the list and what to type instead."""
    account = current_account()
    rule = get_scoped_or_404(Rule, rule_id)
    name, typed = rule.name, request.form.get("position", "").strip()
    try:
        if not POSITION.fullmatch(typed):
            raise service.PositionOutOfRange(f"Choose a position from 1 to {len(service.rules_of(account.id))}.")
        service.move_to(account.id, rule_id, int(typed))
    except service.PositionOutOfRange as refused:
        # The typed position stays in its field, marked, to correct (cut short: it is only shown).
        return _list_response(account, message=f"“{name}” was not moved. {refused}", status=422,
                              refused={rule_id: typed[:12]})
    except service.RuleNotFound:
        abort(404)
    return _after_change(account, rule_id, f"“{name}” is now number {int(typed)}.")


@bp.post(f"/rules/{RULE_ID}/toggle")
@admin_required
def rule_toggle(rule_id: int):
    """Switch one rule on or off."""
    wanted = {"1": True, "0": False}.get(request.form.get("enabled", ""))
    if wanted is None:
        abort(400, "Say whether to switch the rule on or off.")
    account = current_account()
    get_scoped_or_404(Rule, rule_id)
    try:
        rule = service.set_enabled(account.id, rule_id, wanted)
    except service.RuleNotFound:
        abort(404)
    return _after_change(account, rule_id, f"“{rule.name}” is {'on' if rule.enabled else 'off'}.")


@bp.post(f"/rules/{RULE_ID}/delete")
@admin_required
def rule_delete(rule_id: int):
    """Delete a rule once the person has said yes (the browser's dialog, or a page that asks)."""
    account = current_account()
    rule = get_scoped_or_404(Rule, rule_id)
    if not confirmed():
        return ask_first(f"Delete the rule “{rule.name}”? Returns it already decided keep their decision.",
                         layout="dashboard/base.html", button=f"Delete “{rule.name}”",
                         back_url=url_for("dashboard.rules_page") + f"#rule-{rule.id}")
    try:
        name = service.delete_rule(account.id, rule_id)
    except service.RuleNotFound:
        abort(404)
    flash(f"Deleted “{name}”. Returns it decided keep their decision.", "success")
    return redirect(url_for("dashboard.rules_page"), code=303)


def _after_change(account, rule_id: int, text: str):
    if is_htmx():
        return _list_response(account, status_text=text)
    flash(text, "success")
    return redirect(url_for("dashboard.rules_page") + f"#rule-{rule_id}", code=303)


# --- the editor ----------------------------------------------------------------------------

@bp.route("/rules/new", methods=["GET", "POST"])
@admin_required
def rule_new():
    """Add a rule (it goes to the bottom of the list)."""
    return _editor(None)


@bp.route(f"/rules/{RULE_ID}/edit", methods=["GET", "POST"])
@admin_required
def rule_edit(rule_id: int):
    """Edit a rule; saving bumps its version, past decisions keep theirs."""
    return _editor(get_scoped_or_404(Rule, rule_id))


def _editor(rule: Rule | None):
    account = current_account()
    if request.method == "GET":
        form = RuleForm.from_rule(rule) if rule else RuleForm.blank()
        return _render_editor(account, rule, form)
    form = RuleForm.from_post(request.form)
    action = request.form.get("action", "save")
    if request.form.get("remove"):
        form.remove(request.form["remove"])
        return _render_editor(account, rule, form)
    if action in ("add", "refresh"):
        form.settle()
        if action == "add":
            form.add_row()
        return _render_editor(account, rule, form)
    try:
        if action == "impact":
            return _render_editor(account, rule, form, impact=_proposed_impact(account, rule, form))
        saved = service.update_rule(account.id, rule.id, form.to_raw()) if rule else \
            service.create_rule(account.id, form.to_raw())
    except RuleInvalid as invalid:
        form.show_errors(invalid)
        body, status = _render_editor(account, rule, form, status=422)
        if is_htmx():
            # The impact button swaps only #impact; the errors belong in the form, so swap that.
            return body, status, retarget("#rule-form", "#rule-form", "outerHTML")
        return body, status
    except service.RuleNotFound:
        abort(404)  # deleted by someone else meanwhile
    flash(f"Saved “{saved.name}” (version {saved.version}).", "success")
    return redirect(url_for("dashboard.rules_page") + f"#rule-{saved.id}", code=303)


def _proposed_impact(account, rule: Rule | None, form: RuleForm) -> dict:
    """The impact and warnings of the list as it would be with this unsaved rule in it."""
    stored, parsed = validate(form.to_raw(), service.reasons_of(account.id))
    current = service.rules_of(account.id)
    defs = []
    for existing in current:
        if rule is not None and existing.id == rule.id:
            defs.append(parse_rule(stored, rule.id, rule.version + 1))
        else:
            found = service.to_def(existing)
            if found is not None:
                defs.append(found)
    if rule is None:
        defs.append(parse_rule(stored, None, 1))
    result = preview.impact(account.id, defs, _last())
    warnings = never_firing(defs)
    # (position, rule, its warning or None, whether it is the one being edited), top first.
    rows = [(i + 1, d, warnings.get(i), d.id is None or (rule is not None and d.id == rule.id))
            for i, d in enumerate(defs)]
    return {"impact": result, "rows": rows}


def _render_editor(account, rule, form: RuleForm, impact: dict | None = None, status: int = 200):
    return render_template("dashboard/rules_edit.html", account=account, rule=rule, form=form,
                           proposed=impact, max_conditions=MAX_CONDITIONS, **_row_context(account)), status


def _row_context(account) -> dict:
    return {"dimension_choices": DIMENSION_CHOICES, "outcome_choices": OUTCOME_CHOICES,
            "value_kind": value_kind, "reasons": account.return_reasons or []}


@bp.get("/rules/condition-row")
@admin_required
def rule_condition_row():
    """One condition row, for HTMX: a new empty row, or a row redrawn for its new dimension."""
    key = query_arg("row") or new_key()
    if not KEY.match(key):
        abort(400, "Bad row key.")
    row = ConditionRow.from_params(key, request.args).settle()
    number = min(query_arg("n", 1), MAX_CONDITIONS)
    return render_template("dashboard/_partials/rule_condition.html", row=row, n=number,
                           **_row_context(current_account()))


# --- dry run -------------------------------------------------------------------------------

@bp.get("/rules/dry-run")
@admin_required
def rules_dry_run():
    """Which rule each item of a past return (or an order, with a reason) would hit now, and why."""
    account = current_account()
    defs = service.rule_defs(account.id)
    run, status = None, 200
    return_id, order_name, reason = query_arg("return"), query_arg("order", ""), query_arg("reason", "")
    if return_id:
        run = preview.dry_run_return(account.id, return_id, defs)
        if run is None:
            abort(404)
    elif "order" in request.args:
        if not order_name.strip() or not reason.strip():
            run, status = preview.DryRun(problem="Enter an order number and a reason."), 422
        else:
            run = preview.dry_run_order(account.id, order_name, reason, defs)
            status = 404 if run.problem else 200
    recent = db.session.scalars(scoped(Return).order_by(Return.created_at.desc(), Return.id.desc()).limit(100)).all()
    return render_template("dashboard/rules_dry_run.html", account=account, run=run, recent=recent,
                           rules_count=len(defs), chosen=str(return_id or ""), order_name=order_name, reason=reason,
                           reasons=account.return_reasons or [],
                           customer_choice=account.option_mode != OptionMode.RULES.value), status
