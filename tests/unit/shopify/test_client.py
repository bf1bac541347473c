"""Client behaviour over real HTTP against the stub: pacing, throttling, retries, typed errors."""
import socket

import pytest

from app.shopify import errors as E
from app.shopify.client import DEFAULT_API_VERSION, Pacing, ShopifyClient
from tests.unit.shopify.conftest import SHOP
from tests.unit.shopify.stub import Reply, graphql

QUERY = "query { shop { name } }"
MUTATION = 'mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { userErrors { message } } }'
KEYED = ('mutation { refundCreate(input: {orderId: "gid://shopify/Order/1"}) '
         '@idempotent(key: "k-1") { userErrors { message } } }')
SHOP_DATA = {"shop": {"name": "Demo"}}


def test_posts_to_versioned_endpoint_with_token_header(stub, client):
    stub.add(graphql(SHOP_DATA))
    assert client.execute(QUERY, {"a": 1}) == SHOP_DATA
    request = stub.requests[0]
    assert request.method == "POST"
    assert request.path == f"/store/{SHOP}/admin/api/{DEFAULT_API_VERSION}/graphql.json"
    assert request.headers["x-shopify-access-token"] == "shpat_" + "a" * 32
    assert request.json == {"query": QUERY, "variables": {"a": 1}}


def test_default_origin_is_the_shop_domain():
    client = ShopifyClient(SHOP, "t", api_version="2026-01")
    assert client.endpoint == "https://demo.myshopify.com/admin/api/2026-01/graphql.json"


def test_paces_next_query_until_its_cost_fits_the_bucket(stub, client, clock):
    # 110-point query left 10 points; restore 50/s -> wait (110 - 10) / 50 = 2 s before re-running.
    stub.add(graphql(SHOP_DATA, cost=(110, 10, 1000, 50)), graphql(SHOP_DATA, cost=(110, 900, 1000, 50)))
    client.execute(QUERY)
    assert clock.sleeps == []
    client.execute(QUERY)
    assert clock.sleeps == [pytest.approx(2.0)]


def test_a_new_client_of_the_same_shop_paces_from_what_the_last_one_saw(stub, make_client, clock):
    # Issuing makes a client per item: sharing the shop's Pacing, the second client waits for
    # the bucket before its first call instead of being answered THROTTLED.
    shared = Pacing()
    stub.add(graphql(SHOP_DATA, cost=(110, 10, 1000, 50)), graphql(SHOP_DATA, cost=(110, 900, 1000, 50)))
    make_client(pacing=shared).execute(QUERY)
    make_client(pacing=shared).execute(QUERY)
    assert clock.sleeps == [pytest.approx(2.0)]
    assert len(stub.requests) == 2


def test_no_pacing_when_the_bucket_has_refilled(stub, client, clock):
    stub.add(graphql(SHOP_DATA, cost=(110, 10, 1000, 50)), graphql(SHOP_DATA))
    client.execute(QUERY)
    clock.now += 5  # 5 s later the bucket holds 260 points >= 110
    client.execute(QUERY)
    assert clock.sleeps == []


def test_throttled_200_waits_for_the_refill_and_retries(stub, client, clock):
    throttled = graphql(errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        cost=(500, 100, 1000, 100))
    stub.add(throttled, graphql(SHOP_DATA))
    assert client.execute(QUERY) == SHOP_DATA
    assert len(stub.requests) == 2
    assert clock.sleeps == [pytest.approx(4.0)]  # (500 - 100) / 100


def test_throttled_mutation_is_retried_because_it_never_ran(stub, client):
    stub.add(graphql(errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                     cost=(10, 0, 1000, 50)), graphql({"tagsAdd": {"userErrors": []}}))
    assert client.execute(MUTATION) == {"tagsAdd": {"userErrors": []}}
    assert len(stub.requests) == 2


def test_429_honours_retry_after(stub, client, clock):
    stub.add(Reply(429, {"errors": "Throttled"}, {"Retry-After": "2.5"}), graphql(SHOP_DATA))
    assert client.execute(QUERY) == SHOP_DATA
    assert clock.sleeps == [2.5]


def test_throttling_gives_up_when_the_budget_is_spent(stub, make_client):
    client = make_client(max_retries=2)
    stub.add(*[Reply(429, {"errors": "Throttled"}, {"Retry-After": "1"})] * 3)
    with pytest.raises(E.ThrottledError):
        client.execute(QUERY)
    assert len(stub.requests) == 3


def test_5xx_retried_with_exponential_backoff(stub, client, clock):
    stub.add(Reply(502, "<html>bad gateway</html>"), Reply(503, "busy"), graphql(SHOP_DATA))
    assert client.execute(QUERY) == SHOP_DATA
    # backoff_base 0.5, doubling; equal jitter with random()=0.5 -> 0.75 x ceiling
    assert clock.sleeps == [pytest.approx(0.375), pytest.approx(0.75)]


def test_5xx_retries_bounded_in_count(stub, make_client):
    client = make_client(max_retries=3)
    stub.handler = lambda request: Reply(500, "oops")
    with pytest.raises(E.ShopifyServerError) as info:
        client.execute(QUERY)
    assert info.value.status == 500
    assert len(stub.requests) == 4


def test_5xx_retries_bounded_in_time(stub, make_client, clock):
    client = make_client(max_retries=50, max_retry_seconds=10.0, random_fn=lambda: 1.0)
    stub.handler = lambda request: Reply(503, "busy")
    started = clock.now
    with pytest.raises(E.ShopifyServerError):
        client.execute(QUERY)
    assert clock.now - started <= 10.0
    assert 3 <= len(stub.requests) < 10  # waits 0.5, 1, 2, 4 -> the next 8 would pass 10 s


def test_mutation_not_retried_after_5xx_without_key(stub, client):
    stub.add(Reply(503, "busy"), graphql({"tagsAdd": {"userErrors": []}}))
    with pytest.raises(E.ShopifyServerError):
        client.execute(MUTATION)
    assert len(stub.requests) == 1


def test_mutation_with_idempotency_key_is_retried(stub, client):
    stub.add(Reply(503, "busy"), graphql({"refundCreate": {"userErrors": []}}))
    assert client.execute(KEYED, idempotent=True) == {"refundCreate": {"userErrors": []}}
    assert len(stub.requests) == 2


def test_idempotent_flag_requires_the_directive(client):
    with pytest.raises(ValueError):
        client.execute(MUTATION, idempotent=True)


def test_read_timeout_retried_for_queries(stub, make_client):
    client = make_client(timeout=(1.0, 0.2))
    stub.add(Reply(200, {"data": SHOP_DATA}, delay=0.6), graphql(SHOP_DATA))
    assert client.execute(QUERY) == SHOP_DATA
    assert len(stub.requests) == 2


def test_read_timeout_not_retried_for_mutations(stub, make_client):
    client = make_client(timeout=(1.0, 0.2))
    stub.add(Reply(200, {"data": {}}, delay=0.6), graphql({}))
    with pytest.raises(E.ShopifyTimeoutError, match="may have run"):
        client.execute(MUTATION)
    assert len(stub.requests) == 1


def test_connection_refused_is_retried_then_typed(clock):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ShopifyClient(SHOP, "t", api_origin=f"http://127.0.0.1:{port}", sleep=clock.sleep,
                           monotonic=clock.monotonic, max_retries=2, random_fn=lambda: 0.5)
    with pytest.raises(E.ShopifyConnectionError):
        client.execute(QUERY)
    assert len(clock.sleeps) == 2


def test_401_is_revoked_token(stub, client):
    stub.add(Reply(401, {"errors": "[API] Invalid API key or access token"}))
    with pytest.raises(E.RevokedTokenError):
        client.execute(QUERY)


def test_401_renews_once_through_hook(stub, make_client):
    calls = []
    client = make_client(on_unauthorized=lambda: calls.append(1) or "shpat_new")
    stub.add(Reply(401, {"errors": "expired"}), graphql(SHOP_DATA))
    assert client.execute(QUERY) == SHOP_DATA
    assert stub.requests[1].headers["x-shopify-access-token"] == "shpat_new"
    assert calls == [1]


def test_401_after_renewal_raises(stub, make_client):
    calls = []
    client = make_client(on_unauthorized=lambda: calls.append(1) or "shpat_new")
    stub.add(Reply(401, {"errors": "x"}), Reply(401, {"errors": "x"}))
    with pytest.raises(E.RevokedTokenError):
        client.execute(QUERY)
    assert calls == [1]


def test_403_names_the_missing_scope(stub, client):
    stub.add(Reply(403, {"errors": "[API] This action requires merchant approval for read_all_orders scope."}))
    with pytest.raises(E.MissingScopeError) as info:
        client.execute(QUERY)
    assert info.value.scope == "read_all_orders"


def test_access_denied_error_names_the_scope(stub, client):
    stub.add(graphql({"orders": None}, errors=[{
        "message": "Access denied for orders field. Required access: `read_orders` access scope.",
        "extensions": {"code": "ACCESS_DENIED"}}]))
    with pytest.raises(E.MissingScopeError) as info:
        client.execute(QUERY)
    assert info.value.scope == "read_orders"


def test_402_shop_unavailable(stub, client):
    stub.add(Reply(402, {"errors": "Unavailable Shop"}))
    with pytest.raises(E.ShopUnavailableError):
        client.execute(QUERY)


def test_html_error_page_is_a_clear_error(stub, client):
    stub.add(Reply(200, "<!DOCTYPE html><html><body>Maintenance</body></html>",
                   {"Content-Type": "text/html"}))
    with pytest.raises(E.NonJSONResponseError) as info:
        client.execute(QUERY)
    assert info.value.content_type.startswith("text/html")
    assert "Maintenance" in str(info.value)


def test_malformed_json_is_a_clear_error(stub, client):
    stub.add(Reply(200, '{"data": {"shop": ', {"Content-Type": "application/json"}))
    with pytest.raises(E.NonJSONResponseError):
        client.execute(QUERY)


def test_graphql_errors_carry_messages(stub, client):
    stub.add(graphql(errors=[{"message": "Field 'nme' doesn't exist on type 'Shop'"},
                             {"message": "second"}]))
    with pytest.raises(E.GraphQLErrors) as info:
        client.execute(QUERY)
    assert info.value.messages == ["Field 'nme' doesn't exist on type 'Shop'", "second"]
    assert len(stub.requests) == 1


def test_other_4xx_is_typed(stub, client):
    stub.add(Reply(404, {"errors": "Not Found"}))
    with pytest.raises(E.ShopifyHTTPError) as info:
        client.execute(QUERY)
    assert info.value.status == 404


def test_every_error_is_a_shopify_error():
    for name in dir(E):
        obj = getattr(E, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, E.ShopifyError), name
