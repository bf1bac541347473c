"""No hostile input reaches a 5xx: every route and method of the url_map, anonymous (with a portal
session), as admin and as staff, with each hostile value in every path variable, every query
parameter the registry lists for the endpoint, every field the view's forms read and every JSON
shape a JSON endpoint could be sent. Field names come from the forms themselves: the request
records each key a view reads, and a key read for the first time is tried in turn."""
import json
import re
from collections import defaultdict

import pytest

from app.query_params import QUERY_PARAMS, spec_of
from app.tracking.base import DeliveryRefused
from tests.fixtures.auth import log_in
from tests.fixtures.app import make_test_app
from tests.support.hostile import (HOSTILE, JSON_SHAPES, QueryRecorder, ReadRecorder, RecordingRequest, World,
                                   form_body, path_values, url_of)
from tests.support.settings import page_values
from tests.support.shopify_webhooks import signed_headers
from tests.support.tracking import generic_event, generic_headers

_URL_APP = make_test_app(SQLALCHEMY_DATABASE_URI="sqlite://")
ROLES = ("anonymous", "admin", "staff")
JSON_ENDPOINTS = {"dashboard.rules_reorder", "webhooks.shopify_webhook", "webhooks.tracking_webhook"}
FORM = "application/x-www-form-urlencoded"
TRIED: dict[str, set] = defaultdict(set)  # "METHOD rule" → parameters tried
SENT = [0]


def _routes():
    for rule in sorted(_URL_APP.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                yield pytest.param(rule.rule, method, role, id=f"{method} {rule.rule} {role}")


def _rule(rule_text: str, method: str):
    return next(r for r in _URL_APP.url_map.iter_rules() if r.rule == rule_text and method in r.methods)


def _query_keys(endpoint: str, world: World) -> list[str]:
    keys = []
    for key, spec in QUERY_PARAMS.items():
        if endpoint in spec.endpoints:
            keys += [key.format(id=world.paths["line_id"], row="k1", part=part)
                     for part in (("dimension", "operator", "value", "low", "high") if "{part}" in key else ("",))]
    return list(dict.fromkeys(keys))


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    pairs = sum(len(params) for params in TRIED.values())
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nhostile input: {pairs} (route, parameter) pairs over {len(TRIED)} routes and methods, "
              f"{SENT[0]} requests")


@pytest.fixture
def recording(app):
    original = app.request_class
    app.request_class = RecordingRequest
    yield app
    app.request_class = original


class Walker:
    """Sends one route its hostile requests and keeps every 5xx and every unregistered query key."""

    def __init__(self, client, rule, method, role, world):
        self.client, self.rule, self.method, self.role, self.world = client, rule, method, role, world
        self.paths = path_values(world, rule)
        self.failures, self.fields, self.unregistered = [], [], set()
        self.filler = dict(world.defaults)

    def send(self, param, value, *, paths=None, query=None, data=None, headers=None):
        """One request; a 5xx or an exception is a failure (route, method, role, param, value, status)."""
        ReadRecorder.reads, QueryRecorder.reads = set(), set()
        url = url_of(self.rule.rule, {**self.paths, **(paths or {})}, query)
        SENT[0] += 1
        TRIED[f"{self.method} {self.rule.rule}"].add(param)
        try:
            status = self.client.open(url, method=self.method, data=data,
                                      headers=headers or {"Content-Type": FORM}).status_code
        except Exception as error:  # noqa: BLE001 - reported with the others
            status = f"raised {type(error).__name__}: {error}"[:200]
        if not isinstance(status, int) or status >= 500:
            self.failures.append((self.rule.rule, self.method, self.role, param, repr(value)[:40], status))
        self._learn()

    def _learn(self):
        for key in QueryRecorder.reads:
            try:
                spec_of(key)
            except KeyError:
                self.unregistered.add(key)
        if self.method == "POST":
            self.fields += [key for key in sorted(ReadRecorder.reads) if key not in self.fields]

    def walk(self):
        """Path variables, registered query parameters, form fields (learned as read), JSON shapes."""
        endpoint = self.rule.endpoint
        # A form body that names no field: Flask-WTF reads a form only when something was posted.
        self.send("(baseline)", "", data=b"_=")
        if self.method == "POST":
            pages = self.world.pages + ([url_of(self.rule.rule, self.paths)] if "GET" in self.rule.methods else [])
            for page in pages:
                self.filler.update({k: v for k, v in page_values(self.client.get(page).get_data(as_text=True),
                                                                 None).items() if v})
            self.fields += [name for name in form_fields_of(self.client.application, endpoint)
                            if name not in self.fields]
        for name in self.paths:
            for label, value in HOSTILE.items():
                self.send(f"path:{name}", label, paths={name: value}, data=b"")
        for key in _query_keys(endpoint, self.world):
            for label, value in HOSTILE.items():
                self.send(f"query:{key}", label, query={key: value}, data=b"")
        if self.method == "POST":
            if endpoint.startswith("portal."):
                self.fields += [f for f in self.world.line_fields if f not in self.fields]
            done, families = 0, defaultdict(int)
            while done < len(self.fields):  # fields read for the first time join the list
                field, done = self.fields[done], done + 1
                # A numbered family of one field ("text-0" … "text-400", one per portal message)
                # is read by one line of code: its first three members stand for the rest.
                family = re.sub(r"\d+$", "#", field)
                families[family] += 1
                if family != field and families[family] > 3:
                    continue
                for label, value in HOSTILE.items():
                    self.send(f"form:{field}", label, data=form_body(self._filled(field, value)))
        if endpoint in JSON_ENDPOINTS:
            self._json()

    def _filled(self, field, value):
        """Every field the route reads with a valid value, but `field`, which holds `value`."""
        return {**{f: self.filler[f] for f in self.fields if f in self.filler}, field: value}

    def _json(self):
        shop = self.world.account.shop_domain
        bodies = {f"json:{k}": v.encode() for k, v in JSON_SHAPES.items()}
        if self.rule.endpoint == "webhooks.tracking_webhook":
            for name in ("event_id", "tracking_number", "status", "occurred_at"):
                for label, value in HOSTILE.items():
                    event = {**json.loads(generic_event("1Z999", "in_transit")), name: value}
                    bodies[f"json:{name}:{label}"] = json.dumps(event).encode()
        for param, body in bodies.items():
            if self.rule.endpoint == "webhooks.tracking_webhook":
                from app.crypto import decrypt_secret

                headers = generic_headers(decrypt_secret(self.world.connection.secret_encrypted), body)
            elif self.rule.endpoint == "webhooks.shopify_webhook":
                headers = signed_headers(body, shop)
            else:
                headers = {"Content-Type": "application/json"}
            self.send(param, param.split(":")[-1], data=body, headers=headers)


@pytest.mark.parametrize("rule_text, method, role", list(_routes()))
def test_no_hostile_value_reaches_a_5xx(recording, client, rule_text, method, role):
    world = World()
    client.post(f"/r/{world.account.slug}", data={"order_number": world.order.name, "email": world.order.email})
    if role != "anonymous":
        user = world.admin if role == "admin" else world.staff
        log_in(client, user.email)
    walker = Walker(client, _rule(rule_text, method), method, role, world)
    walker.walk()
    assert not walker.failures, "5xx answers (route, method, role, param, value, status):\n" + "\n".join(
        map(str, walker.failures))
    assert not walker.unregistered, f"query keys read but not in app/query_params.py: {sorted(walker.unregistered)}"


def test_the_walk_reaches_the_lookup_form_and_refuses_a_nul_in_a_tracking_event(recording, client):
    """Guards the walker itself: the lookup's fields are learned, and a signed NUL is a 4xx."""
    world = World()
    walker = Walker(client, _rule("/r/<slug>", "POST"), "POST", "anonymous", world)
    walker.walk()
    assert {"order_number", "email"} <= set(walker.fields)
    body = json.dumps({"event_id": "e", "tracking_number": "1Z\u0000", "status": "in_transit"}).encode()
    from app.crypto import decrypt_secret

    secret = decrypt_secret(world.connection.secret_encrypted)
    response = client.post(f"/webhooks/tracking/generic/{world.connection.url_token}", data=body,
                           headers=generic_headers(secret, body))
    assert response.status_code == DeliveryRefused.status


def form_fields_of(app, endpoint: str) -> list[str]:
    """The fields of the form classes the endpoint's view (or a function of its module it calls)
    names: a view may read a form only when another field selects it."""
    import ast
    import inspect
    import sys

    from wtforms.fields.core import UnboundField

    view = inspect.unwrap(app.view_functions[endpoint])
    tree = ast.parse(inspect.getsource(sys.modules[view.__module__]))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    names, pending, seen = set(), [view.__name__], set()
    while pending:
        name = pending.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        used = {node.id for node in ast.walk(functions[name]) if isinstance(node, ast.Name)}
        names |= used
        pending += list(used & functions.keys())
    return [field for cls in _form_classes() if cls.__name__ in names for field in dir(cls)
            if isinstance(getattr(cls, field, None), UnboundField)]


_FORM_CLASSES = []


def _form_classes():
    """Every BaseForm subclass in app/ (each module imported, so none is missed)."""
    import importlib
    import pkgutil

    import app as package
    from app.forms import BaseForm

    if _FORM_CLASSES:
        return _FORM_CLASSES
    for module in pkgutil.walk_packages(package.__path__, "app."):
        importlib.import_module(module.name)
    found, pending = set(), [BaseForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    _FORM_CLASSES.extend(sorted(found, key=lambda cls: cls.__qualname__))
    return _FORM_CLASSES


def test_every_field_of_every_form_class_was_tried():
    """Runs after the walk (same module): each field the form classes declare was sent hostile values."""
    from wtforms.fields.core import UnboundField

    assert TRIED, "run the whole module: this test checks what the walk above tried"
    tried = {param.split(":", 1)[1] for params in TRIED.values() for param in params if param.startswith("form:")}
    untried = [f"{cls.__module__}.{cls.__qualname__}.{name}" for cls in _form_classes() for name in dir(cls)
               if isinstance(getattr(cls, name, None), UnboundField)
               and not any(key == name or key.endswith("-" + name) for key in tried)]
    assert len(_form_classes()) >= 10
    assert not untried, "form fields no route was sent hostile values in:\n" + "\n".join(untried)
