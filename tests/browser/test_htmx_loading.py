"""htmx is served from this site only, checked against its published hash; no CDN is asked."""
from app.htmx import HTMX_PATH


def _requests(page):
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def test_htmx_loads_from_this_site_and_nothing_from_elsewhere(live_server, page):
    seen = _requests(page)
    page.goto(live_server.url("/login"))
    assert page.evaluate("window.htmx && htmx.version") == "2.0.11"
    assert any(url.endswith(f"/static/{HTMX_PATH}") for url in seen)
    assert all(url.startswith(live_server.url("/")) for url in seen)


def test_a_changed_copy_is_refused_by_its_integrity_hash(live_server, page):
    page.route(f"**/static/{HTMX_PATH}", lambda route: route.fulfill(
        status=200, body="window.htmx = {version: 'evil'};", content_type="application/javascript"))
    page.goto(live_server.url("/login"))
    assert page.evaluate("window.htmx === undefined")


def test_an_inline_script_is_refused_by_the_policy(live_server, page):
    """Only files from this site run: a script injected into a page (were escaping ever to fail)
    is blocked by the Content-Security-Policy."""
    page.goto(live_server.url("/login"))
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.injected = true'; document.body.append(s); }""")
    assert page.evaluate("window.injected === undefined")
