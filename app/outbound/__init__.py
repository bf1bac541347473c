"""The adapter for the retailer's own webhook endpoints (outbound webhooks): which addresses may be
reached (`addresses`), how a delivery is signed (`signing`) and how one request is sent to a vetted
address (`http`). It knows no Flask, models or services, as the other adapters do not.

Not to be confused with `app/webhooks/`, which receives Shopify's webhooks.
"""
