"""Control API, CLI, HTML page and state-file persistence."""
from __future__ import annotations

import pytest

from sandbox import create_app
from sandbox.clock import VirtualClock

from .conftest import SHOP, START


def test_control_api_round_trip(client):
    r = client.post("/_sandbox/shops", json={"domain": SHOP, "plan": "advanced",
                                             "currency": "EUR", "protected_data": False})
    assert r.status_code == 201 and r.get_json()["api_origin"].endswith(f"/store/{SHOP}")
    app_ = client.post(f"/_sandbox/shops/{SHOP}/apps",
                       json={"scopes": "read_orders,read_products"}).get_json()
    assert app_["client_secret"].startswith("shpss_") and "read_orders" in app_["scopes"]
    tok = client.post(f"/_sandbox/shops/{SHOP}/apps/{app_['client_id']}/admin-token",
                      json={}).get_json()
    assert tok["access_token"].startswith("shpat_")
    assert client.post(f"/_sandbox/shops/{SHOP}/seed",
                       json={"orders": 25, "days": 10, "seed": 3}).get_json()["created"] == 25
    placed = client.post(f"/_sandbox/shops/{SHOP}/orders", json={"country": "CA"}).get_json()
    assert placed["name"].startswith("#")
    listed = client.get(f"/_sandbox/shops/{SHOP}/orders?limit=3").get_json()["orders"]
    assert listed[0]["id"] == placed["id"]
    upd = client.patch(f"/_sandbox/shops/{SHOP}/orders/{placed['id']}",
                       json={"fulfill": True, "tags": "x, y"}).get_json()
    assert upd["fulfillment_status"] == "FULFILLED" and upd["tags"] == ["x", "y"]
    assert client.get(f"/_sandbox/shops/{SHOP}/products").get_json()["products"]
    assert client.get(f"/_sandbox/shops/{SHOP}/webhooks").get_json() == {"subscriptions": []}
    assert client.get(f"/_sandbox/shops/{SHOP}/deliveries").get_json() == {"deliveries": []}
    assert client.put(f"/_sandbox/shops/{SHOP}/faults",
                      json={"latency_ms": 5}).get_json()["latency_ms"] == 5
    assert client.patch(f"/_sandbox/shops/{SHOP}", json={"plan": "plus"}).get_json()["plan"] == "plus"
    assert client.post("/_sandbox/clock/advance", json={"seconds": 10}).get_json()["now"] == START + 10
    assert client.post("/_sandbox/reset").get_json() == {"ok": True}
    assert client.get("/_sandbox/").get_json() == {"shops": []}


@pytest.mark.parametrize("method,url,body", [
    ("post", "/_sandbox/shops", {"domain": ""}),
    ("post", "/_sandbox/shops", {"domain": "x.myshopify.com", "plan": "gold"}),
    ("post", "/_sandbox/shops/none.myshopify.com/seed", {"orders": 1}),
    ("post", "/_sandbox/shops/none.myshopify.com/orders", {}),
    ("patch", "/_sandbox/shops/none.myshopify.com/orders/1", {}),
    ("post", "/_sandbox/shops", "not json"),
])
def test_control_api_bad_input_is_4xx(client, method, url, body):
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) \
        else {"json": body}
    r = getattr(client, method)(url, **kwargs)
    assert 400 <= r.status_code < 500 and "error" in r.get_json()


def test_cli_commands(app, store):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["shop", "create", SHOP, "--plan", "plus", "--currency", "GBP"])
    assert r.exit_code == 0, r.output
    assert store.get_shop(SHOP).plan == "plus"
    r = runner.invoke(args=["seed", SHOP, "--orders", "40", "--days", "7", "--seed", "2"])
    assert r.exit_code == 0 and len(store.get_shop(SHOP).orders) == 40
    r = runner.invoke(args=["app", "create", SHOP, "--client-id", "c1", "--admin-token"])
    assert r.exit_code == 0 and "shpat_" in r.output
    r = runner.invoke(args=["order", "place", SHOP, "--email", "z@example.com"])
    assert r.exit_code == 0 and "z@example.com" in r.output
    r = runner.invoke(args=["faults", "set", SHOP, "--error-rate", "0.2",
                            "--out-of-order-webhooks"])
    assert r.exit_code == 0
    assert store.get_shop(SHOP).faults["error_rate"] == 0.2
    assert store.get_shop(SHOP).faults["out_of_order_webhooks"] is True
    assert runner.invoke(args=["faults", "clear", SHOP]).exit_code == 0
    r = runner.invoke(args=["order", "place", "nope.myshopify.com"])
    assert r.exit_code != 0


def test_cli_against_a_running_server(sandbox):
    runner = sandbox.app.test_cli_runner()
    r = runner.invoke(args=["shop", "create", SHOP, "--url", sandbox.url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["order", "place", SHOP, "--url", sandbox.url])
    assert r.exit_code == 0 and len(sandbox.store.get_shop(SHOP).orders) == 1


def test_html_page_lists_and_places_orders(client, store):
    store.create_shop(SHOP, "Demo Store")
    store.create_app(SHOP, client_id="cid")
    html = client.get("/").get_data(as_text=True)
    assert "Demo Store" in html and "Place an order" in html and '<label for="email-1">' in html
    r = client.post(f"/shops/{SHOP}/place-order", data={"email": "ui@example.com"})
    assert r.status_code == 303
    html = client.get("/").get_data(as_text=True)
    assert "ui@example.com" in html
    assert client.post("/shops/nope.myshopify.com/place-order").status_code == 404


@pytest.mark.parametrize("suffix", [".pkl", ".json"])
def test_state_survives_a_restart(tmp_path, suffix):
    path = str(tmp_path / f"state{suffix}")
    clock = VirtualClock(START)
    a = create_app({"SANDBOX_STATE_FILE": path, "SANDBOX_CLOCK": clock})
    st = a.extensions["sandbox"]
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    token = st.issue_admin_token(SHOP, "cid").token
    st.seed(SHOP, 30, 5, seed=1)
    st.update_order(SHOP, st.get_shop(SHOP).order_list[0].id, tags="kept")
    st.save()
    st.close()
    b = create_app({"SANDBOX_STATE_FILE": path, "SANDBOX_CLOCK": clock})
    st2 = b.extensions["sandbox"]
    assert st2.get_shop(SHOP).order_list == st.get_shop(SHOP).order_list
    r = b.test_client().post(f"/store/{SHOP}/admin/api/2026-04/graphql.json",
                             json={"query": '{ orders(first: 5, query: "tag:kept") { nodes { id } } }'},
                             headers={"X-Shopify-Access-Token": token})
    assert len(r.get_json()["data"]["orders"]["nodes"]) == 1
    st2.close()
