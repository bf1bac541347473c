"""Shopify Admin API client side: GraphQL client, query documents, auth grants, webhooks, mapping.

Modules: ``client`` (transport, pacing, retries), ``operations`` (shop, orders, variants, webhook
subscriptions), ``bulk`` (bulk export), ``auth`` (tokens), ``webhooks`` (HMAC, headers),
``mapping`` (payload → ``app.domain.order_data.OrderData``), ``errors``, ``schema``/``cost``
(tests and tooling). Nothing here needs a Flask app.
"""
