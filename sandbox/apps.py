"""Apps and their installations, as on Shopify: an app is one client id and one client secret;
it is installed on many shops, each installation with the scopes that shop granted.

The client secret belongs to the app, not to a shop: Shopify signs every webhook it sends the app,
from whichever shop, with the app's client secret (shopify.dev/docs/apps/build/webhooks/subscribe/https,
"Verify the webhook"; docs/reference/shopify-api.md §1.2), and the secret changes only when the
app's developer rotates it (shopify.dev/docs/apps/build/authentication-authorization/client-secrets).
So registering an app again installs it (or changes that shop's scopes) and never replaces its
secret; another secret for a known client id is refused. Uninstalling ends one installation:
that shop's tokens and subscriptions of the app go, its other shops keep theirs.
"""
from __future__ import annotations

import secrets

from .models import App, Installation


class AppConflict(ValueError):
    """Another secret for a registered app (the store maps it to HTTP 409)."""


def installation(state: dict, shop: str, client_id: str) -> Installation | None:
    """The app's installation on ``shop`` (installed or not), or None."""
    return state["installs"].get(((shop or "").lower(), client_id))


def installed(state: dict, shop: str, client_id: str) -> bool:
    """Is the app installed on the shop now?"""
    found = installation(state, shop, client_id)
    return bool(found and found.installed)


def of_shop(state: dict, shop: str) -> list[tuple[App, Installation]]:
    """(app, installation) for every app ever installed on ``shop``, in installation order."""
    return [(state["apps"][inst.client_id], inst) for (domain, _cid), inst in state["installs"].items()
            if domain == shop and inst.client_id in state["apps"]]


def installed_shops(state: dict, client_id: str) -> list[str]:
    """The shops the app is installed on now."""
    return [inst.shop for inst in state["installs"].values() if inst.client_id == client_id and inst.installed]


def register(state: dict, shop: str, client_id: str | None, client_secret: str | None,
             scopes: list[str] | None, default_scopes: list[str], name: str, api_version: str,
             now: float) -> tuple[App, Installation]:
    """Make the app if its client id is new (asking for ``scopes``, else ``default_scopes``), and
    install it on ``shop`` with ``scopes`` (the app's own when None). A known app keeps its
    secret, name and API version; a different ``client_secret`` for it raises AppConflict and
    changes nothing; credentials that are not printable text raise ValueError."""
    for field, value in (("client_id", client_id), ("client_secret", client_secret)):
        if value is not None and not (isinstance(value, str) and value.isprintable() and 0 < len(value) <= 255):
            raise ValueError(f"{field} must be printable text of 1 to 255 characters")
    shop = shop.lower()
    app = state["apps"].get(client_id) if client_id else None
    if app is None:
        app = App(client_id=client_id or secrets.token_hex(16),
                  client_secret=client_secret or "shpss_" + secrets.token_hex(16),
                  scopes=scopes if scopes is not None else default_scopes, shop=shop, name=name,
                  installed=True, api_version=api_version)
        state["apps"][app.client_id] = app
    elif client_secret and client_secret != app.client_secret:
        raise AppConflict(f"app {app.client_id} is registered already with another client secret; "
                          "an app's secret belongs to the app and is not replaced by registering it again")
    inst = installation(state, shop, app.client_id)
    if inst is None:
        inst = Installation(shop=shop, client_id=app.client_id, installed_at=now)
        state["installs"][(shop, app.client_id)] = inst
    inst.scopes = scopes if scopes is not None else list(app.scopes)
    inst.installed = True
    return app, inst


def uninstall(state: dict, shop: str, client_id: str) -> None:
    """End the app's installation on ``shop``: its tokens and subscriptions there are removed."""
    shop = shop.lower()
    inst = installation(state, shop, client_id)
    if inst is not None:
        inst.installed = False
    for key in [t for t, tok in state["tokens"].items() if (tok.client_id, tok.shop) == (client_id, shop)]:
        del state["tokens"][key]
    for sid in [s for s, sub in state["subs"].items() if (sub.client_id, sub.shop) == (client_id, shop)]:
        del state["subs"][sid]


def migrate(state: dict) -> None:
    """A state file from before installations: each app was installed on its one ``shop``."""
    if "installs" in state:
        return
    state["installs"] = {
        (app.shop, app.client_id): Installation(shop=app.shop, client_id=app.client_id,
                                                scopes=list(app.scopes or ()),
                                                installed=app.installed is not False, installed_at=None)
        for app in state["apps"].values() if app.shop}
