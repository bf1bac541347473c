"""The sandbox's in-memory Shopify: shops, apps, tokens, orders and their changes.

Everything the HTTP layer, the control API, the CLI and in-process tests do goes
through these methods (the orders' are in ``store_orders.py``), under one re-entrant
lock.  Webhook delivery and bulk operations run on background threads owned by the
store (see ``webhooks.py`` and ``bulk.py``).
"""
from __future__ import annotations

import random
import secrets
import threading

from . import apps
from . import seed as seeding
from .clock import RealClock
from .errors import SandboxError
from .models import DEFAULT_FAULTS, PLANS, App, Shop, Token
from .persistence import load_state, save_state
from .rest_payload import shop_payload
from .store_orders import ShopOrders

# An app's API version unless it names one: the version of the schema the sandbox serves
# (sandbox/schema.graphql is cut from Shopify's 2026-04 schema).
DEFAULT_API_VERSION = "2026-04"
DEFAULT_SCOPES = ["read_orders", "write_orders", "read_all_orders", "read_products",
                  "read_customers", "read_inventory", "write_inventory", "read_locations",
                  "write_gift_cards", "write_draft_orders", "write_returns", "write_customers"]


def fresh_state() -> dict:
    """An empty sandbox: no shops, apps, installations, tokens, subscriptions or deliveries."""
    return {"shops": {}, "apps": {}, "installs": {}, "tokens": {}, "refresh": {}, "codes": {}, "subs": {},
            "deliveries": [], "bulk": {}, "seq": 1000}


def scope_set(scopes) -> set[str]:
    """Normalise a scope list/string; ``write_x`` implies ``read_x`` as on Shopify."""
    if isinstance(scopes, str):
        scopes = [s for s in scopes.replace(" ", ",").split(",") if s]
    out = set(scopes or ())
    out |= {"read_" + s[6:] for s in out if s.startswith("write_")}
    return out


class Store(ShopOrders):
    """All sandbox state plus the operations the control API exposes."""

    def __init__(self, clock=None, config: dict | None = None):
        from .bulk import BulkRunner
        from .webhooks import WebhookDispatcher
        self.clock = clock or RealClock()
        self.config = dict(config or {})
        self.lock = threading.RLock()
        self.state = fresh_state()
        self.buckets: dict = {}
        self.state_file = self.config.get("SANDBOX_STATE_FILE")
        if self.state_file:
            loaded = load_state(self.state_file)
            if loaded:
                apps.migrate(loaded)
                self.state = loaded
        self.webhooks = WebhookDispatcher(self)
        self.bulk = BulkRunner(self)
        self._fault_rng = random.Random(self.config.get("SANDBOX_SEED", 7))

    # ---- housekeeping -------------------------------------------------------------
    def next_seq(self) -> int:
        """A store-wide increasing integer for subscription/delivery/bulk ids."""
        with self.lock:
            self.state["seq"] += 1
            return self.state["seq"]

    def reset(self) -> None:
        """Forget everything (shops, apps, tokens, webhooks, buckets) and restart the fault
        dice, so the same scenario after a reset meets the same faults."""
        self.webhooks.clear()
        with self.lock:
            self.state = fresh_state()
            self.buckets.clear()
            self._fault_rng = random.Random(self.config.get("SANDBOX_SEED", 7))

    def save(self) -> None:
        """Write the state file, if one is configured."""
        if self.state_file:
            with self.lock:
                save_state(self.state, self.state_file)

    def save_at_exit(self) -> None:
        """atexit hook: save unless closed; never raise while the interpreter exits."""
        if getattr(self, "_closed", False):
            return
        try:
            self.save()
        except OSError:
            pass

    def close(self) -> None:
        """Stop background threads (tests call this at session end)."""
        self._closed = True
        self.webhooks.stop()
        self.bulk.stop()

    # ---- shops ----------------------------------------------------------------------
    def create_shop(self, domain: str, name: str | None = None, currency: str = "USD",
                    plan: str = "basic", protected_data: bool = True,
                    email: str | None = None) -> Shop:
        """Create (or replace) a shop with its deterministic product catalogue."""
        domain = (domain or "").strip().lower()
        if not domain or "/" in domain or " " in domain:
            raise SandboxError("domain is required, e.g. demo.myshopify.com")
        if plan not in PLANS:
            raise SandboxError(f"plan must be one of {', '.join(PLANS)}")
        currency = (currency or "USD").upper()
        if currency not in seeding.RATES:
            raise SandboxError(f"currency must be one of {', '.join(sorted(seeding.RATES))}")
        sid = 60_000_000 + seeding.shop_seed(domain) % 30_000_000
        id_base = sid * 100_000_000 // 1_000  # ~13-digit ids like real stores
        now = self.clock.now()
        products, variants = seeding.build_catalogue(domain, id_base, now - 365 * 86400)
        shop = Shop(id=sid, domain=domain, name=name or domain.split(".")[0].title(),
                    email=email or f"owner@{domain}", currency=currency, plan=plan,
                    protected_data=bool(protected_data), timezone="UTC", products=products,
                    variants=variants, customers={}, orders={}, order_list=[],
                    next_number=1001, next_id=id_base + 10_000_000,
                    faults=dict(DEFAULT_FAULTS), created_at=now)
        with self.lock:
            self.state["shops"][domain] = shop
        return shop

    def get_shop(self, domain: str) -> Shop:
        """Return the shop or raise SandboxError(404)."""
        shop = self.state["shops"].get((domain or "").lower())
        if shop is None:
            raise SandboxError(f"unknown shop {domain}", 404)
        return shop

    def update_shop(self, domain: str, **changes) -> Shop:
        """Change plan, protected_data, name, email or currency of a shop."""
        shop = self.get_shop(domain)
        with self.lock:
            for key in ("plan", "protected_data", "name", "email", "currency"):
                if changes.get(key) is not None:
                    if key == "plan" and changes[key] not in PLANS:
                        raise SandboxError(f"plan must be one of {', '.join(PLANS)}")
                    setattr(shop, key, changes[key])
        return shop

    # ---- apps, installations and tokens (sandbox/apps.py) -------------------------------
    def create_app(self, shop: str, client_id: str | None = None,
                   client_secret: str | None = None, scopes=None, name: str = "Boomerang",
                   api_version: str = DEFAULT_API_VERSION) -> App:
        """Register the app (when its client id is new) and install it on ``shop`` with
        ``scopes``; a known app keeps its secret, and another secret for it is refused (409)."""
        self.get_shop(shop)
        granted = sorted(scope_set(scopes)) if scopes is not None else None
        with self.lock:
            try:
                app, _ = apps.register(self.state, shop, client_id, client_secret, granted,
                                       sorted(scope_set(DEFAULT_SCOPES)), name, api_version,
                                       self.clock.now())
            except ValueError as bad:  # AppConflict: another secret for a known app
                raise SandboxError(str(bad), 409 if isinstance(bad, apps.AppConflict) else 400) from None
        return app

    def get_app(self, client_id: str) -> App:
        """Return the app or raise SandboxError(404)."""
        app = self.state["apps"].get(client_id)
        if app is None:
            raise SandboxError(f"unknown app {client_id}", 404)
        return app

    def issue_token(self, app: App, shop: str, kind: str, scopes=None, ttl: float | None = None,
                    refresh_ttl: float | None = None, prefix: str = "shpat_") -> Token:
        """Mint an access token of the app for one shop (and a refresh token when
        ``refresh_ttl``); scopes default to what the shop granted the app."""
        now = self.clock.now()
        inst = apps.installation(self.state, shop, app.client_id)
        tok = Token(token=prefix + secrets.token_hex(16), client_id=app.client_id,
                    shop=shop.lower(), kind=kind,
                    scopes=sorted(scope_set(scopes or (inst.scopes if inst else app.scopes))),
                    expires_at=now + ttl if ttl else None, created_at=now,
                    refresh_token="shprt_" + secrets.token_hex(16) if refresh_ttl else None,
                    refresh_expires_at=now + refresh_ttl if refresh_ttl else None)
        with self.lock:
            self.state["tokens"][tok.token] = tok
            if tok.refresh_token:
                self.state["refresh"][tok.refresh_token] = tok.token
        return tok

    def issue_admin_token(self, shop: str, client_id: str, scopes=None) -> Token:
        """A legacy admin custom-app token: ``shpat_…``, never expires; the app must be
        installed on the shop."""
        app = self.get_app(client_id)
        if not apps.installed(self.state, shop, client_id):
            raise SandboxError("the app is not installed on this shop")
        return self.issue_token(app, shop, "admin", scopes)

    def authenticate(self, shop: str, token: str | None) -> Token | None:
        """Return the live token for this shop, or None (unknown, another shop's, expired,
        the app uninstalled from this shop)."""
        tok = self.state["tokens"].get(token or "")
        if tok is None or tok.shop != (shop or "").lower() or not apps.installed(
                self.state, tok.shop, tok.client_id):
            return None
        if tok.expires_at is not None and self.clock.now() >= tok.expires_at:
            return None
        return tok

    def uninstall_app(self, shop: str, client_id: str) -> None:
        """Uninstall the app from one shop: deliver app/uninstalled, then revoke its tokens and
        subscriptions there (its other installations keep theirs)."""
        self.get_app(client_id)
        shop_obj = self.get_shop(shop)
        if not apps.installed(self.state, shop_obj.domain, client_id):
            raise SandboxError("the app is not installed on this shop")
        self.webhooks.emit(shop_obj, "app/uninstalled", shop_payload(self, shop_obj),
                           only_client=client_id)
        with self.lock:
            apps.uninstall(self.state, shop_obj.domain, client_id)

    # ---- faults -------------------------------------------------------------------------
    def set_faults(self, shop: str, **faults) -> dict:
        """Set fault-injection knobs for a shop (unknown names are rejected)."""
        shop_obj = self.get_shop(shop)
        unknown = set(faults) - set(DEFAULT_FAULTS)
        if unknown:
            raise SandboxError(f"unknown faults: {', '.join(sorted(unknown))}")
        with self.lock:
            shop_obj.faults.update(faults)
            return dict(shop_obj.faults)

    def clear_faults(self, shop: str) -> dict:
        """Turn all faults off for a shop."""
        shop_obj = self.get_shop(shop)
        shop_obj.faults = dict(DEFAULT_FAULTS)
        return dict(shop_obj.faults)

    def fault_roll(self, rate: float) -> bool:
        """Seeded coin flip used by fault injection (deterministic per store seed)."""
        with self.lock:
            return bool(rate) and self._fault_rng.random() < float(rate)

    def fault_choice(self, options):
        """Seeded choice among fault variants (e.g. which 5xx)."""
        with self.lock:
            return self._fault_rng.choice(list(options))

    def search_lag(self, shop: Shop) -> float:
        """Seconds by which the search index trails writes for this shop."""
        lag = shop.faults.get("search_lag_seconds")
        if lag is None:
            lag = self.config.get("SANDBOX_SEARCH_LAG", 0.0)
        return float(lag or 0.0)
