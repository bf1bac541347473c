"""Orders: fields, pagination, query filters, search lag, the 60-day rule, scopes, PII."""
from __future__ import annotations

import pytest

from sandbox.calc import iso

from .conftest import SHOP, START, gql

DAY = 86400


def page_all(client, token, query=None, first=50, sort="PROCESSED_AT", reverse=False,
             between=None):
    q = """query($after: String, $q: String, $sort: OrderSortKeys, $rev: Boolean) {
      orders(first: %d, after: $after, query: $q, sortKey: $sort, reverse: $rev) {
        pageInfo { hasNextPage endCursor } edges { cursor node { id createdAt updatedAt } } } }""" % first
    after, out = None, []
    while True:
        body = gql(client, token, q, {"after": after, "q": query, "sort": sort, "rev": reverse})[1]
        assert "errors" not in body, body
        conn = body["data"]["orders"]
        out += [e["node"] for e in conn["edges"]]
        if between:
            between()
        if not conn["pageInfo"]["hasNextPage"]:
            return out
        after = conn["pageInfo"]["endCursor"]


def test_pagination_returns_every_order_exactly_once(client, store, shop):
    store.seed(SHOP, 237, 50, seed=3)
    nodes = page_all(client, shop["token"])
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == 237
    assert [n["createdAt"] for n in nodes] == sorted(n["createdAt"] for n in nodes)
    rev = page_all(client, shop["token"], reverse=True, first=40)
    assert [n["id"] for n in rev] == ids[::-1]
    by_updated = page_all(client, shop["token"], sort="UPDATED_AT", first=60)
    assert sorted(n["id"] for n in by_updated) == sorted(ids)


def test_orders_placed_during_pagination_do_not_duplicate_or_skip(client, store, shop, clock):
    store.seed(SHOP, 120, 20, seed=5)
    placed = []

    def between():
        clock.advance(1)
        placed.append(store.place_order(SHOP, seed=len(placed)).id)

    nodes = page_all(client, shop["token"], first=25, between=between)
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids))
    # Orders placed later sort after the cursor, so all but the very last are picked up.
    assert len(ids) >= 120 + len(placed) - 1


def test_page_size_over_250_is_refused(client, shop):
    body = gql(client, shop["token"], "{ orders(first: 251) { nodes { id } } }")[1]
    assert body["errors"]


@pytest.mark.parametrize("fmt", ["created_at:>={d}", "created_at:>='{d}'", 'created_at:>="{d}"',
                                 "created_at:>={d}T00:00:00Z", "processed_at:>={d}"])
def test_created_at_filter_forms(client, store, shop, fmt):
    store.seed(SHOP, 100, 30, seed=6)
    cut = START - 10 * DAY
    day = iso(cut)[:10]
    expected = {o.id for o in store.get_shop(SHOP).order_list
                if o.created_at >= cut - (cut % DAY)}
    got = {int(n["id"].rsplit("/", 1)[1])
           for n in page_all(client, shop["token"], query=fmt.format(d=day))}
    assert got == expected and 0 < len(got) < 100


def test_updated_at_filter_and_combined_terms(client, store, shop, clock):
    store.seed(SHOP, 60, 20, seed=7)
    clock.advance(3600)
    target = store.get_shop(SHOP).order_list[5]
    store.update_order(SHOP, target.id, tags="vip, returned")
    since = iso(START + 1800)
    nodes = page_all(client, shop["token"], query=f"updated_at:>'{since}'")
    assert [n["id"] for n in nodes] == [f"gid://shopify/Order/{target.id}"]
    nodes = page_all(client, shop["token"], query=f"updated_at:>{since} AND tag:returned")
    assert len(nodes) == 1
    assert page_all(client, shop["token"], query=f"updated_at:>{since} -tag:returned") == []
    name = f"#{target.number}"
    nodes = page_all(client, shop["token"], query=f"name:{name}")
    assert [n["id"] for n in nodes] == [f"gid://shopify/Order/{target.id}"]


def test_search_lags_writes_but_direct_reads_do_not(client, store, shop, clock):
    store.set_faults(SHOP, search_lag_seconds=5)
    order = store.place_order(SHOP, seed=1)
    gid = f"gid://shopify/Order/{order.id}"
    q = f"created_at:>={iso(START - 60)}"
    assert page_all(client, shop["token"], query=q) == []
    assert [n["id"] for n in page_all(client, shop["token"])] == [gid]  # unfiltered: at once
    assert gql(client, shop["token"], f'{{ order(id: "{gid}") {{ id }} }}')[1]["data"]["order"]
    clock.advance(5)
    assert [n["id"] for n in page_all(client, shop["token"], query=q)] == [gid]
    # An update is visible to search only after the lag, too.
    clock.advance(100)
    store.update_order(SHOP, order.id, tags="late")
    assert page_all(client, shop["token"], query="tag:late") == []
    clock.advance(5)
    assert len(page_all(client, shop["token"], query="tag:late")) == 1


def test_orders_older_than_60_days_need_read_all_orders(client, store, shop):
    store.seed(SHOP, 200, 120, seed=8)
    orders = store.get_shop(SHOP).order_list
    old = [o for o in orders if o.created_at < START - 60 * DAY]
    assert old
    limited = store.issue_admin_token(SHOP, "cid", scopes=["read_orders"]).token
    seen = page_all(client, limited)
    assert len(seen) == len(orders) - len(old)
    gid = f"gid://shopify/Order/{old[0].id}"
    q = f'{{ order(id: "{gid}") {{ id }} }}'
    assert gql(client, limited, q)[1]["data"]["order"] is None
    assert gql(client, shop["token"], q)[1]["data"]["order"]["id"] == gid
    assert len(page_all(client, shop["token"])) == len(orders)


@pytest.mark.parametrize("query,scope", [
    ("{ orders(first: 1) { nodes { id } } }", "read_orders"),
    ('{ order(id: "gid://shopify/Order/1") { id } }', "read_orders"),
    ('{ product(id: "gid://shopify/Product/1") { id } }', "read_products"),
])
def test_missing_scope_is_access_denied_naming_it(client, store, shop, query, scope):
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_customers"]).token
    status, body = gql(client, tok, query)
    assert status == 200
    err = body["errors"][0]
    assert err["extensions"]["code"] == "ACCESS_DENIED"
    assert f"`{scope}`" in err["message"] and scope in err["extensions"]["requiredAccess"]


def test_write_orders_needed_for_tags_add(client, store, shop):
    order = store.place_order(SHOP, seed=2)
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_orders"]).token
    m = ('mutation { tagsAdd(id: "gid://shopify/Order/%d", tags: ["rma"]) '
         "{ node { id } userErrors { message } } }" % order.id)
    body = gql(client, tok, m)[1]
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_orders" in body["errors"][0]["message"]
    body = gql(client, shop["token"], m)[1]
    assert body["data"]["tagsAdd"]["userErrors"] == [] and "rma" in store.get_order(SHOP, order.id).tags


def test_line_item_product_needs_read_products(client, store, shop):
    store.seed(SHOP, 2, 3, seed=1)
    tok = store.issue_admin_token(SHOP, "cid", scopes=["read_orders"]).token
    body = gql(client, tok, "{ orders(first: 1) { nodes { lineItems(first: 1) { nodes { "
                            "title product { id } } } } } }")[1]
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert body["data"]["orders"]["nodes"][0]["lineItems"]["nodes"][0]["product"] is None


FULL = """query($id: ID!) { order(id: $id) { id legacyResourceId name email createdAt updatedAt
  processedAt cancelledAt displayFinancialStatus displayFulfillmentStatus currencyCode tags
  discountCodes totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  subtotalPriceSet { shopMoney { amount } } totalDiscountsSet { shopMoney { amount } }
  customer { id firstName lastName email }
  shippingAddress { countryCodeV2 country city zip } billingAddress { countryCodeV2 }
  lineItems(first: 10) { nodes { id quantity currentQuantity refundableQuantity title variantTitle sku
    product { id tags } variant { id } originalUnitPriceSet { shopMoney { amount } }
    discountedUnitPriceAfterAllDiscountsSet { shopMoney { amount } presentmentMoney { amount } }
    discountAllocations { allocatedAmountSet { shopMoney { amount } } } image { url } } }
  fulfillments { fulfillmentLineItems(first: 10) { nodes { quantity lineItem { id } } } }
  refunds { refundLineItems(first: 10) { nodes { quantity lineItem { id } } } }
  transactions { kind status amountSet { shopMoney { amount } } } } }"""


def test_full_order_shape_and_consistent_money(client, store, shop):
    store.seed(SHOP, 400, 40, seed=11)
    orders = store.get_shop(SHOP).order_list
    refunded = next(o for o in orders if o.refunds)
    discounted = next(o for o in orders if o.discount_code and len(o.lines) > 1)
    for o in (refunded, discounted):
        body = gql(client, shop["token"], FULL, {"id": f"gid://shopify/Order/{o.id}"})[1]
        assert "errors" not in body, body
        d = body["data"]["order"]
        lines = d["lineItems"]["nodes"]
        assert d["legacyResourceId"] == str(o.id) and d["name"] == f"#{o.number}"
        subtotal = sum(float(line["discountedUnitPriceAfterAllDiscountsSet"]["shopMoney"]["amount"])
                       * line["quantity"] for line in lines)
        assert abs(subtotal - float(d["subtotalPriceSet"]["shopMoney"]["amount"])) < 0.05 * len(lines)
        assert d["transactions"][0]["kind"] in ("SALE", "AUTHORIZATION")
    body = gql(client, shop["token"], FULL, {"id": f"gid://shopify/Order/{refunded.id}"})[1]["data"]["order"]
    assert body["displayFinancialStatus"] in ("PARTIALLY_REFUNDED", "REFUNDED")
    assert body["refunds"][0]["refundLineItems"]["nodes"][0]["quantity"] >= 1
    line = body["lineItems"]["nodes"][0]
    refunded = body["refunds"][0]["refundLineItems"]["nodes"][0]["quantity"]
    assert line["refundableQuantity"] == line["quantity"] - refunded
    assert any(t["kind"] == "REFUND" for t in body["transactions"])
    body = gql(client, shop["token"], FULL, {"id": f"gid://shopify/Order/{discounted.id}"})[1]["data"]["order"]
    assert body["discountCodes"] == [discounted.discount_code]
    assert float(body["totalDiscountsSet"]["shopMoney"]["amount"]) > 0
    assert body["lineItems"]["nodes"][0]["discountAllocations"]


def test_protected_customer_data_comes_back_null(client, store, shop):
    order = store.place_order(SHOP, seed=3, email="pat@example.com")
    q = ('{ order(id: "gid://shopify/Order/%d") { email customer { id firstName lastName email } '
         "shippingAddress { countryCodeV2 } billingAddress { city } } }" % order.id)
    d = gql(client, shop["token"], q)[1]["data"]["order"]
    assert d["email"] == "pat@example.com" and d["shippingAddress"]["countryCodeV2"]
    store.update_shop(SHOP, protected_data=False)
    d = gql(client, shop["token"], q)[1]["data"]["order"]
    assert d["email"] is None and d["shippingAddress"] is None and d["billingAddress"] is None
    assert d["customer"]["id"] and d["customer"]["firstName"] is None
    assert d["customer"]["email"] is None and d["customer"]["lastName"] is None


def test_product_variants_options_and_stock(client, store, shop):
    s = store.get_shop(SHOP)
    final = next(p for p in s.products.values() if "final-sale" in p.tags and len(p.options) == 2)
    q = """query($id: ID!) { product(id: $id) { id title tags options { name values }
      variants(first: 50) { nodes { id title selectedOptions { name value } inventoryQuantity
      availableForSale } } } }"""
    d = gql(client, shop["token"], q, {"id": f"gid://shopify/Product/{final.id}"})[1]["data"]["product"]
    assert "final-sale" in d["tags"] and [o["name"] for o in d["options"]] == ["Size", "Color"]
    all_variants = [v for p in s.products.values() for v in p.variants]
    assert any(s.variants[v].inventory == 0 for v in all_variants)
    for v in d["variants"]["nodes"]:
        assert v["availableForSale"] == (v["inventoryQuantity"] > 0)
        assert len(v["selectedOptions"]) == 2


def test_a_variants_media_is_its_products_picture(client, store, shop):
    s = store.get_shop(SHOP)
    product = next(iter(s.products.values()))
    q = """query($id: ID!) { product(id: $id) { variants(first: 2) { nodes {
      media(first: 1) { nodes { __typename id mediaContentType status alt
        ... on MediaImage { image { url altText } } } pageInfo { hasNextPage } } } } } }"""
    body = gql(client, shop["token"], q, {"id": f"gid://shopify/Product/{product.id}"})[1]
    assert "errors" not in body, body
    for variant in body["data"]["product"]["variants"]["nodes"]:
        [media] = variant["media"]["nodes"]
        assert (media["__typename"], media["mediaContentType"], media["status"]) == (
            "MediaImage", "IMAGE", "READY")
        assert media["image"] == {"url": product.image_url, "altText": product.title}
        assert media["alt"] == product.title and not variant["media"]["pageInfo"]["hasNextPage"]


def test_seed_is_deterministic(store, shop):
    from sandbox.store import Store
    other = Store(clock=store.clock)
    other.create_shop(SHOP)
    store.seed(SHOP, 300, 30, seed=42, end=START)
    other.seed(SHOP, 300, 30, seed=42, end=START)
    a = store.get_shop(SHOP).order_list
    b = other.get_shop(SHOP).order_list
    assert a == b
    third = Store(clock=store.clock)
    third.create_shop(SHOP)
    third.seed(SHOP, 300, 30, seed=43, end=START)
    assert third.get_shop(SHOP).order_list != a
    other.close()
    third.close()


def test_seeded_data_is_varied(store, shop):
    store.seed(SHOP, 1000, 90, seed=1)
    orders = store.get_shop(SHOP).order_list
    countries = {o.ship_to.country_code for o in orders}
    currencies = {o.currency for o in orders}
    assert len(countries) >= 10 and len(currencies) >= 5
    assert any(o.refunds for o in orders) and any(o.discount_code for o in orders)
    assert any(0 < sum(line.fulfilled for line in o.lines) < sum(line.quantity for line in o.lines)
               for o in orders)
    assert any(o.tags for o in orders) and any(len(o.lines) >= 3 for o in orders)
