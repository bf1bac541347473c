"""The shared layouts: the portal takes the retailer's branding; every page has the basics."""
import pytest
from flask import render_template

from app.extensions import db
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in


def test_portal_layout_uses_the_retailers_logo_and_colour(app):
    account = make_account(name="Acme", logo_url="https://cdn.example.com/acme.png", primary_color="#aa3300")
    html = render_template("portal/base.html", account=account)
    assert '<img class="portal-logo" src="https://cdn.example.com/acme.png" alt="Acme">' in html
    assert "--brand: #aa3300;" in html


def test_portal_layout_without_a_logo_shows_the_store_name(app):
    account = make_account(name="Acme <Outdoor>", logo_url=None)
    html = render_template("portal/base.html", account=account)
    assert '<span class="portal-name">Acme &lt;Outdoor&gt;</span>' in html


def test_pages_carry_the_csrf_meta_tag_csp_and_htmx_with_sri(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert '<meta name="csrf-token"' in html
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" integrity="sha384-' in html
    assert "cdn." not in html and '<meta name="viewport"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def directives(csp: str) -> dict[str, list[str]]:
    """The policy's directives, each with its sources."""
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize("path", ["/login", "/r/{slug}", "/dashboard/"])
def test_scripts_come_from_this_site_only_and_images_over_https(app, client, path):
    """No CDN host, no wildcard and no inline script may run; images never over plain http."""
    account = make_account(logo_url="https://cdn.example.com/logo.png")
    db.session.commit()
    policy = directives(client.get(path.format(slug=account.slug)).headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "https:"]
    assert all(source.startswith("'nonce-") or source == "'self'" for source in policy["style-src"])


def test_a_logo_stored_over_plain_http_is_not_shown(app):
    account = make_account(name="Acme", logo_url="http://cdn.example.com/acme.png")
    html = render_template("portal/base.html", account=account)
    assert "portal-logo" not in html and '<span class="portal-name">Acme</span>' in html


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page." in response.get_data(as_text=True)


def duplicate_ids(html: str) -> list[str]:
    """The element ids that appear more than once in ``html`` (labels and skip links break on them)."""
    from collections import Counter
    from html.parser import HTMLParser

    seen = Counter()

    class Ids(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.update(value for name, value in attrs if name == "id")

    Ids().feed(html)
    return [value for value, count in seen.items() if count > 1]


def test_a_page_with_several_forms_has_each_id_once(app, client, monkeypatch):
    account = make_account()
    make_user(account, role="admin", email="boss@example.com")
    db.session.commit()
    log_in(client, "boss@example.com")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # every form renders its CSRF field
    html = client.get("/dashboard/settings").get_data(as_text=True)
    assert html.count('name="csrf_token"') > 1
    assert duplicate_ids(html) == []


def test_every_form_renders_its_csrf_field_without_an_id():
    import flask_wtf

    import app as application  # noqa: F401  (imports every blueprint's forms)
    from app.forms import BaseForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(flask_wtf.FlaskForm) if cls.__module__.startswith("app.")]
    assert ours and all(issubclass(cls, BaseForm) for cls in ours), [
        cls.__qualname__ for cls in ours if not issubclass(cls, BaseForm)]
