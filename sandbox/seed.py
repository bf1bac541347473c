"""Deterministic data generation: catalogue, customers and orders.

Same seed, same shop domain and same end time => the same data, so tests and
benchmarks can name orders.  ``random.Random`` is the only randomness source.
"""
from __future__ import annotations

import random
from urllib.parse import quote
import zlib

from .models import Address, Customer, Line, Order, Product, RefundRec, Variant

# (code, name, province, province code, city, zip, presentment currency)
COUNTRIES = [
    ("US", "United States", "New York", "NY", "New York", "10001", "USD"),
    ("US", "United States", "California", "CA", "Los Angeles", "90012", "USD"),
    ("CA", "Canada", "Ontario", "ON", "Ottawa", "K2H 7A8", "CAD"),
    ("GB", "United Kingdom", "England", "ENG", "London", "SW1A 1AA", "GBP"),
    ("DE", "Germany", "Berlin", "BE", "Berlin", "10115", "EUR"),
    ("FR", "France", "Paris", "75", "Paris", "75001", "EUR"),
    ("NL", "Netherlands", "Noord-Holland", "NH", "Amsterdam", "1012 JS", "EUR"),
    ("IE", "Ireland", "Dublin", "D", "Dublin", "D02 X285", "EUR"),
    ("AU", "Australia", "New South Wales", "NSW", "Sydney", "2000", "AUD"),
    ("NZ", "New Zealand", "Auckland", "AUK", "Auckland", "1010", "NZD"),
    ("SE", "Sweden", "Stockholm", "AB", "Stockholm", "111 51", "SEK"),
    ("DK", "Denmark", "Capital Region", "84", "Copenhagen", "1050", "DKK"),
    ("CH", "Switzerland", "Zurich", "ZH", "Zurich", "8001", "CHF"),
    ("MX", "Mexico", "Ciudad de Mexico", "CDMX", "Mexico City", "06000", "MXN"),
    ("BR", "Brazil", "Sao Paulo", "SP", "Sao Paulo", "01000-000", "BRL"),
]
# Presentment units per 1 unit of USD-like shop money (fixed, fake rates).
RATES = {"USD": 1.0, "CAD": 1.36, "GBP": 0.79, "EUR": 0.92, "AUD": 1.52, "NZD": 1.66,
         "SEK": 10.5, "DKK": 6.9, "CHF": 0.88, "MXN": 17.1, "BRL": 5.0}

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jonas", "Kai",
         "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Uma",
         "Viktor", "Wen", "Yara", "Zoe"]
LAST = ["Almeida", "Brown", "Chen", "Dubois", "Eriksson", "Fischer", "Garcia", "Hansen",
        "Ivanova", "Jensen", "Kowalski", "Lopez", "Martin", "Nguyen", "Okafor", "Patel",
        "Rossi", "Smith", "Tanaka", "Walsh"]
STREETS = ["Elm St.", "Main Street", "High Street", "Harbour Road", "Mill Lane", "Park Ave"]

# (title, type, base price in minor units, tags, option names/values)
CATALOGUE = [
    ("Classic Tee", "Shirts", 2500, ["cotton", "summer"], "apparel"),
    ("Merino Sweater", "Knitwear", 8900, ["wool", "winter"], "apparel"),
    ("Denim Jacket", "Outerwear", 12000, ["denim"], "apparel"),
    ("Linen Shirt", "Shirts", 5400, ["linen", "summer"], "apparel"),
    ("Rain Shell", "Outerwear", 14900, ["waterproof"], "apparel"),
    ("Chino Trousers", "Trousers", 6900, ["cotton"], "apparel"),
    ("Running Shoe", "Footwear", 11000, ["sport"], "shoes"),
    ("Leather Boot", "Footwear", 18900, ["leather", "winter"], "shoes"),
    ("Canvas Sneaker", "Footwear", 6500, ["canvas"], "shoes"),
    ("Wool Beanie", "Accessories", 1900, ["wool", "winter"], "colour"),
    ("Silk Scarf", "Accessories", 4500, ["silk", "final-sale"], "colour"),
    ("Sample Sale Hoodie", "Shirts", 3000, ["final-sale", "clearance"], "apparel"),
    ("Tote Bag", "Bags", 2900, ["canvas"], "colour"),
    ("Gift Card", "Gift Cards", 5000, ["gift-card"], "none"),
]
SIZES = ["XS", "S", "M", "L", "XL"]
SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44"]
COLOURS = ["Black", "Navy", "Olive", "Sand"]
DISCOUNTS = [("WELCOME10", 10), ("SPRING20", 20), ("VIP30", 30), ("HALFOFF", 50)]
# Codes only a placed order uses (never drawn by the seed): STAFF60 takes an order past the 50 %
# the rules demo's "Big discounts get a credit note" rule looks for.
PLACED_DISCOUNTS = [("STAFF60", 60)]
ORDER_TAGS = ["vip", "wholesale", "gift", "influencer", "repeat-customer", "priority"]
# Seeded orders were paid online (card or PayPal), so a refund can go back to the payment. An
# order paid manually has no payment Shopify can refund to (shop_settings.PAYMENTS): place one
# with payment="manual" when that is wanted. Three entries keep the seed's draws as they were.
GATEWAYS = ["shopify_payments", "paypal", "shopify_payments"]


def discount_percent(code: str) -> int:
    """The percentage a discount code takes off (an unknown code: 10)."""
    return dict(DISCOUNTS + PLACED_DISCOUNTS).get(code, 10)


def shop_seed(domain: str) -> int:
    """A stable integer derived from the shop domain (for ids and catalogues)."""
    return zlib.crc32(domain.encode("utf-8"))


def catalogue_collections(index: int) -> list[str]:
    """The titles of the collections the catalogue's product number `index` is in (drawn from
    nothing random, so every other draw of the seed stays as it was)."""
    return ["All products"] + (["New arrivals"] if index % 2 == 0 else []) + (["Summer Sale"] if index % 3 == 0 else [])


def build_catalogue(domain: str, id_base: int, created_at: float):
    """Return (products dict, variants dict) for a new shop, deterministic per domain."""
    rng = random.Random(shop_seed(domain))
    products, variants = {}, {}
    vid = id_base + 500_000
    for i, (title, ptype, price, tags, kind) in enumerate(CATALOGUE):
        pid = id_base + 100_000 + i
        if kind == "apparel":
            options = [("Size", SIZES), ("Color", COLOURS[:2 + i % 3])]
        elif kind == "shoes":
            options = [("Size", SHOE_SIZES)]
        elif kind == "colour":
            options = [("Color", COLOURS)]
        else:
            options = [("Title", ["Default Title"])]
        combos = [()]
        for _name, values in options:
            combos = [c + (v,) for c in combos for v in values]
        vlist = []
        for combo in combos:
            vid += 1
            # Roughly one variant in six is sold out, so exchanges meet stock limits.
            stock = 0 if rng.random() < 0.17 else rng.randint(1, 40)
            v = Variant(id=vid, product_id=pid, title=" / ".join(combo), options=combo,
                        sku=f"{title[:3].upper()}-{'-'.join(c[:3].upper() for c in combo)}",
                        price=price, inventory=stock, grams=300)
            variants[vid] = v
            vlist.append(vid)
        handle = title.lower().replace(" ", "-")
        products[pid] = Product(id=pid, title=title, handle=handle, vendor=domain.split(".")[0],
                                product_type=ptype, tags=list(tags), options=options,
                                variants=vlist, created_at=created_at,
                                image_url=product_image(title), collections=catalogue_collections(i))
    return products, variants


_SWATCHES = ("#3b6e8f", "#8f5b3b", "#4f7d4a", "#7a4f8f", "#8f3b55", "#5b6470")


def product_image(title: str) -> str:
    """A product picture that needs no network: an SVG data URI (a coloured tile with the
    product's initial). Shopify gives CDN URLs; on a closed network those would not load."""
    colour = _SWATCHES[sum(map(ord, title)) % len(_SWATCHES)]
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'><rect width='64' height='64' rx='8' "
           f"fill='{colour}'/><text x='32' y='42' font-family='sans-serif' font-size='28' fill='white' "
           f"text-anchor='middle'>{title[:1].upper()}</text></svg>")
    return "data:image/svg+xml," + quote(svg)


def make_customer(rng: random.Random, cid: int, created_at: float) -> Customer:
    """Create one customer with an address in one of the seeded countries."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    c = COUNTRIES[rng.randrange(len(COUNTRIES))]
    company = f"{last} & Co" if rng.random() < 0.25 else None  # optional, as on Shopify
    addr = Address(first_name=first, last_name=last, company=company,
                   address1=f"{rng.randint(1, 999)} {rng.choice(STREETS)}", address2=None,
                   city=c[4], province=c[2], province_code=c[3], zip=c[5], country=c[1],
                   country_code=c[0], phone=f"+1-555-{rng.randint(1000, 9999)}")
    return Customer(id=cid, first_name=first, last_name=last,
                    email=f"{first.lower()}.{last.lower()}.{cid % 100000}@example.com",
                    phone=None, address=addr, created_at=created_at, currency=c[6])


def make_order(rng: random.Random, shop, oid: int, number: int, created: float,
               customer: Customer, variant_ids: list[int], shop_currency: str,
               fulfil_age_days: float = 0.0) -> Order:
    """Build one order.  ``fulfil_age_days`` (age at the store's "now") decides how far
    along fulfilment and refunds are: old orders are shipped, some refunded."""
    nlines = 1 + (rng.random() < 0.45) + (rng.random() < 0.2) + (rng.random() < 0.08)
    lines = []
    pct = 0
    code = None
    if rng.random() < 0.3:
        code, pct = DISCOUNTS[rng.randrange(len(DISCOUNTS))]
    for idx in range(nlines):
        v = shop.variants[variant_ids[rng.randrange(len(variant_ids))]]
        qty = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        disc = (v.price * qty * pct) // 100
        lines.append(Line(id=oid * 16 + idx, variant_id=v.id, product_id=v.product_id,
                          quantity=qty, price=v.price, discount=disc, fulfilled=0))
    currency = customer.currency if rng.random() < 0.5 else shop_currency
    tags = [t for t in ORDER_TAGS if rng.random() < 0.07]
    order = Order(id=oid, number=number, created_at=created, updated_at=created,
                  cancelled_at=None, cancel_reason=None, customer_id=customer.id,
                  email=customer.email, currency=currency,
                  rate=RATES.get(currency, 1.0) / RATES.get(shop_currency, 1.0),
                  lines=lines, discount_code=code, discount_pct=pct, tags=tags,
                  shipping=rng.choice((0, 500, 800, 1200)), financial="PAID", refunds=[],
                  note=None, ship_to=customer.address, search_at=None,
                  search_prev_updated=None, gateway=rng.choice(GATEWAYS), locale="en")
    r = rng.random()
    if fulfil_age_days > 2:
        # Most orders older than two days have shipped; a few only partly.
        for ln in lines:
            ln.fulfilled = ln.quantity if r < 0.85 else ln.quantity // 2
        if r < 0.12 and fulfil_age_days > 5:
            ln = lines[0]
            qty = max(1, ln.fulfilled)
            amount = (ln.price * ln.quantity - ln.discount) * qty // ln.quantity
            order.refunds.append(RefundRec(id=oid * 4 + 1, created_at=created + 4 * 86400,
                                           lines=[(0, qty, "RETURN")], amount=amount,
                                           note="Customer return", transaction_id=oid * 8 + 2))
            order.updated_at = created + 4 * 86400
        elif 0.97 < r and not order.refunds:
            order.cancelled_at = created + 3600
            order.cancel_reason = "CUSTOMER"
            order.financial = "VOIDED"
            order.updated_at = created + 3600
            for ln in lines:
                ln.fulfilled = 0
    elif r < 0.05:
        order.financial = "AUTHORIZED"
    elif r < 0.08:
        order.financial = "PENDING"
    return order


def seed_orders(shop, count: int, days: float, seed: int, end: float,
                customers_per_order: float = 0.4) -> list[Order]:
    """Generate ``count`` orders spread over the ``days`` before ``end``.

    Returns the new orders in creation order; the caller indexes them.
    """
    rng = random.Random(seed * 1_000_003 + shop_seed(shop.domain))
    span = days * 86400.0
    times = sorted(end - rng.random() * span for _ in range(count))
    ncust = max(5, int(count * customers_per_order))
    new_customers = []
    base_cid = shop.id * 10_000_000 + 2_000_000 + len(shop.customers)
    for i in range(ncust):
        c = make_customer(rng, base_cid + i, end - span)
        shop.customers[c.id] = c
        new_customers.append(c)
    variant_ids = sorted(shop.variants)
    orders = []
    for created in times:
        cust = new_customers[rng.randrange(ncust)]
        oid = shop.next_id
        shop.next_id += 1
        order = make_order(rng, shop, oid, shop.next_number, created, cust, variant_ids,
                           shop.currency, (end - created) / 86400.0)
        shop.next_number += 1
        orders.append(order)
    return orders
