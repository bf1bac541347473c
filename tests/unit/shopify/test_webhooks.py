"""Webhook HMAC against every published vector; header parsing."""
from datetime import datetime, timezone

import pytest
from werkzeug.datastructures import Headers

from app.shopify.errors import ShopifyDataError
from app.shopify.webhooks import compute_webhook_hmac, parse_webhook_headers, verify_webhook
from tests.unit.shopify.conftest import load_fixture

VECTORS = load_fixture("hmac_vectors.json")["webhook_vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_webhook_vector_verifies(vector):
    body = vector["body"].encode("utf-8")
    assert compute_webhook_hmac(body, vector["secret"]) == vector["expected_base64"]
    assert verify_webhook(body, vector["expected_base64"], vector["secret"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_tampered_body_or_wrong_secret_fails(vector):
    body = vector["body"].encode("utf-8")
    assert not verify_webhook(body + b" ", vector["expected_base64"], vector["secret"])
    assert not verify_webhook(body, vector["expected_base64"], vector["secret"] + "x")


def test_lower_cased_digest_is_rejected():
    vector = next(v for v in VECTORS if "expected_as_published_lowercased" in v)
    body = vector["body"].encode()
    assert not verify_webhook(body, vector["expected_as_published_lowercased"], vector["secret"])


def test_rotation_accepts_previous_secret():
    vector = VECTORS[0]
    body = vector["body"].encode()
    assert verify_webhook(body, vector["expected_base64"], ["new-secret", vector["secret"]])
    assert not verify_webhook(body, vector["expected_base64"], ["new-secret", "older"])
    assert not verify_webhook(body, vector["expected_base64"], [])


def test_missing_header_and_str_body():
    vector = VECTORS[0]
    assert not verify_webhook(vector["body"].encode(), None, vector["secret"])
    assert not verify_webhook(vector["body"].encode(), "", vector["secret"])
    with pytest.raises(TypeError):
        verify_webhook(vector["body"], vector["expected_base64"], vector["secret"])


def test_headers_parse_case_insensitively():
    raw = {
        "x-shopify-topic": "orders/create", "X-Shopify-Shop-Domain": "Demo.myshopify.com",
        "X-SHOPIFY-EVENT-ID": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Triggered-At": "2023-03-29T18:00:27.877041743Z",
        "X-Shopify-API-Version": "2026-07", "X-Shopify-Hmac-Sha256": "abc=",
    }
    for headers in (raw, Headers(list(raw.items()))):
        parsed = parse_webhook_headers(headers)
        assert parsed.topic == "orders/create"
        assert parsed.shop_domain == "demo.myshopify.com"
        assert parsed.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
        assert parsed.webhook_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
        assert parsed.triggered_at == datetime(2023, 3, 29, 18, 0, 27, 877041, tzinfo=timezone.utc)
        assert parsed.api_version == "2026-07" and parsed.hmac == "abc="


def test_absent_headers_are_none_and_bad_time_raises():
    assert parse_webhook_headers({}).topic is None
    with pytest.raises(ShopifyDataError):
        parse_webhook_headers({"X-Shopify-Triggered-At": "yesterday"})
