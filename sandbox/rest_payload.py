"""REST-style JSON bodies for webhooks (orders/create, orders/updated, app/uninstalled).

Key set and JSON types follow Shopify's documented 2026-04 example bodies in
``tests/fixtures/shopify/webhook_*_docs_2026-04.metadata.json`` (a test proves
it recursively).  Protected customer data is nulled when the shop says so.
"""
from __future__ import annotations

from . import calc
from .fulfillments import rest_list


def _bag(order, cents: int) -> dict:
    return {"shop_money": {"amount": calc.fmt(cents), "currency_code": order.shop_currency},
            "presentment_money": {"amount": calc.fmt(calc.present(order.o, cents)),
                                  "currency_code": order.o.currency}}


class _Ctx:
    """Order plus the shop currency, so money bags know both currencies."""

    def __init__(self, order, shop_currency):
        self.o, self.shop_currency = order, shop_currency


def _address(addr, protected: bool) -> dict | None:
    if addr is None or protected:
        return None
    return {"first_name": addr.first_name, "address1": addr.address1, "phone": addr.phone,
            "city": addr.city, "zip": addr.zip, "province": addr.province,
            "country": addr.country, "last_name": addr.last_name, "address2": addr.address2,
            "company": addr.company, "latitude": None, "longitude": None,
            "name": f"{addr.first_name} {addr.last_name}", "country_code": addr.country_code,
            "province_code": addr.province_code}


def _customer(shop, order, hidden: bool) -> dict | None:
    cust = shop.customers.get(order.customer_id)
    if cust is None:
        return None
    a = cust.address
    default_address = None if hidden else {
        "id": cust.id * 10 + 1, "customer_id": cust.id, "first_name": a.first_name,
        "last_name": a.last_name, "company": a.company, "address1": a.address1,
        "address2": a.address2, "city": a.city, "province": a.province, "country": a.country,
        "zip": a.zip, "phone": a.phone, "name": f"{a.first_name} {a.last_name}",
        "province_code": a.province_code, "country_code": a.country_code,
        "country_name": a.country, "default": True}
    return {"id": cust.id, "created_at": calc.iso_rest(cust.created_at),
            "updated_at": calc.iso_rest(cust.created_at),
            "first_name": None if hidden else cust.first_name,
            "last_name": None if hidden else cust.last_name, "state": "disabled", "note": None,
            "verified_email": True, "multipass_identifier": None, "tax_exempt": False,
            "email": None if hidden else cust.email, "phone": None,
            "currency": shop.currency, "tax_exemptions": [],
            "admin_graphql_api_id": f"gid://shopify/Customer/{cust.id}",
            "default_address": default_address}


def _line(ctx: _Ctx, shop, idx: int, ln, refunded: int) -> dict:
    v = shop.variants.get(ln.variant_id)
    p = shop.products.get(ln.product_id)
    title = p.title if p else "Custom item"
    current = ln.quantity - refunded
    status = None if ln.fulfilled == 0 else (
        "fulfilled" if ln.fulfilled >= ln.quantity else "partial")
    allocations = [] if not ln.discount else [{
        "amount": calc.fmt(ln.discount), "amount_set": _bag(ctx, ln.discount),
        "discount_application_index": 0}]
    return {"id": ln.id, "admin_graphql_api_id": f"gid://shopify/LineItem/{ln.id}",
            "attributed_staffs": [], "current_quantity": current,
            "fulfillable_quantity": max(0, current - ln.fulfilled),
            "fulfillment_service": "manual", "fulfillment_status": status, "gift_card": False,
            "grams": v.grams if v else 0,
            "name": f"{title} - {v.title}" if v and v.title != "Default Title" else title,
            "price": calc.fmt(ln.price), "price_set": _bag(ctx, ln.price), "product_exists": True,
            "product_id": ln.product_id, "properties": [], "quantity": ln.quantity,
            "requires_shipping": True, "sales_line_item_group_id": None,
            "sku": v.sku if v else None, "taxable": True, "title": title,
            "total_discount": calc.fmt(ln.discount), "total_discount_set": _bag(ctx, ln.discount),
            "variant_id": ln.variant_id, "variant_inventory_management": "shopify",
            "variant_title": v.title if v else None, "vendor": p.vendor if p else None,
            "tax_lines": [], "duties": [], "discount_allocations": allocations}


def order_payload(store, shop, order) -> dict:
    """The REST JSON body Shopify sends for orders/create and orders/updated."""
    ctx = _Ctx(order, shop.currency)
    t = calc.totals(order)
    hidden = not shop.protected_data
    refunded = calc.refunded_qty(order)
    fin = calc.financial_status(order).lower()
    ful = calc.fulfillment_status(order)
    zero = _bag(ctx, 0)
    email = None if hidden else order.email
    codes = [] if not order.discount_code else [{
        "code": order.discount_code, "amount": calc.fmt(t["discounts"]), "type": "percentage"}]
    applications = [] if not order.discount_code else [{
        "target_type": "line_item", "type": "discount_code", "value": f"{order.discount_pct}.0",
        "value_type": "percentage", "allocation_method": "across", "target_selection": "all",
        "code": order.discount_code}]
    lines = [_line(ctx, shop, i, ln, refunded[i]) for i, ln in enumerate(order.lines)]
    return {
        "id": order.id, "admin_graphql_api_id": f"gid://shopify/Order/{order.id}",
        "app_id": None, "browser_ip": None, "buyer_accepts_marketing": False,
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "cancelled_at": calc.iso_rest(order.cancelled_at), "cart_token": None,
        "checkout_token": None, "client_details": None,
        "closed_at": None, "confirmation_number": f"C{order.id % 10**9:09d}",
        "confirmed": True, "contact_email": email,
        "created_at": calc.iso_rest(order.created_at), "currency": shop.currency,
        "current_shipping_price_set": _bag(ctx, order.shipping),
        "current_subtotal_price": calc.fmt(t["subtotal"]),
        "current_subtotal_price_set": _bag(ctx, t["subtotal"]),
        "current_total_additional_fees_set": None,
        "current_total_discounts": calc.fmt(t["discounts"]),
        "current_total_discounts_set": _bag(ctx, t["discounts"]),
        "current_total_duties_set": None,
        "current_total_price": calc.fmt(t["current_total"]),
        "current_total_price_set": _bag(ctx, t["current_total"]),
        "current_total_tax": "0.00", "current_total_tax_set": zero,
        "customer_locale": order.locale, "device_id": None, "discount_codes": codes,
        "duties_included": False, "email": email, "estimated_taxes": False,
        "financial_status": fin,
        "fulfillment_status": {"FULFILLED": "fulfilled",
                               "PARTIALLY_FULFILLED": "partial"}.get(ful),
        "landing_site": None, "landing_site_ref": None, "location_id": None,
        "merchant_business_entity_id": f"MTU{shop.id}", "merchant_of_record_app_id": None,
        "name": f"#{order.number}", "note": order.note, "note_attributes": [],
        "number": order.number - 1000, "order_number": order.number,
        "order_status_url": f"https://{shop.domain}/{shop.id}/orders/{order.id:x}/authenticate",
        "original_total_additional_fees_set": None, "original_total_duties_set": None,
        "payment_gateway_names": [order.gateway], "phone": None, "po_number": None,
        "presentment_currency": order.currency,
        "processed_at": calc.iso_rest(order.created_at), "reference": None,
        "referring_site": None, "source_identifier": None, "source_name": "web",
        "source_url": None, "subtotal_price": calc.fmt(t["subtotal"]),
        "subtotal_price_set": _bag(ctx, t["subtotal"]), "tags": ", ".join(order.tags),
        "tax_exempt": False, "tax_lines": [], "taxes_included": False, "test": False,
        "token": f"{order.id:x}",
        "total_cash_rounding_payment_adjustment_set": zero,
        "total_cash_rounding_refund_adjustment_set": zero,
        "total_discounts": calc.fmt(t["discounts"]),
        "total_discounts_set": _bag(ctx, t["discounts"]),
        "total_line_items_price": calc.fmt(t["line_items"]),
        "total_line_items_price_set": _bag(ctx, t["line_items"]),
        "total_outstanding": "0.00" if fin in ("paid", "refunded", "partially_refunded")
        else calc.fmt(t["total"]),
        "total_price": calc.fmt(t["total"]), "total_price_set": _bag(ctx, t["total"]),
        "total_shipping_price_set": _bag(ctx, order.shipping),
        "total_tax": "0.00", "total_tax_set": zero, "total_tip_received": "0.00",
        "total_weight": sum(ln["grams"] * ln["quantity"] for ln in lines),
        "updated_at": calc.iso_rest(order.updated_at), "user_id": None,
        "billing_address": _address(order.ship_to, hidden),
        "customer": _customer(shop, order, hidden),
        "discount_applications": applications,
        "fulfillments": rest_list(shop, order),
        "line_items": lines, "payment_terms": None,
        "refunds": [_refund(ctx, order, r) for r in order.refunds],
        "shipping_address": _address(order.ship_to, hidden),
        "shipping_lines": [_shipping_line(ctx, order)], "returns": [], "line_item_groups": [],
    }


def _refund(ctx, order, r) -> dict:
    return {"id": r.id, "order_id": order.id, "created_at": calc.iso_rest(r.created_at),
            "note": r.note, "restock": True,
            "refund_line_items": [{"id": r.id * 8 + i, "line_item_id": order.lines[idx].id,
                                   "quantity": qty, "restock_type": restock.lower(),
                                   "subtotal": calc.fmt(r.amount)}
                                  for i, (idx, qty, restock) in enumerate(r.lines)],
            "transactions": [{"id": r.transaction_id, "kind": "refund",
                              "status": (r.status or "SUCCESS").lower(),
                              "amount": calc.fmt(r.amount - (r.store_credit or 0)),
                              "gateway": order.gateway,
                              "parent_id": order.id * 8 + 1}] if r.transaction_id else []}


def _shipping_line(ctx, order) -> dict:
    bag = _bag(ctx, order.shipping)
    return {"id": order.id * 2, "carrier_identifier": None, "code": "Standard",
            "current_discounted_price_set": bag, "discounted_price": calc.fmt(order.shipping),
            "discounted_price_set": bag, "is_removed": False, "phone": None,
            "price": calc.fmt(order.shipping), "price_set": bag,
            "requested_fulfillment_service_id": None, "source": "shopify",
            "title": "Standard Shipping", "tax_lines": [], "discount_allocations": []}


def shop_payload(store, shop) -> dict:
    """The shop object sent as the app/uninstalled body."""
    from .models import PLANS
    return {"id": shop.id, "name": shop.name, "email": shop.email, "domain": shop.domain,
            "province": None, "country": "US", "address1": None, "zip": None, "city": None,
            "source": None, "phone": None, "latitude": None, "longitude": None,
            "primary_locale": "en", "address2": None,
            "created_at": calc.iso_rest(shop.created_at),
            "updated_at": calc.iso_rest(shop.created_at), "country_code": "US",
            "country_name": "United States", "currency": shop.currency,
            "customer_email": shop.email, "timezone": "(GMT+00:00) UTC",
            "iana_timezone": "UTC", "shop_owner": shop.name,
            "money_format": "{{amount}}", "money_with_currency_format":
            "{{amount}} " + shop.currency, "weight_unit": "kg", "province_code": None,
            "taxes_included": False, "auto_configure_tax_inclusivity": None,
            "tax_shipping": None, "county_taxes": None,
            "plan_display_name": PLANS[shop.plan][0], "plan_name": shop.plan,
            "has_discounts": True, "has_gift_cards": True, "myshopify_domain": shop.domain,
            "google_apps_domain": None, "google_apps_login_enabled": None,
            "money_in_emails_format": "{{amount}}",
            "money_with_currency_in_emails_format": "{{amount}} " + shop.currency,
            "eligible_for_payments": True, "requires_extra_payments_agreement": False,
            "password_enabled": False, "has_storefront": True, "finances": True,
            "primary_location_id": shop.id * 10 + 1, "checkout_api_supported": True,
            "multi_location_enabled": True, "setup_required": False,
            "pre_launch_enabled": False, "enabled_presentment_currencies": [shop.currency],
            "marketing_sms_consent_enabled_at_checkout": False,
            "transactional_sms_disabled": False}
