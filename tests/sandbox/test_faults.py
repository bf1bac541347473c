"""Fault injection: latency, 5xx HTML pages, hangs longer than the client timeout."""
from __future__ import annotations

import time

import pytest
import requests

from .conftest import SHOP, gql


def setup(sandbox):
    st = sandbox.store
    st.create_shop(SHOP)
    st.create_app(SHOP, client_id="cid")
    return st.issue_admin_token(SHOP, "cid").token


def call(sandbox, token, timeout=5):
    return requests.post(sandbox.graphql_url(SHOP), json={"query": "{ shop { name } }"},
                         headers={"X-Shopify-Access-Token": token}, timeout=timeout)


def test_error_rate_one_gives_html_5xx_then_recovers(sandbox):
    token = setup(sandbox)
    requests.put(f"{sandbox.url}/_sandbox/shops/{SHOP}/faults", json={"error_rate": 1.0},
                 timeout=5).raise_for_status()
    r = call(sandbox, token)
    assert r.status_code in (500, 502, 503) and r.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r.text
    requests.delete(f"{sandbox.url}/_sandbox/shops/{SHOP}/faults", timeout=5)
    assert call(sandbox, token).status_code == 200


def test_partial_error_rate_is_seeded_and_mixed(sandbox):
    token = setup(sandbox)
    sandbox.store.set_faults(SHOP, error_rate=0.5)
    codes = [call(sandbox, token).status_code for _ in range(30)]
    assert 200 in codes and any(c >= 500 for c in codes)


def test_latency_is_added(sandbox):
    token = setup(sandbox)
    sandbox.store.set_faults(SHOP, latency_ms=150)
    t0 = time.perf_counter()
    call(sandbox, token)
    assert time.perf_counter() - t0 >= 0.15


def test_timeout_hangs_longer_than_the_client_waits(sandbox):
    token = setup(sandbox)
    sandbox.store.set_faults(SHOP, timeout_rate=1.0, timeout_seconds=1.0)
    with pytest.raises(requests.Timeout):
        call(sandbox, token, timeout=0.3)


def test_unknown_fault_is_rejected(sandbox):
    setup(sandbox)
    r = requests.put(f"{sandbox.url}/_sandbox/shops/{SHOP}/faults", json={"chaos": 1}, timeout=5)
    assert r.status_code == 400 and "chaos" in r.json()["error"]


def test_faults_do_not_touch_other_shops(client, store, shop):
    store.create_shop("calm.myshopify.com")
    store.set_faults("calm.myshopify.com", error_rate=1.0)
    assert gql(client, shop["token"], "{ shop { name } }")[0] == 200
