"""The shared layouts: the portal takes the retailer's branding; every page has the basics."""
from flask import render_template

from tests.factories import make_account


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
    assert 'integrity="sha384-' in html and 'crossorigin="anonymous"' in html
    assert '<meta name="viewport"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in html  # the fallback script runs only with this request's nonce
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_pages_get_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page." in response.get_data(as_text=True)
