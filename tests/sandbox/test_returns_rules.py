"""The Returns API's rules, one test each (docs/reference/shopify-returns.md §5, §6): what
returnCreate, returnProcess, dispositions, cancel, close and removal refuse, money and scopes."""
from __future__ import annotations

import pytest

from .conftest import SHOP, gql
from .returns_support import (create_return, data, gid, line_ids, make_order, outcome, process,
                              return_input, returnable, rfo_line_ids, sale_refund)

CREATE = """mutation($i: ReturnInput!) { returnCreate(returnInput: $i) {
  return { id } userErrors { field code message } } }"""


# ---- store credit ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["guest order", "classic customer accounts"])
def test_store_credit_needs_a_customer_and_new_customer_accounts(client, store, shop, case):
    tok = shop["token"]
    order = make_order(store, quantity=1, guest=case == "guest order")
    if case == "classic customer accounts":
        client.patch(f"/_sandbox/shops/{SHOP}", json={"customer_accounts": "classic"})
    ret = create_return(client, tok, order)
    money = outcome(client, tok, ret, [(line_ids(ret)[0], 1)], allocation="STORE_CREDIT")
    assert money["suggestedRefundMethods"] == []  # not possible: not suggested
    done = process(client, tok, ret, [(line_ids(ret)[0], 1, None)], refund={
        "orderTransactions": [], "refundMethods": [{"storeCreditRefund": {
            "amount": {"amount": "20.00", "currencyCode": "USD"}}}]})
    (error,) = done["userErrors"]
    assert error["field"] == ["input", "financialTransfer", "issueRefund", "refundMethods", "0",
                              "storeCreditRefund"]
    assert error["code"] == ("INVALID" if case == "guest order" else "FEATURE_NOT_ENABLED")
    assert order.refunds == [] and done["return"] is None


# ---- returnCreate ----------------------------------------------------------------------------------

def create_errors(client, token, variables) -> list:
    _s, body = gql(client, token, CREATE, {"i": variables})
    assert body["data"]["returnCreate"]["return"] is None or \
        not body["data"]["returnCreate"]["userErrors"]
    return body["data"]["returnCreate"]["userErrors"]


def test_a_return_reason_note_longer_than_255_characters_is_refused(client, store, shop):
    order = make_order(store, quantity=1)
    (fli, _l, _q), = returnable(client, shop["token"], order)
    (error,) = create_errors(client, shop["token"], return_input(order, [(fli, 1)],
                                                                 note="n" * 256))
    assert error["code"] == "TOO_LONG"
    assert error["field"] == ["returnInput", "returnLineItems", "0", "returnReasonNote"]
    assert create_errors(client, shop["token"], return_input(order, [(fli, 1)],
                                                             note="n" * 255)) == []


def test_a_return_reason_is_required(client, store, shop):
    order = make_order(store, quantity=1)
    (fli, _l, _q), = returnable(client, shop["token"], order)
    given = return_input(order, [(fli, 1)])
    del given["returnLineItems"][0]["returnReasonDefinitionId"]
    (error,) = create_errors(client, shop["token"], given)
    assert error == {"field": ["returnInput", "returnLineItems", "0"], "code": "NOT_FOUND",
                     "message": "Return line items Either return reason or return reason "
                                "definition must be provided"}


def test_unfulfilled_units_cannot_be_returned(client, store, shop):
    order = make_order(store, quantity=3, fulfill=False)
    order.lines[0].fulfilled = 1
    (fli, _l, qty), = returnable(client, shop["token"], order)
    assert qty == 1
    (error,) = create_errors(client, shop["token"], return_input(order, [(fli, 2)]))
    assert error == {"field": ["returnInput", "returnLineItems", "0", "quantity"],
                     "code": "INVALID", "message": "Return line item has an invalid quantity."}
    unshipped = make_order(store, quantity=1, fulfill=False)
    assert returnable(client, shop["token"], unshipped) == []
    bogus = f"gid://shopify/FulfillmentLineItem/{unshipped.id * 512 + 16}"
    (error,) = create_errors(client, shop["token"], return_input(unshipped, [(bogus, 1)]))
    assert error["code"] == "NOT_FOUND" and error["message"] == "Fulfillment Line Item was not found."


def test_already_returned_or_refunded_units_cannot_be_returned_again(client, store, shop):
    order = make_order(store, quantity=2)
    (fli, _l, _q), = returnable(client, shop["token"], order)
    create_return(client, shop["token"], order, [(fli, 1)])
    store.update_order(SHOP, order.id, refund_line=0, refund_quantity=1, emit=False)
    assert returnable(client, shop["token"], order) == []
    (error,) = create_errors(client, shop["token"], return_input(order, [(fli, 1)]))
    assert error["message"] == "Return line item has an invalid quantity."
    # Two lines naming one item share its units: the batch is refused whole.
    other = make_order(store, quantity=2)
    (fli2, _l, _q), = returnable(client, shop["token"], other)
    errors = create_errors(client, shop["token"], return_input(other, [(fli2, 2), (fli2, 1)]))
    assert [e["field"][-2:] for e in errors] == [["1", "quantity"]]


def test_an_item_of_another_order_is_not_found(client, store, shop):
    one, two = make_order(store, quantity=1), make_order(store, quantity=1)
    (fli, _l, _q), = returnable(client, shop["token"], two)
    (error,) = create_errors(client, shop["token"], return_input(one, [(fli, 1)]))
    assert error["code"] == "NOT_FOUND"


def test_an_exchange_must_name_an_existing_variant(client, store, shop):
    order = make_order(store, quantity=1)
    (fli, _l, _q), = returnable(client, shop["token"], order)
    (error,) = create_errors(client, shop["token"],
                             return_input(order, [(fli, 1)], exchanges=[(1, 1, None)]))
    assert error["field"] == ["returnInput", "exchangeLineItems", "0", "variantId"]


# ---- returnProcess and dispositions ----------------------------------------------------------------

def test_restocked_without_a_location_is_refused(client, store, shop):
    order = make_order(store, quantity=2)
    variant = store.get_shop(SHOP).variants[order.lines[0].variant_id]
    before = variant.inventory
    ret = create_return(client, shop["token"], order)
    done = process(client, shop["token"], ret, [(line_ids(ret)[0], 1, [
        {"reverseFulfillmentOrderLineItemId": rfo_line_ids(ret)[0], "quantity": 1,
         "dispositionType": "RESTOCKED"}])])
    (error,) = done["userErrors"]
    assert error["field"][-1] == "locationId" and done["return"] is None
    disposed = data(client, shop["token"], "reverse_fulfillment_order_dispose", {
        "dispositionInputs": [{"reverseFulfillmentOrderLineItemId": rfo_line_ids(ret)[0],
                               "quantity": 1, "dispositionType": "RESTOCKED"}]})
    assert disposed["reverseFulfillmentOrderDispose"]["userErrors"][0]["field"] == [
        "dispositionInputs", "0", "locationId"]
    assert variant.inventory == before
    assert client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()["returns"][0]["lines"][0][
        "processed"] == 0  # nothing of the refused call was applied


def test_processing_beyond_the_processable_quantity_is_refused(client, store, shop):
    order = make_order(store, quantity=2)
    ret = create_return(client, shop["token"], order)
    rl = line_ids(ret)[0]
    assert process(client, shop["token"], ret, [(rl, 1, None)])["userErrors"] == []
    done = process(client, shop["token"], ret, [(rl, 2, None)])
    (error,) = done["userErrors"]
    assert error["code"] == "INVALID" and error["field"] == ["input", "returnLineItems", "0",
                                                             "quantity"]
    assert process(client, shop["token"], ret, [(rl, 1, None)])["userErrors"] == []


def test_disposing_beyond_the_undisposed_units_is_refused(client, store, shop):
    order = make_order(store, quantity=2)
    ret = create_return(client, shop["token"], order)
    rfo = rfo_line_ids(ret)[0]

    def dispose(qty, kind="NOT_RESTOCKED"):
        return data(client, shop["token"], "reverse_fulfillment_order_dispose", {
            "dispositionInputs": [{"reverseFulfillmentOrderLineItemId": rfo, "quantity": qty,
                                   "dispositionType": kind}]})["reverseFulfillmentOrderDispose"]
    assert dispose(3)["userErrors"][0]["code"] == "INVALID"
    assert dispose(1)["userErrors"] == []
    assert dispose(2)["userErrors"][0]["field"] == ["dispositionInputs", "0", "quantity"]
    assert dispose(1, "MISSING")["userErrors"] == []
    assert dispose(1)["userErrors"] != []
    assert data(client, shop["token"], "reverse_fulfillment_order_dispose",
                {"dispositionInputs": []})["reverseFulfillmentOrderDispose"]["userErrors"] == [
        {"field": ["dispositionInputs"], "code": "BLANK", "message": "The array cannot be empty."}]


def test_cancel_after_processing_is_refused(client, store, shop):
    order = make_order(store, quantity=1)
    ret = create_return(client, shop["token"], order)
    process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)])
    canceled = data(client, shop["token"], "return_cancel", {"id": ret["id"]})["returnCancel"]
    assert canceled == {"return": None, "userErrors": [
        {"field": ["id"], "code": "INVALID_STATE", "message": "Return is not cancelable."}]}
    # A disposition alone is work too.
    other = create_return(client, shop["token"], make_order(store, quantity=1))
    data(client, shop["token"], "reverse_fulfillment_order_dispose", {"dispositionInputs": [
        {"reverseFulfillmentOrderLineItemId": rfo_line_ids(other)[0], "quantity": 1,
         "dispositionType": "MISSING"}]})
    assert data(client, shop["token"], "return_cancel", {"id": other["id"]})["returnCancel"][
        "userErrors"][0]["code"] == "INVALID_STATE"


def test_only_an_open_return_is_changed(client, store, shop):
    order = make_order(store, quantity=2)
    ret = create_return(client, shop["token"], order)
    closed = data(client, shop["token"], "return_close", {"id": ret["id"]})["returnClose"]
    assert closed["return"]["status"] == "CLOSED"  # §6.7: nothing processed is fine
    again = data(client, shop["token"], "return_close", {"id": ret["id"]})["returnClose"]
    assert again["userErrors"] == []  # closing a closed return is no error
    removed = data(client, shop["token"], "remove_from_return", {
        "returnId": ret["id"], "returnLineItems": [
            {"returnLineItemId": line_ids(ret)[0], "quantity": 1}]})["removeFromReturn"]
    assert removed["userErrors"] == [{"field": ["returnId"], "code": "INVALID_STATE",
                                      "message": "Return status is invalid."}]
    assert process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)])["userErrors"][0][
        "code"] == "INVALID_STATE"
    second = create_return(client, shop["token"], make_order(store, quantity=1))
    data(client, shop["token"], "return_cancel", {"id": second["id"]})
    assert data(client, shop["token"], "return_close", {"id": second["id"]})["returnClose"][
        "userErrors"][0]["code"] == "INVALID_STATE"


def test_remove_from_return_takes_only_unprocessed_units(client, store, shop):
    order = make_order(store, quantity=3)
    ret = create_return(client, shop["token"], order)
    rl = line_ids(ret)[0]
    process(client, shop["token"], ret, [(rl, 2, None)])

    def remove(qty):
        return data(client, shop["token"], "remove_from_return", {
            "returnId": ret["id"], "returnLineItems": [
                {"returnLineItemId": rl, "quantity": qty}]})["removeFromReturn"]
    assert remove(0)["userErrors"] == [{"field": None, "code": "GREATER_THAN",
                                        "message": "Quantity must be greater than 0"}]
    assert remove(2)["userErrors"][0]["message"] == "Return line item has an invalid quantity."
    done = remove(1)
    assert done["userErrors"] == []
    assert done["return"]["returnLineItems"]["nodes"][0]["quantity"] == 2
    assert returnable(client, shop["token"], order)[0][2] == 1


def test_an_exchange_with_a_balance_owed_is_held(client, store, shop):
    order = make_order(store, quantity=1, price=1000)
    s = store.get_shop(SHOP)
    dearer = next(v for v in s.variants.values() if v.price > 1000 and v.inventory > 0)
    ret = create_return(client, shop["token"], order, exchanges=[(dearer.id, 1, None)])
    ex = ret["exchangeLineItems"]["nodes"][0]["id"]
    assert process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)],
                   exchanges=[(ex, 1)])["userErrors"] == []
    listed = client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()
    assert listed["returns"][0]["exchanges"][0]["held"] is True
    assert listed["summary"]["exchanges_held"] == 1
    added = order.lines[-1]
    store.update_order(SHOP, order.id, fulfill=True)
    assert added.fulfilled == 0  # held: AWAITING_PAYMENT
    client.post(f"/_sandbox/shops/{SHOP}/returns/{ret['id'].rsplit('/', 1)[1]}/release-hold")
    store.update_order(SHOP, order.id, fulfill=True)
    assert added.fulfilled == 1


@pytest.mark.parametrize("outcome_setting", ["pending", "failure"])
def test_refunds_can_be_pending_or_fail(client, store, shop, outcome_setting):
    client.patch(f"/_sandbox/shops/{SHOP}", json={"refund_outcome": outcome_setting})
    order = make_order(store, quantity=1)
    ret = create_return(client, shop["token"], order)
    done = process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)],
                   refund=sale_refund(order, "20.00"))
    (refund,) = done["return"]["refunds"]["nodes"]
    (tx,) = refund["transactions"]["nodes"]
    assert tx["status"] == outcome_setting.upper()
    assert tx["errorCode"] == ("GENERIC_ERROR" if outcome_setting == "failure" else None)
    summary = client.get(f"/_sandbox/shops/{SHOP}/returns").get_json()["summary"]
    assert summary["refunds_" + ("pending" if outcome_setting == "pending" else "failed")] == 1
    refund_num = refund["id"].rsplit("/", 1)[1]
    settle = client.post(f"/_sandbox/shops/{SHOP}/refunds/{refund_num}/settle",
                         json={"status": "success"})
    if outcome_setting == "pending":
        assert settle.get_json() == {"id": int(refund_num), "transaction_status": "SUCCESS"}
        status = data(client, shop["token"], "refund_status", {"id": refund["id"]})["node"]
        assert status["transactions"]["nodes"][0]["status"] == "SUCCESS"
    else:
        assert settle.status_code == 409  # only pending refunds settle
        # A failed refund gave nothing back: the money can be refunded again.
        again = outcome(client, shop["token"], ret, [(line_ids(ret)[0], 1)])
        assert again["suggestedTransactions"][0]["amountSet"]["presentmentMoney"]["amount"] == \
            "20.00"


def test_a_refund_may_not_exceed_the_processed_lines_unless_over_refunding(client, store, shop):
    order = make_order(store, quantity=2)
    ret = create_return(client, shop["token"], order)
    rl = line_ids(ret)[0]
    done = process(client, shop["token"], ret, [(rl, 1, None)],
                   refund=sale_refund(order, "20.01"))
    assert done["userErrors"][0]["field"] == ["input", "financialTransfer", "issueRefund"]
    allowed = {**sale_refund(order, "40.00"), "allowOverRefunding": True}
    assert process(client, shop["token"], ret, [(rl, 1, None)], refund=allowed)["userErrors"] == []
    # Never more than the order has left, even when over-refunding.
    over = {**sale_refund(order, "0.01"), "allowOverRefunding": True}
    assert process(client, shop["token"], ret, [(rl, 1, None)], refund=over)["userErrors"] != []


def test_a_refund_names_a_sale_or_capture_of_the_order(client, store, shop):
    order = make_order(store, quantity=1, payment="authorized")
    ret = create_return(client, shop["token"], order)
    done = process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)],
                   refund=sale_refund(order, "20.00"))
    assert done["userErrors"][0]["field"][-1] == "parentId"
    paid = make_order(store, quantity=1)
    ret = create_return(client, shop["token"], paid)
    done = process(client, shop["token"], ret, [(line_ids(ret)[0], 1, None)],
                   refund=sale_refund(paid, "20.00", currency="EUR"))
    assert done["userErrors"][0]["field"][-1] == "currencyCode"


@pytest.mark.parametrize("payment", ["manual", "cod", "authorized"])
def test_no_refund_transaction_is_suggested_for_manual_cod_or_authorised_orders(
        client, store, shop, payment):
    order = make_order(store, quantity=1, payment=payment)
    ret = create_return(client, shop["token"], order)
    money = outcome(client, shop["token"], ret, [(line_ids(ret)[0], 1)])
    assert money["__typename"] == "RefundReturnOutcome"
    assert money["suggestedTransactions"] == []
    card = make_order(store, quantity=1)
    ret = create_return(client, shop["token"], card)
    assert len(outcome(client, shop["token"], ret, [(line_ids(ret)[0], 1)])[
        "suggestedTransactions"]) == 1


# ---- scopes ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,scope", [
    ('{ returnableFulfillments(orderId: "gid://shopify/Order/1", first: 1) { nodes { id } } }',
     "read_returns"),
    ('{ return(id: "gid://shopify/Return/1") { id } }', "read_returns"),
    ('{ returnReasonDefinitions(first: 1) { nodes { id } } }', "read_returns"),
    ('{ returnCalculate(input: {orderId: "gid://shopify/Order/1"}) { id } }', "read_returns"),
    ('mutation { returnCreate(returnInput: {orderId: "gid://shopify/Order/1", '
     'returnLineItems: []}) { userErrors { message } } }', "write_returns"),
    ('mutation { returnProcess(input: {returnId: "gid://shopify/Return/1"}) '
     '{ userErrors { message } } }', "write_returns"),
    ('mutation { returnClose(id: "gid://shopify/Return/1") { userErrors { message } } }',
     "write_returns"),
    ('mutation { returnCancel(id: "gid://shopify/Return/1") { userErrors { message } } }',
     "write_returns"),
    ('mutation { removeFromReturn(returnId: "gid://shopify/Return/1") '
     '{ userErrors { message } } }', "write_returns"),
    ('mutation { reverseFulfillmentOrderDispose(dispositionInputs: []) '
     '{ userErrors { message } } }', "write_returns"),
])
def test_every_returns_call_without_its_scope_is_access_denied(client, store, shop, query,
                                                               scope):
    narrow = store.issue_admin_token(SHOP, "cid", scopes=["read_orders", "write_orders",
                                                          "read_all_orders"]).token
    _s, body = gql(client, narrow, query)
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert f"`{scope}`" in body["errors"][0]["message"]


def test_order_returns_need_read_returns(client, store, shop):
    order = make_order(store, quantity=1)
    narrow = store.issue_admin_token(SHOP, "cid", scopes=["read_orders"]).token
    _s, body = gql(client, narrow, """query($id: ID!) { order(id: $id) { id
        returns(first: 1) { nodes { id } } } }""", {"id": gid("Order", order.id)})
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
