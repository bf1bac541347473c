"""Jinja settings and template globals."""
from flask import Flask, g

from app.domain.contrast import Palette, portal_palette
from app.security import HTMX_PATH, HTMX_SRI, is_htmx
from app.services.rules_mode import shopper_promise_for

DEFAULT_BRAND = "#1f6feb"


def init_app(app: Flask) -> None:
    """Register template globals."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        csp_nonce=lambda: getattr(g, "csp_nonce", ""),
        htmx_path=HTMX_PATH,
        htmx_sri=HTMX_SRI,
        is_htmx=is_htmx,
        brand_palette=brand_palette,
        rules_promise=_rules_promise,
    )


def brand_palette(colour: str | None) -> Palette:
    """The portal's readable colours for a shop's brand colour (one stored before colours were
    checked may fail AA: it is adjusted here); Boomerang's own blue for a colour that is not #rrggbb."""
    try:
        return portal_palette(colour or DEFAULT_BRAND)
    except ValueError:
        return portal_palette(DEFAULT_BRAND)


def _rules_promise(account) -> str:
    """What rules mode will really do with a shopper's items, from the shop's rules as they are."""
    return shopper_promise_for(account)
