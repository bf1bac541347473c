"""`make demo` run again over the sandbox state of an earlier demo, which gave Demo Rules Co an app
of its own: the store moves to the one Boomerang app and the earlier app is uninstalled without a
word to Boomerang (its subscriptions deleted first, so no app/uninstalled, which the store's
previous secret would still verify, disconnects the store), and each event reaches Boomerang once,
signed with the one app's secret."""
import base64
import hashlib
import hmac
import time

import requests

from app.crypto import decrypt_secret
from app.extensions import db
from app.models import Account
from tests.support.connect import use_virtual_time
from tests.sandbox_fixtures import sandbox, sandbox_server  # noqa: F401  (fixtures)


def control(sandbox, method: str, path: str, **kwargs):
    response = requests.request(method, f"{sandbox.url}/_sandbox{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def test_a_demo_over_an_earlier_demos_sandbox_moves_demo_rules_co_to_the_one_app_quietly(
        app, sandbox, monkeypatch, drain_jobs, demo_jobs_in_process):
    import app.demo.sandbox as demo
    import app.demo.stores as demo_rules
    from app.demo.stores import EARLIER_CLIENT_ID, RULES_SHOP, connect_rules_demo

    use_virtual_time(monkeypatch, sandbox)
    sandbox.clock.set(time.time())
    with monkeypatch.context() as earlier:  # the earlier demo: the shop's own app
        earlier.setattr(demo, "DEMO_CLIENT_ID", EARLIER_CLIENT_ID)
        earlier.setattr(demo_rules, "retire_earlier_app", lambda *args: None)
        connect_rules_demo(sandbox.url)
        drain_jobs()
    subscribed = control(sandbox, "GET", f"/shops/{RULES_SHOP}/webhooks")["subscriptions"]
    assert subscribed and {s["client_id"] for s in subscribed} == {EARLIER_CLIENT_ID}

    user, _facts = connect_rules_demo(sandbox.url)
    drain_jobs()
    sandbox.store.webhooks.flush(5)
    db.session.expire_all()
    account = db.session.get(Account, user.account_id)
    boomerang = control(sandbox, "GET", f"/apps/{demo.DEMO_CLIENT_ID}")
    installed = {a["client_id"]: a["installed"] for a in control(sandbox, "GET", f"/shops/{RULES_SHOP}")["apps"]}
    assert installed == {EARLIER_CLIENT_ID: False, demo.DEMO_CLIENT_ID: True}
    assert account.is_connected and decrypt_secret(account.webhook_secret_encrypted) == boomerang["client_secret"]
    subscribed = control(sandbox, "GET", f"/shops/{RULES_SHOP}/webhooks")["subscriptions"]
    assert {s["client_id"] for s in subscribed} == {demo.DEMO_CLIENT_ID}
    deliveries = control(sandbox, "GET", f"/shops/{RULES_SHOP}/deliveries?limit=500")["deliveries"]
    assert "app/uninstalled" not in {d["topic"] for d in deliveries}

    control(sandbox, "POST", f"/shops/{RULES_SHOP}/orders", json={"email": "once@example.com"})
    created = [d for d in control(sandbox, "GET", f"/shops/{RULES_SHOP}/deliveries?limit=5&bodies=1")["deliveries"]
               if d["topic"] == "orders/create" and "once@example.com" in d["body"]]
    assert len(created) == 1
    digest = base64.b64encode(hmac.new(boomerang["client_secret"].encode(), created[0]["body"].encode(),
                                       hashlib.sha256).digest()).decode()
    assert created[0]["headers"]["X-Shopify-Hmac-Sha256"] == digest
