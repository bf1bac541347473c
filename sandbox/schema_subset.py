"""The GraphQL schema the sandbox serves: a proven subset of Shopify's real one.

Loading Shopify's full 2026-04 SDL (3.4 MB, ~3,000 types) takes ~1.5 s, and most
of it would answer ``null`` here because nothing resolves it.  Instead
``SELECTION`` below names exactly the types/fields/arguments the sandbox
implements; ``generate_sdl()`` cuts them out of the real SDL (so the
definitions are Shopify's own, byte for byte in meaning) and writes
``sandbox/schema.graphql``.  ``tests/sandbox/test_schema_subset.py`` proves the
served file is a subset of the real schema, and regenerating it is one command:

    .venv/bin/python -m sandbox.schema_subset [path/to/admin-2026-04.schema.graphql[.xz]]

The default source is the schema the tests hold (``tests/fixtures/shopify/``). Nothing is added by
hand: what the sandbox serves is Shopify's own 2026-04 schema, cut down.
"""
from __future__ import annotations

import lzma
import os
import sys

from graphql import (GraphQLArgument, GraphQLEnumType, GraphQLField, GraphQLInputObjectType,
                     GraphQLInterfaceType, GraphQLObjectType, GraphQLScalarType, GraphQLUnionType,
                     build_schema, get_named_type, print_directive, print_type)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVED_SDL = os.path.join(HERE, "schema.graphql")
REAL_SDL_DEFAULT = os.path.normpath(os.path.join(
    HERE, "..", "tests", "fixtures", "shopify", "admin-2026-04.schema.graphql.xz"))

# Shopify's directives (besides GraphQL's own) that the sandbox serves.
SERVED_DIRECTIVES = ["idempotent"]

# type -> fields served; "name(arg, arg)" keeps only those arguments.
SELECTION: dict[str, list[str]] = {
    "QueryRoot": ["shop", "currentAppInstallation", "order(id)",
                  "orders(first, after, query, sortKey, reverse)", "product(id)", "node(id)",
                  "products(first, after)",
                  "webhookSubscriptions(first, after, topics)", "webhookSubscription(id)",
                  "bulkOperations(first, after, query, sortKey, reverse)", "bulkOperation(id)",
                  "giftCards(first, after, query)",
                  "draftOrders(first, after, query)", "draftOrder(id)", "locations(first, after)",
                  "productVariant(id)", "nodes(ids)", "giftCardConfiguration",
                  # Returns API (sandbox/returns_api.py)
                  "return(id)", "returnableFulfillments(orderId, first, after)",
                  "returnCalculate(input)", "returnReasonDefinitions(first, after, handles, ids)",
                  "shopLocales(published)"],
    "Mutation": ["webhookSubscriptionCreate(topic, webhookSubscription)",
                 "webhookSubscriptionDelete(id)", "bulkOperationRunQuery(query)",
                 "bulkOperationCancel(id)", "tagsAdd(id, tags)", "refundCreate(input)",
                 "giftCardCreate(input)", "draftOrderCreate(input)",
                 "draftOrderComplete(id, paymentGatewayId, sourceName)",
                 "inventoryAdjustQuantities(input)", "giftCardSendNotificationToCustomer(id)",
                 "returnCreate(returnInput)", "returnProcess(input)", "returnClose(id)",
                 "returnRequest(input)", "returnApproveRequest(input)", "returnDeclineRequest(input)",
                 "returnCancel(id)", "removeFromReturn(returnId, returnLineItems, exchangeLineItems)",
                 "reverseFulfillmentOrderDispose(dispositionInputs)",
                 # sandbox/reverse_deliveries.py
                 "reverseDeliveryCreateWithShipping(reverseFulfillmentOrderId, reverseDeliveryLineItems, "
                 "trackingInput, labelInput, notifyCustomer)"],
    "Node": ["id"],
    "Shop": ["id", "name", "email", "contactEmail", "myshopifyDomain", "currencyCode", "plan",
             "ianaTimezone", "customerAccountsV2", "shopAddress"],
    "ShopAddress": ["id", "company", "address1", "address2", "city", "province", "provinceCode", "zip",
                    "country", "countryCodeV2", "phone", "coordinatesValidated"],
    "CustomerAccountsV2": ["customerAccountsVersion", "loginRequiredAtCheckout",
                           "loginLinksVisibleOnStorefrontAndCheckout"],
    "ShopPlan": ["publicDisplayName", "partnerDevelopment", "shopifyPlus"],
    "ShopLocale": ["locale", "name", "primary", "published"],
    "AppInstallation": ["id", "accessScopes"],
    "AccessScope": ["handle", "description"],
    "PageInfo": ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor"],
    "MoneyBag": ["shopMoney", "presentmentMoney"],
    "MoneyV2": ["amount", "currencyCode"],
    "Order": ["id", "legacyResourceId", "name", "email", "phone", "note", "createdAt", "updatedAt",
              "processedAt", "cancelledAt", "cancelReason", "closed", "closedAt", "test",
              "displayFinancialStatus", "displayFulfillmentStatus", "currencyCode",
              "presentmentCurrencyCode", "totalPriceSet", "subtotalPriceSet", "totalDiscountsSet",
              "currentTotalPriceSet", "currentSubtotalPriceSet", "currentTotalDiscountsSet",
              "totalRefundedSet", "discountCode", "discountCodes", "tags", "customerLocale",
              "customer", "shippingAddress", "billingAddress", "lineItems(first, after)",
              "fulfillments(first)", "refunds(first)", "transactions(first)",
              "suggestedRefund(refundLineItems, refundShipping, shippingAmount, "
              "suggestFullRefund)",
              "returns(first, after, reverse, query)", "returnStatus"],
    "OrderConnection": ["edges", "nodes", "pageInfo"],
    "OrderEdge": ["cursor", "node"],
    "Customer": ["id", "legacyResourceId", "firstName", "lastName", "displayName", "email",
                 "phone", "defaultEmailAddress"],
    "CustomerEmailAddress": ["emailAddress"],
    "MailingAddress": ["id", "firstName", "lastName", "name", "company", "address1", "address2",
                       "city", "province", "provinceCode", "zip", "country", "countryCodeV2",
                       "phone"],
    "LineItem": ["id", "name", "title", "variantTitle", "sku", "vendor", "quantity",
                 "currentQuantity", "refundableQuantity", "unfulfilledQuantity",
                 "nonFulfillableQuantity", "fulfillableQuantity", "requiresShipping", "product",
                 "variant", "originalUnitPriceSet", "discountedUnitPriceSet",
                 "discountedUnitPriceAfterAllDiscountsSet", "originalTotalSet",
                 "totalDiscountSet", "discountAllocations", "image"],
    "LineItemConnection": ["edges", "nodes", "pageInfo"],
    "LineItemEdge": ["cursor", "node"],
    "DiscountAllocation": ["allocatedAmountSet"],
    "Image": ["id", "url", "altText", "width", "height"],
    "Fulfillment": ["id", "legacyResourceId", "name", "status", "createdAt", "updatedAt",
                    "deliveredAt", "estimatedDeliveryAt", "displayStatus",
                    "fulfillmentLineItems(first, after)", "location",
                    "totalQuantity"],
    "FulfillmentLineItemConnection": ["edges", "nodes", "pageInfo"],
    "FulfillmentLineItemEdge": ["cursor", "node"],
    "FulfillmentLineItem": ["id", "quantity", "lineItem", "originalTotalSet",
                            "discountedTotalSet"],
    "Refund": ["id", "legacyResourceId", "createdAt", "note", "totalRefundedSet",
               "refundLineItems(first, after)", "transactions(first, after)"],
    "RefundLineItemConnection": ["edges", "nodes", "pageInfo"],
    "RefundLineItemEdge": ["cursor", "node"],
    "RefundLineItem": ["id", "quantity", "restockType", "restocked", "lineItem", "priceSet",
                       "subtotalSet", "totalTaxSet"],
    "OrderTransaction": ["id", "kind", "status", "gateway", "test", "amountSet", "createdAt",
                         "processedAt", "parentTransaction", "errorCode"],
    "OrderTransactionConnection": ["edges", "nodes", "pageInfo"],
    "OrderTransactionEdge": ["cursor", "node"],
    "Product": ["id", "legacyResourceId", "title", "handle", "vendor", "productType", "status",
                "tags", "createdAt", "updatedAt", "totalInventory", "options(first)",
                "variants(first, after)", "collections(first, after)"],
    "ProductConnection": ["edges", "nodes", "pageInfo"],
    "ProductEdge": ["cursor", "node"],
    # What the rules read about a product (app/shopify/queries/product_facts.graphql).
    "Collection": ["id", "title", "handle"],
    "CollectionConnection": ["edges", "nodes", "pageInfo"],
    "CollectionEdge": ["cursor", "node"],
    "ProductOption": ["id", "name", "position", "values"],
    "ProductVariant": ["id", "legacyResourceId", "title", "displayName", "sku", "price",
                       "compareAtPrice", "inventoryQuantity", "availableForSale",
                       "selectedOptions", "product", "inventoryPolicy", "inventoryItem",
                       "media(first, after)"],
    # A variant's pictures (sandbox/views.py VariantView.media); images are the only media here.
    "Media": ["id", "alt", "mediaContentType", "status"],
    "MediaImage": ["id", "alt", "mediaContentType", "status", "image"],
    "MediaConnection": ["edges", "nodes", "pageInfo"],
    "MediaEdge": ["cursor", "node"],
    # Read by the app's exchange lookup (app/shopify/queries/product_variants.graphql).
    "InventoryItem": ["id", "tracked", "sku", "inventoryLevel(locationId)"],
    # The level a keyed restock changes from (app/shopify/queries/inventory_level.graphql).
    "InventoryLevel": ["id", "quantities(names)"],
    "InventoryQuantity": ["id", "name", "quantity"],
    "ProductVariantConnection": ["edges", "nodes", "pageInfo"],
    "ProductVariantEdge": ["cursor", "node"],
    "SelectedOption": ["name", "value"],
    "WebhookSubscription": ["id", "legacyResourceId", "topic", "format", "includeFields",
                            "filter", "uri", "apiVersion", "createdAt", "updatedAt"],
    "ApiVersion": ["handle", "displayName", "supported"],
    "WebhookSubscriptionConnection": ["edges", "nodes", "pageInfo"],
    "WebhookSubscriptionEdge": ["cursor", "node"],
    "WebhookSubscriptionInput": ["uri", "format", "includeFields", "filter"],
    "WebhookSubscriptionCreatePayload": ["webhookSubscription", "userErrors"],
    "WebhookSubscriptionDeletePayload": ["deletedWebhookSubscriptionId", "userErrors"],
    "UserError": ["field", "message"],
    "DisplayableError": ["field", "message"],
    "TagsAddPayload": ["node", "userErrors"],
    "BulkOperation": ["id", "status", "errorCode", "createdAt", "completedAt", "objectCount",
                      "rootObjectCount", "fileSize", "url", "partialDataUrl", "query", "type"],
    "BulkOperationConnection": ["edges", "nodes", "pageInfo"],
    "BulkOperationEdge": ["cursor", "node"],
    "BulkOperationRunQueryPayload": ["bulkOperation", "userErrors"],
    "BulkOperationCancelPayload": ["bulkOperation", "userErrors"],
    "BulkOperationUserError": ["field", "message", "code"],
    # --- issuing (sandbox/refunds.py, sandbox/issuing_api.py) ---
    "SuggestedRefund": ["amountSet", "subtotalSet", "discountedSubtotalSet", "totalTaxSet",
                        "maximumRefundableSet", "totalCartDiscountAmountSet", "totalDutiesSet",
                        "refundLineItems", "shipping", "suggestedTransactions"],
    "ShippingRefund": ["amountSet", "maximumRefundableSet", "taxSet"],
    "SuggestedOrderTransaction": ["kind", "gateway", "formattedGateway", "amountSet",
                                  "maximumRefundableSet", "parentTransaction", "accountNumber"],
    "RefundInput": ["orderId", "currency", "note", "notify", "refundLineItems", "transactions"],
    "RefundLineItemInput": ["lineItemId", "quantity", "restockType", "locationId"],
    "OrderTransactionInput": ["amount", "gateway", "kind", "orderId", "parentId"],
    "RefundCreatePayload": ["order", "refund", "userErrors"],
    "GiftCardCreateInput": ["initialValue", "code", "customerId", "note"],
    "GiftCardCreatePayload": ["giftCard", "giftCardCode", "userErrors"],
    "GiftCardUserError": ["code", "field", "message"],
    "GiftCard": ["id", "lastCharacters", "maskedCode", "initialValue", "balance", "note",
                 "enabled", "createdAt", "updatedAt", "expiresOn", "deactivatedAt"],
    "GiftCardConnection": ["edges", "nodes", "pageInfo"],
    "GiftCardConfiguration": ["issueLimit", "purchaseLimit"],
    "GiftCardSendNotificationToCustomerPayload": ["giftCard", "userErrors"],
    "GiftCardSendNotificationToCustomerUserError": ["code", "field", "message"],
    "GiftCardEdge": ["cursor", "node"],
    "DraftOrderInput": ["lineItems", "appliedDiscount", "email", "note", "shippingAddress",
                        "tags"],
    "DraftOrderLineItemInput": ["variantId", "quantity", "appliedDiscount"],
    "DraftOrderAppliedDiscountInput": ["value", "valueType", "title", "description"],
    "MailingAddressInput": ["firstName", "lastName", "company", "address1", "address2", "city",
                            "provinceCode", "countryCode", "zip", "phone"],
    "DraftOrderCreatePayload": ["draftOrder", "userErrors"],
    "DraftOrderCompletePayload": ["draftOrder", "userErrors"],
    "DraftOrder": ["id", "legacyResourceId", "name", "status", "email", "note2", "tags",
                   "createdAt", "updatedAt", "completedAt", "currencyCode", "subtotalPriceSet",
                   "totalDiscountsSet", "totalPriceSet", "shippingAddress", "order",
                   "lineItems(first, after)"],
    "DraftOrderLineItem": ["id", "title", "variantTitle", "sku", "quantity",
                           "originalUnitPriceSet", "originalTotalSet", "totalDiscountSet",
                           "discountedTotalSet", "appliedDiscount", "variant"],
    "DraftOrderAppliedDiscount": ["title", "description", "value", "valueType", "amountSet"],
    "DraftOrderLineItemConnection": ["edges", "nodes", "pageInfo"],
    "DraftOrderLineItemEdge": ["cursor", "node"],
    "DraftOrderConnection": ["edges", "nodes", "pageInfo"],
    "DraftOrderEdge": ["cursor", "node"],
    "Location": ["id", "legacyResourceId", "name", "isActive", "isPrimary",
                 "fulfillsOnlineOrders"],
    "LocationConnection": ["edges", "nodes", "pageInfo"],
    "LocationEdge": ["cursor", "node"],
    "InventoryAdjustQuantitiesInput": ["name", "reason", "changes", "referenceDocumentUri"],
    "InventoryChangeInput": ["delta", "inventoryItemId", "locationId", "changeFromQuantity"],
    "InventoryAdjustQuantitiesPayload": ["inventoryAdjustmentGroup", "userErrors"],
    "InventoryAdjustQuantitiesUserError": ["code", "field", "message"],
    "InventoryAdjustmentGroup": ["id", "createdAt", "reason", "referenceDocumentUri",
                                 "changes"],
    "InventoryChange": ["name", "delta", "quantityAfterChange", "item", "location",
                        "ledgerDocumentUri"],
    # --- Returns API (sandbox/returns_api.py, returns_views.py, returns_money.py) ---
    "Return": ["id", "name", "status", "createdAt", "closedAt", "totalQuantity", "order",
               "returnLineItems(first, after, processingStatus)",
               "exchangeLineItems(first, after, processingStatus)",
               "reverseFulfillmentOrders(first, after)", "refunds(first, after)",
               "suggestedFinancialOutcome(returnLineItems, exchangeLineItems, "
               "refundMethodAllocation)"],
    "ReturnConnection": ["edges", "nodes", "pageInfo"],
    "RefundConnection": ["edges", "nodes", "pageInfo"],
    "RefundEdge": ["cursor", "node"],
    "ReturnEdge": ["cursor", "node"],
    "ReturnLineItemType": ["id", "quantity", "processedQuantity", "processableQuantity",
                           "unprocessedQuantity", "returnReasonNote", "returnReasonDefinition"],
    "ReturnLineItem": ["id", "quantity", "processedQuantity", "processableQuantity",
                       "unprocessedQuantity", "returnReasonNote", "returnReasonDefinition",
                       "fulfillmentLineItem", "customerNote"],
    "ReturnLineItemTypeConnection": ["edges", "nodes", "pageInfo"],
    "ReturnLineItemTypeEdge": ["cursor", "node"],
    "ReturnReasonDefinition": ["id", "handle", "name", "deleted"],
    "ReturnReasonDefinitionConnection": ["edges", "nodes", "pageInfo"],
    "ReturnReasonDefinitionEdge": ["cursor", "node"],
    "ExchangeLineItem": ["id", "quantity", "processedQuantity", "processableQuantity",
                         "unprocessedQuantity", "variantId", "lineItems"],
    "ExchangeLineItemConnection": ["edges", "nodes", "pageInfo"],
    "ExchangeLineItemEdge": ["cursor", "node"],
    "ReverseFulfillmentOrder": ["id", "status", "order", "lineItems(first, after)",
                                "reverseDeliveries(first, after)"],
    "ReverseDeliveryConnection": ["edges", "nodes", "pageInfo"],
    "ReverseDeliveryEdge": ["cursor", "node"],
    "ReverseDelivery": ["id", "deliverable"],
    "ReverseDeliveryDeliverable": ["ReverseDeliveryShippingDeliverable"],
    "ReverseDeliveryShippingDeliverable": ["label", "tracking"],
    "ReverseDeliveryLabelV2": ["publicFileUrl"],
    "ReverseDeliveryTrackingV2": ["carrierName", "number", "url"],
    "ReverseDeliveryLineItemInput": ["reverseFulfillmentOrderLineItemId", "quantity"],
    "ReverseDeliveryTrackingInput": ["number", "url"],
    "ReverseDeliveryLabelInput": ["fileUrl"],
    "ReverseDeliveryCreateWithShippingPayload": ["reverseDelivery", "userErrors"],
    "ReverseFulfillmentOrderConnection": ["edges", "nodes", "pageInfo"],
    "ReverseFulfillmentOrderEdge": ["cursor", "node"],
    "ReverseFulfillmentOrderLineItem": ["id", "totalQuantity", "fulfillmentLineItem",
                                        "dispositions"],
    "ReverseFulfillmentOrderLineItemConnection": ["edges", "nodes", "pageInfo"],
    "ReverseFulfillmentOrderLineItemEdge": ["cursor", "node"],
    "ReverseFulfillmentOrderDisposition": ["id", "quantity", "type", "location", "createdAt"],
    "ReturnableFulfillment": ["id", "fulfillment", "returnableFulfillmentLineItems(first, after)"],
    "ReturnableFulfillmentConnection": ["edges", "nodes", "pageInfo"],
    "ReturnableFulfillmentEdge": ["cursor", "node"],
    "ReturnableFulfillmentLineItem": ["fulfillmentLineItem", "quantity"],
    "ReturnableFulfillmentLineItemConnection": ["edges", "nodes", "pageInfo"],
    "ReturnableFulfillmentLineItemEdge": ["cursor", "node"],
    "CalculatedReturn": ["id", "returnLineItems", "exchangeLineItems", "returnShippingFee"],
    "CalculatedReturnLineItem": ["fulfillmentLineItem", "quantity", "subtotalSet",
                                 "subtotalBeforeOrderDiscountsSet", "totalTaxSet", "restockingFee"],
    "CalculatedRestockingFee": ["id", "amountSet", "percentage"],
    "CalculatedReturnShippingFee": ["id", "amountSet"],
    "CalculatedExchangeLineItem": ["quantity", "variant", "originalUnitPriceSet",
                                   "discountedUnitPriceSet", "subtotalSet", "totalTaxSet"],
    "SuggestedReturnFinancialOutcome": ["financialTransfer", "discountedSubtotal", "totalTax",
                                        "totalAdditionalFees", "totalCartDiscountAmount",
                                        "maximumRefundable"],
    "ReturnOutcomeFinancialTransfer": ["InvoiceReturnOutcome", "RefundReturnOutcome"],
    "RefundReturnOutcome": ["amount", "suggestedRefundMethods", "suggestedTransactions"],
    "InvoiceReturnOutcome": ["amount"],
    "SuggestedRefundMethod": ["amount", "maximumRefundable"],
    "SuggestedStoreCreditRefund": ["amount", "maximumRefundable", "expiresAt"],
    "ReturnInput": ["orderId", "returnLineItems", "exchangeLineItems", "returnShippingFee",
                    "requestedAt"],
    "ReturnLineItemInput": ["fulfillmentLineItemId", "quantity", "returnReasonDefinitionId",
                            "returnReasonNote", "restockingFee"],
    "ExchangeLineItemInput": ["variantId", "quantity", "appliedDiscount", "giftCardCodes"],
    "ExchangeLineItemAppliedDiscountInput": ["description", "value"],
    "ExchangeLineItemAppliedDiscountValueInput": ["amount", "percentage"],
    "MoneyInput": ["amount", "currencyCode"],
    "RestockingFeeInput": ["percentage"],
    "ReturnShippingFeeInput": ["amount"],
    "CalculateReturnInput": ["orderId", "returnLineItems", "exchangeLineItems",
                             "returnShippingFee"],
    "CalculateReturnLineItemInput": ["fulfillmentLineItemId", "quantity", "restockingFee"],
    "CalculateExchangeLineItemInput": ["variantId", "quantity", "appliedDiscount"],
    "ReturnProcessInput": ["returnId", "returnLineItems", "exchangeLineItems", "refundShipping",
                           "note", "notifyCustomer", "financialTransfer"],
    "ReturnProcessReturnLineItemInput": ["id", "quantity", "dispositions"],
    "ReturnProcessExchangeLineItemInput": ["id", "quantity"],
    "ReverseFulfillmentOrderDisposeInput": ["reverseFulfillmentOrderLineItemId", "quantity",
                                            "locationId", "dispositionType"],
    "RefundShippingInput": ["fullRefund", "shippingRefundAmount"],
    "ReturnProcessFinancialTransferInput": ["issueRefund"],
    "ReturnProcessRefundInput": ["orderTransactions", "refundMethods", "allowOverRefunding"],
    "ReturnRefundOrderTransactionInput": ["parentId", "transactionAmount"],
    "RefundMethodInput": ["storeCreditRefund"],
    "StoreCreditRefundInput": ["amount", "expiresAt"],
    "SuggestedOutcomeReturnLineItemInput": ["id", "quantity"],
    "SuggestedOutcomeExchangeLineItemInput": ["id", "quantity"],
    "ReturnLineItemRemoveFromReturnInput": ["returnLineItemId", "quantity"],
    "ExchangeLineItemRemoveFromReturnInput": ["exchangeLineItemId", "quantity"],
    "ReturnCreatePayload": ["return", "userErrors"],
    "ReturnRequestInput": ["orderId", "returnLineItems", "returnShippingFee"],
    "ReturnRequestLineItemInput": ["fulfillmentLineItemId", "quantity", "returnReasonDefinitionId",
                                   "customerNote", "restockingFee"],
    "ReturnApproveRequestInput": ["id", "notifyCustomer"],
    "ReturnDeclineRequestInput": ["id", "declineReason", "notifyCustomer", "declineNote"],
    "ReturnRequestPayload": ["return", "userErrors"],
    "ReturnApproveRequestPayload": ["return", "userErrors"],
    "ReturnDeclineRequestPayload": ["return", "userErrors"],
    "ReturnProcessPayload": ["return", "userErrors"],
    "ReturnClosePayload": ["return", "userErrors"],
    "ReturnCancelPayload": ["return", "userErrors"],
    "RemoveFromReturnPayload": ["return", "userErrors"],
    "ReverseFulfillmentOrderDisposePayload": ["reverseFulfillmentOrderLineItems", "userErrors"],
    "ReturnUserError": ["code", "field", "message"],
}

def _parse_spec(spec: str) -> tuple[str, list[str] | None]:
    if "(" not in spec:
        return spec, None
    name, rest = spec.split("(", 1)
    return name.strip(), [a.strip() for a in rest.rstrip(")").split(",") if a.strip()]


def generate_sdl(real_sdl_path: str = REAL_SDL_DEFAULT) -> str:
    """Cut ``SELECTION`` out of the real SDL and return the served SDL text."""
    opener = lzma.open if real_sdl_path.endswith(".xz") else open
    with opener(real_sdl_path, "rt", encoding="utf-8") as fh:
        real = build_schema(fh.read())
    needed: set[str] = set()
    out_types = []
    for tname, specs in SELECTION.items():
        t = real.type_map[tname]
        if isinstance(t, GraphQLUnionType):
            members = [real.type_map[m] for m in specs]
            out_types.append(GraphQLUnionType(tname, types=members))
            continue
        fields = {}
        for spec in specs:
            fname, args = _parse_spec(spec)
            f = t.fields[fname]
            needed.add(get_named_type(f.type).name)
            if isinstance(t, GraphQLInputObjectType):
                fields[fname] = f
                continue
            keep = {a: f.args[a] for a in (args if args is not None else [])}
            # Required arguments can never be dropped.
            for a, arg in f.args.items():
                if str(arg.type).endswith("!") and arg.default is None:
                    keep.setdefault(a, arg)
            for arg in keep.values():
                needed.add(get_named_type(arg.type).name)
            fields[fname] = GraphQLField(f.type, args={a: GraphQLArgument(
                v.type, default_value=v.default_value, default=v.default)
                for a, v in keep.items()},
                deprecation_reason=f.deprecation_reason)
        if isinstance(t, GraphQLInputObjectType):
            out_types.append(GraphQLInputObjectType(tname, fields=fields))
        elif isinstance(t, GraphQLInterfaceType):
            out_types.append(GraphQLInterfaceType(tname, fields=fields))
        else:
            ifaces = [i for i in t.interfaces if i.name in SELECTION]
            out_types.append(GraphQLObjectType(tname, fields=fields, interfaces=ifaces))
    # Leaf types (scalars, enums) referenced by the selection come over whole.
    leaves = []
    for name in sorted(needed - set(SELECTION)):
        t = real.type_map[name]
        if isinstance(t, (GraphQLScalarType, GraphQLEnumType)):
            if name in ("String", "Int", "Float", "Boolean", "ID"):
                continue
            if isinstance(t, GraphQLEnumType):
                t = GraphQLEnumType(name, {k: v for k, v in t.values.items()})
            else:
                t = GraphQLScalarType(name)
            leaves.append(t)
        else:
            raise ValueError(f"type {name} is referenced but not selected")
    parts = ["# GENERATED by sandbox/schema_subset.py from Shopify's real Admin GraphQL SDL",
             "# (admin-2026-04). Do not edit by hand; change SELECTION and regenerate.",
             "schema {\n  query: QueryRoot\n  mutation: Mutation\n}"]
    parts += [print_type(t) for t in out_types + leaves]
    # Shopify's own directive for keyed mutations (2026-01; enforced in sandbox/issuing.py).
    parts += [print_directive(real.get_directive(name)) for name in SERVED_DIRECTIVES]
    return "\n\n".join(parts) + "\n"


def load_served_sdl() -> str:
    """Return the SDL text the sandbox serves."""
    with open(SERVED_SDL, encoding="utf-8") as fh:
        return fh.read()


def main(argv: list[str]) -> int:
    """Regenerate ``sandbox/schema.graphql`` from a real SDL path."""
    path = argv[1] if len(argv) > 1 else REAL_SDL_DEFAULT
    text = generate_sdl(path)  # before opening the file: a failed cut leaves the old one whole
    with open(SERVED_SDL, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {SERVED_SDL}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
