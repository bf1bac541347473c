"""Hostile input for every route: the values, a world of real rows to aim them at, URLs and bodies
that carry them as raw bytes, and a request class that records which form keys a view reads."""
import json
import re
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Request
from werkzeug.utils import cached_property
from werkzeug.datastructures import ImmutableMultiDict

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import BulkAction, ImportRun, Rule, TrackingEvent, WebhookDelivery
from app.portal import session as portal
from app.services import outbound_webhooks
from app.portal.forms import FIELDS as LINE_FIELDS
from tests.factories import PASSWORD, make_account, make_return, make_user
from tests.support.portal import make_line, make_portal_order
from tests.support.shopify_webhooks import SECRET
from tests.support.tracking import connect

HOSTILE = {"nul": "a\x00b", "local_path_nul": "/dashboard/\x00", "surrogate": "\ud800", "superscript": "²",
           "arabic_digits": "١٢", "far_future": "9999-12-31", "year_one": "0001-01-01", "huge": "9" * 30,
           "negative": "-1", "long": "x" * 10_000}
# Bodies for the endpoints that read JSON: every shape but the expected one, and hostile text inside it.
JSON_SHAPES = {"list": "[]", "empty": "{}", "string": '"x"', "null": "null", "number": "1e999",
               "nul": '{"rules": ["\\u0000"], "id": "\\u0000"}', "surrogate": '{"rules": ["\\ud800"], "id": "\\ud800"}',
               "huge": '{"rules": [1e400, 99999999999999999999999], "id": 99999999999999999999999}',
               "deep": "[" * 5000 + "]" * 5000, "broken": '{"rules": '}
_VARIABLE = re.compile(r"<(?:[^:>]+:)?(\w+)>")


def encode(value: str) -> str:
    """Percent-encode every byte of `value` (a lone surrogate as the bytes a client would send)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def url_of(rule: str, values: dict, query: dict | None = None) -> str:
    """The rule's path with each variable replaced (raw, percent-encoded) and an encoded query."""
    path = _VARIABLE.sub(lambda m: encode(str(values[m.group(1)])), rule)
    if query:
        path += "?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in query.items())
    return path


def form_body(fields: dict) -> bytes:
    """An application/x-www-form-urlencoded body with raw (percent-encoded) bytes."""
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in fields.items()).encode()


class World:
    """One shop with a row of each kind a route can name, the ids as its path variables."""

    def __init__(self):
        now = datetime.now(timezone.utc)
        self.account = account = make_account(exchange_enabled=True, webhook_secret_encrypted=encrypt_secret(SECRET))
        self.admin = make_user(account, role="admin")
        self.staff = make_user(account, role="staff")
        removable = make_user(account, role="staff")
        line = make_line(product_id=1, variant_id=2, quantity=2, fulfilled_quantity=2)
        self.order = order = make_portal_order(account, [line])
        ret = make_return(account, email=order.email, order_id=order.id)
        rule = Rule(account_id=account.id, position=1, name="Faulty", outcome="refund",
                    conditions=[{"dimension": "return_reason", "operator": "is", "value": "Faulty"}])
        bulk = BulkAction(account_id=account.id, kind="close", return_ids=[ret.id], total=1)
        run = ImportRun(account_id=account.id, since=now)
        delivery = WebhookDelivery(account_id=account.id, shop_domain=account.shop_domain,
                                   topic="customers/data_request", event_id="e-1",
                                   body=json.dumps({"customer": {"email": order.email}}))
        db.session.add_all([rule, bulk, run, delivery])
        db.session.flush()
        self.connection = connect(account, "generic")
        event = TrackingEvent(account_id=account.id, provider="generic", provider_event_id="p-1",
                              tracking_number="1Z-PARKED", state="IN_TRANSIT", raw={})
        db.session.add(event)
        db.session.commit()
        endpoint, _ = outbound_webhooks.create_endpoint(account, "http://127.0.0.1:9/hooks", ["return.created"])
        outbound = outbound_webhooks.send_test(endpoint)
        self.paths = {"slug": account.slug, "token": portal.status_token(ret), "line_id": line.id,
                      "order_id": order.id, "return_id": ret.id, "item_id": ret.items[0].id, "rule_id": rule.id,
                      "user_id": removable.id, "event_id": event.id, "bulk_id": bulk.id, "run_id": run.id,
                      "delivery_id": delivery.id, "provider": "generic", "filename": "css/app.css",
                      "key": "a" * 32, "kind": "received",
                      "endpoint_id": endpoint.id, "outbound_delivery_id": outbound.id}
        self.line_fields = [f"line-{line.id}-{name}" for name in LINE_FIELDS]
        # Valid values for fields whose page the walk does not read, so that one hostile field
        # is not refused only because the others were missing.
        line_values = {"return": "1", "quantity": "1", "reason": "Too small", "option": "refund", "note": "Tight"}
        self.defaults = {"email": order.email, "order_number": order.name, "password": PASSWORD,
                         "confirm": PASSWORD, "store_name": "Walk Store", "name": "Walk Person",
                         "tracking_number": "1Z999AA10123456784", "rma": ret.rma_number, "order_id": str(order.id),
                         "submission_token": "walk-token-1",
                         **{f"line-{line.id}-{k}": v for k, v in line_values.items()}}
        slug, rid, oid = account.slug, ret.id, order.id
        # Pages whose forms hold valid values for the fields of the routes they post to.
        self.pages = [f"/dashboard/returns/{rid}", f"/dashboard/orders/{oid}", f"/dashboard/orders/{oid}/return",
                      "/dashboard/settings", "/dashboard/staff", "/dashboard/tracking", "/dashboard/rules/new",
                      f"/dashboard/rules/{rule.id}/edit", "/dashboard/connect", f"/r/{slug}/items",
                      f"/r/{slug}/returns/{self.paths['token']}", "/dashboard/settings/webhooks",
                      f"/dashboard/settings/webhooks/{endpoint.id}"]


def path_values(world: World, rule) -> dict:
    """The real values of the rule's variables (the tracking webhook's token is its connection's)."""
    values = dict(world.paths)
    if rule.endpoint == "webhooks.tracking_webhook":
        values["token"] = world.connection.url_token
    return {name: values[name] for name in rule.arguments}


class ReadRecorder(ImmutableMultiDict):
    """Form data that remembers each key a view reads (`reads` is emptied before each request)."""

    reads: set = set()

    def _note(self, key):
        type(self).reads.add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._note(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


class QueryRecorder(ReadRecorder):
    """The query string, remembering its reads apart from the form's."""

    reads: set = set()


class RecordingRequest(Request):
    """A request whose form and query remember the keys read (the forms' fields among them)."""

    parameter_storage_class = ReadRecorder

    @cached_property
    def args(self):
        """The query string, recording."""
        return QueryRecorder(super().args)
