"""One markup for a flash message: on the page, in a fragment, and out of band beside one."""
from pathlib import Path

from flask import Flask, flash, render_template_string

from app import templating

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def render(source: str, **context) -> str:
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.secret_key = "test"
    templating.init_app(app)
    with app.test_request_context():
        flash("Saved.", "success")
        return render_template_string('{% from "_flashes.html" import flash, flashes, status_oob %}' + source,
                                      **context)


def test_the_page_list_and_a_fragment_write_a_message_alike():
    assert render("{{ flashes() }}") == ('<div id="flashes" class="flashes" aria-live="polite">\n'
                                         '  <p class="flash flash-success" role="status">Saved.</p>\n</div>')
    assert render("{{ flash(m, id='x') }}", m="Not moved.") == \
        '<p class="flash flash-error" role="alert" id="x">Not moved.</p>'


def test_a_fragment_sends_its_messages_out_of_band():
    assert render("{{ flashes(oob=true) }}").startswith(
        '<div id="flashes" class="flashes" aria-live="polite" hx-swap-oob="true">\n  <p class="flash flash-success"')
    assert render("{{ status_oob('Saved.', 'rules-status') }}") == (
        '<p id="rules-status" class="visually-hidden" role="status" aria-live="polite" hx-swap-oob="true">'
        'Saved.</p>')
