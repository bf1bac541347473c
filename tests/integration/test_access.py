"""Access control over every dashboard URL, generated from the app's url_map so a new route is
covered without anyone remembering to add it."""
import pytest
from werkzeug.routing import IntegerConverter

from app.dashboard.scope import ADMIN_ONLY_ENDPOINTS
from tests.fixtures.app import make_test_app
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in

_URL_APP = make_test_app(SQLALCHEMY_DATABASE_URI="sqlite://")


def _example_url(rule) -> str:
    values = {name: 1 if isinstance(conv, IntegerConverter) else "x" for name, conv in rule._converters.items()}
    with _URL_APP.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _dashboard_routes(only_admin: bool = False):
    routes = []
    for rule in _URL_APP.url_map.iter_rules():
        if not rule.endpoint.startswith("dashboard."):
            continue
        if only_admin and rule.endpoint not in ADMIN_ONLY_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(pytest.param(method, _example_url(rule), id=f"{method} {rule.rule}"))
    return routes


DASHBOARD_ROUTES = _dashboard_routes()
ADMIN_ROUTES = _dashboard_routes(only_admin=True)


def test_the_route_lists_are_not_empty():
    assert len(DASHBOARD_ROUTES) >= 5
    assert {"dashboard.settings", "dashboard.staff", "dashboard.remove_staff"} <= ADMIN_ONLY_ENDPOINTS


@pytest.mark.parametrize("method, url", DASHBOARD_ROUTES)
def test_every_dashboard_url_sends_an_anonymous_visitor_to_login(client, method, url):
    response = client.open(url, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("method, url", DASHBOARD_ROUTES)
def test_every_dashboard_url_answers_htmx_with_hx_redirect_when_logged_out(client, method, url):
    response = client.open(url, method=method, headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


@pytest.mark.parametrize("method, url", ADMIN_ROUTES)
def test_every_admin_only_url_refuses_staff(app, client, method, url):
    account = make_account()
    make_user(account, role="admin")
    staff = make_user(account, role="staff")
    from app.extensions import db

    db.session.commit()
    log_in(client, staff.email)
    response = client.open(url, method=method)
    assert response.status_code == 403


@pytest.mark.parametrize("method, url", ADMIN_ROUTES)
def test_every_admin_only_url_lets_an_admin_in(app, client, method, url):
    account = make_account()
    admin = make_user(account, role="admin")
    from app.extensions import db

    db.session.commit()
    log_in(client, admin.email)
    response = client.open(url, method=method)
    assert response.status_code not in (401, 403)


def _huge_id_urls():
    params = []
    for rule in _URL_APP.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if rule.endpoint.startswith("dashboard.") and ints and "GET" in rule.methods:
            with _URL_APP.test_request_context():
                from flask import url_for

                values = {name: 1 if isinstance(conv, IntegerConverter) else "x"
                          for name, conv in rule._converters.items()}
                url = url_for(rule.endpoint, **values)
            huge = "9" * 25
            params.append(pytest.param(url.replace("/1/", f"/{huge}/").replace("/1", f"/{huge}", 1)
                                       if url.endswith("/1") or "/1/" in url else url, id=rule.rule))
    return params


@pytest.mark.parametrize("url", _huge_id_urls())
def test_ids_beyond_64_bits_are_a_404_never_a_500(app, client, url):
    account = make_account()
    admin = make_user(account, role="admin")
    from app.extensions import db

    db.session.commit()
    log_in(client, admin.email)
    assert client.get(url).status_code == 404
