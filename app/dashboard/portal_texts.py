"""Settings → Portal text: the shop's own wording of any portal or email message, per language.

One language at a time (``?language=fr``), every message listed with its English source and the
shipped translation; a box left empty keeps the shipped translation. A search (``?find=``) narrows
the list by any of a text's wordings (English, shipped, the shop's); a Save writes only the boxes
shown, all of them or, one refused, none.
"""
from flask import flash, redirect, render_template, request, url_for

from app.dashboard import bp
from app.dashboard.scope import admin_required, current_account
from app.i18n import LANGUAGES
from app.query_params import query_arg
from app.services import portal_texts as service

FIELD = "text-{}"


def _language() -> str:
    """The language being edited: the one asked for when it is one of the portal's, else French
    (English is the source, which an override may reword too)."""
    code = query_arg("language") or request.form.get("language") or "fr"
    return code if code in LANGUAGES else "fr"


@bp.route("/settings/portal-text", methods=["GET", "POST"])
@admin_required
def portal_texts():
    """List the messages with the shop's text in one language; POST saves the boxes shown."""
    account = current_account()
    language = _language()
    find = (query_arg("find") or "").strip()
    stored, shipped = service.overrides_of(account.id, language), service.shipped(language)
    # A text is found by any of the words the admin may know it by: the English source, the
    # shipped translation or the shop's own wording.
    wanted = find.casefold()
    shown = [(index, msgid) for index, msgid in enumerate(service.messages())
             if not wanted or any(wanted in text.casefold()
                                  for text in (msgid, shipped.get(msgid) or "", stored.get(msgid) or ""))]
    typed, refused = {}, {}
    if request.method == "POST":
        texts = {}
        for index, msgid in shown:
            name = FIELD.format(index)
            if name in request.form:
                texts[msgid] = typed[msgid] = request.form.get(name, "")
        refused = service.save_overrides(account.id, language, texts)
        if not refused:
            flash(f"Portal text saved for {LANGUAGES[language]}.", "success")
            return redirect(url_for("dashboard.portal_texts", language=language, find=find or None), code=303)
    status = 422 if refused else 200
    return render_template("dashboard/portal_texts.html", account=account, language=language, find=find,
                           languages=LANGUAGES, shown=shown, stored=stored, typed=typed, refused=refused,
                           shipped=shipped, field=FIELD), status
