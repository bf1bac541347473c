"""Failure handling at the client boundary against the real sandbox: injected 5xx and hangs,
bad tokens, missing scopes, the 60-day rule, protected customer data, bad GraphQL.

Fault injection uses the sandbox's seeded dice (``SANDBOX_SEED``), restarted by every reset,
so a test meets the same faults whatever ran before it. Backoff sleeps go to the virtual clock;
only the timeout test spends real time (the client's read timeout, a fraction of a second per
attempt).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.shopify import bulk, errors as E, operations as ops
from app.shopify.mapping import order_from_graphql

from .conftest import SHOP, Shop


# --- transient failures --------------------------------------------------------------------------

def test_30_percent_server_errors_are_retried_to_the_same_result(api_shop, control):
    control.seed(60, days=10, seed=12)
    clean = list(ops.iter_orders(api_shop.client()))
    api_shop.server.clock.advance(60)  # a full bucket again: only the injected faults are retried
    control.set_faults(error_rate=0.3)
    client = api_shop.client()

    flaky = list(ops.iter_orders(client))
    info = ops.fetch_shop_info(client)

    assert flaky == clean and info.name == "Acme Outdoor"
    session = api_shop.sessions[-1]
    errors = sum(1 for status, _c, _e in session.answers if status >= 500)
    calls = len(session.answers) - errors
    assert calls == 60 // ops.ORDERS_PAGE_SIZE + 1
    assert errors >= 3  # the fault really fired (about 30% of attempts)
    # Bounded: no call needed more than max_retries retries in a row.
    longest, run = 0, 0
    for status, _c, _e in session.answers:
        run = run + 1 if status >= 500 else 0
        longest = max(longest, run)
    assert longest <= client.max_retries


def test_a_reset_sandbox_meets_the_same_faults_again(sandbox, control):
    """Without this a fault test's outcome would depend on the tests that ran before it."""
    def statuses():
        sandbox.store.reset()
        control.create_shop()
        control.create_app()
        control.set_faults(error_rate=0.5)
        api_shop = Shop(domain=SHOP, token=control.admin_token(), server=sandbox, control=control)
        client = api_shop.client(max_retries=0)
        outcome = []
        for _ in range(12):
            try:
                ops.fetch_shop_info(client)
                outcome.append("ok")
            except E.ShopifyServerError as exc:
                outcome.append(exc.status)
        return outcome

    first = statuses()
    assert "ok" in first and any(s != "ok" for s in first)
    assert statuses() == first


def test_server_errors_on_every_attempt_end_in_a_typed_error_after_bounded_retries(
        api_shop, control, sandbox):
    control.set_faults(error_rate=1.0)
    client = api_shop.client(max_retries=4)
    started = sandbox.clock.now()

    with pytest.raises(E.ShopifyServerError) as caught:
        ops.fetch_shop_info(client)

    # The sandbox answers like Shopify's edge: an HTML page, not JSON.
    assert caught.value.status in (500, 502, 503) and "<!DOCTYPE html>" in caught.value.body
    assert api_shop.sessions[-1].attempts == 5  # first try + max_retries
    assert sandbox.clock.now() - started <= client.max_retry_seconds


def test_a_mutation_is_not_retried_after_a_server_error(api_shop, control):
    """It may have run: retrying a subscription create could deliver every webhook twice."""
    control.set_faults(error_rate=1.0)
    with pytest.raises(E.ShopifyServerError):
        ops.create_webhook_subscription(api_shop.client(), "orders/create", "https://a.example/h")
    assert api_shop.sessions[-1].attempts == 1


def test_a_hanging_shop_gives_a_typed_timeout_after_bounded_retries(api_shop, control):
    # The sandbox hangs 0.5 s (real time) then answers 504; the client gives up after 0.15 s.
    control.set_faults(timeout_rate=1.0, timeout_seconds=0.5)
    client = api_shop.client(timeout=(1.0, 0.15), max_retries=3)
    with pytest.raises(E.ShopifyTimeoutError):
        ops.fetch_shop_info(client)
    assert api_shop.sessions[-1].attempts == 4 and api_shop.sessions[-1].answers == []

    with pytest.raises(E.ShopifyTimeoutError, match="mutation not retried"):
        ops.create_webhook_subscription(api_shop.client(timeout=(1.0, 0.15)), "orders/create",
                                        "https://a.example/h")
    assert api_shop.sessions[-1].attempts == 1


# --- credentials and scopes ----------------------------------------------------------------------

def test_a_wrong_token_is_a_revoked_token_error_without_retries(api_shop):
    client = api_shop.client("shpat_" + "0" * 32)
    with pytest.raises(E.RevokedTokenError) as caught:
        ops.fetch_shop_info(client)
    assert caught.value.status == 401 and "Invalid API key or access token" in caught.value.body
    assert api_shop.sessions[-1].attempts == 1


def test_an_uninstalled_app_token_is_revoked(api_shop, control):
    client = api_shop.client()
    ops.fetch_shop_info(client)
    control.call("POST", f"/shops/{api_shop.domain}/apps/boomerang-test-app/uninstall")
    with pytest.raises(E.RevokedTokenError):
        ops.fetch_shop_info(client)


@pytest.mark.parametrize("scopes, call, missing", [
    (["read_products"], lambda c: list(ops.iter_orders(c)), "read_orders"),
    (["read_products"], lambda c: ops.fetch_order(c, 1), "read_orders"),
    (["read_orders"], lambda c: ops.fetch_product_variants(c, 1), "read_products"),
    (["read_products"], lambda c: ops.create_webhook_subscription(
        c, "orders/create", "https://a.example/h"), "read_orders"),
])
def test_a_missing_scope_is_named(api_shop, control, scopes, call, missing):
    client = api_shop.client(control.admin_token(scopes=scopes))
    with pytest.raises(E.MissingScopeError) as caught:
        call(client)
    assert caught.value.scope == missing and missing in str(caught.value)
    assert api_shop.sessions[-1].attempts == 1


def test_orders_older_than_60_days_need_read_all_orders(api_shop, control, sandbox):
    control.seed(90, days=120, seed=13)
    raw = api_shop.record.order_list
    horizon = sandbox.clock.now() - 60 * 86400
    recent = [o.id for o in raw if o.created_at >= horizon]
    old = next(o.id for o in raw if o.created_at < horizon)
    assert 0 < len(recent) < len(raw)

    limited = api_shop.client(control.admin_token(scopes=["read_orders", "read_products"]))
    assert [o.shopify_order_id for o in ops.iter_orders(limited)] == recent
    assert ops.fetch_order(limited, old) is None
    op = bulk.wait_for_bulk_operation(limited, bulk.start_bulk_orders(limited).id)
    assert [order_from_graphql(n).shopify_order_id
            for n in bulk.iter_bulk_orders(limited, op)] == recent

    everything = api_shop.client()  # holds read_all_orders
    assert len(list(ops.iter_orders(everything))) == len(raw)
    assert ops.fetch_order(everything, old).shopify_order_id == old


def test_without_protected_data_customer_fields_are_none(api_shop, control):
    placed = control.place_order(email="pat@example.com", country="CA")
    visible = ops.fetch_order(api_shop.client(), placed["id"])
    assert visible.email and visible.customer_name and visible.shipping_address

    control.patch_shop(protected_data=False)
    hidden = ops.fetch_order(api_shop.client(), placed["id"])
    assert (hidden.email, hidden.customer_first_name, hidden.customer_last_name,
            hidden.customer_name, hidden.shipping_address) == (None, None, None, None, None)
    # What a return still needs survives: the order, its lines and money.
    assert (hidden.name, hidden.lines, hidden.total_price) == (
        visible.name, visible.lines, visible.total_price)
    assert hidden.customer_id == visible.customer_id


# --- bad input -----------------------------------------------------------------------------------

def test_malformed_graphql_is_a_typed_error_with_shopifys_message(api_shop):
    client = api_shop.client()
    with pytest.raises(E.GraphQLErrors) as caught:
        client.execute("query { shop { name }")
    assert caught.value.codes == ["PARSE_ERROR"]
    assert caught.value.messages[0].startswith("Parse error:")
    assert api_shop.sessions[-1].attempts == 1


def test_an_unknown_field_is_a_typed_error_naming_it(api_shop):
    client = api_shop.client()
    with pytest.raises(E.GraphQLErrors) as caught:
        client.execute("query { shop { name refundPolicyText } }")
    assert caught.value.messages == ["Field 'refundPolicyText' doesn't exist on type 'Shop'"]
    assert caught.value.codes == ["undefinedField"]
    assert api_shop.sessions[-1].attempts == 1


def test_a_page_over_the_single_query_cost_limit_is_refused(api_shop, control):
    control.seed(3, days=1, seed=14)
    with pytest.raises(E.GraphQLErrors) as caught:
        list(ops.iter_orders(api_shop.client(), page_size=50))
    assert caught.value.codes == ["MAX_COST_EXCEEDED"]
    assert "exceeds the single query max cost limit (1000)" in caught.value.messages[0]


def test_an_order_id_of_another_type_is_refused_before_sending(api_shop):
    with pytest.raises(E.ShopifyDataError):
        ops.fetch_order(api_shop.client(), "gid://shopify/Product/1")
    assert api_shop.sessions[-1].attempts == 0


def test_a_naive_datetime_filter_is_refused_before_sending(api_shop):
    with pytest.raises(ValueError, match="aware datetime"):
        list(ops.iter_orders(api_shop.client(), created_at_min=datetime(2026, 1, 1)))
    assert list(ops.iter_orders(api_shop.client(), created_at_min=datetime(
        2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))))) == []
