"""Actions that cannot be undone ask first, with or without JavaScript.

With JavaScript the form's ``data-confirm`` question is the browser's own dialog, and app.js marks
the form confirmed when the person agrees. Without it the form arrives unconfirmed and the view
answers with the same question as a page of its own, whose button posts again, confirmed."""
from flask import render_template, request

CONFIRMED = "yes"


def confirmed() -> bool:
    """Whether the person said yes (the dialog or the page's button) to this POST."""
    return request.form.get("confirmed") == CONFIRMED


def ask_first(question: str, *, layout: str, button: str, back_url: str, **context):
    """The page that asks ``question``: ``button`` posts the same form to the same address,
    confirmed; "Go back" returns to ``back_url``. ``context`` is what ``layout`` needs."""
    return render_template("ask_first.html", question=question, layout=layout, button=button,
                           back_url=back_url, action=request.path, confirmed_value=CONFIRMED, **context)
