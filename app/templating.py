"""Jinja settings and template globals."""
from flask import Flask, g

from app.security import HTMX_CDN_URL, HTMX_SRI, is_htmx


def init_app(app: Flask) -> None:
    """Register template globals."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        csp_nonce=lambda: getattr(g, "csp_nonce", ""),
        htmx_cdn_url=HTMX_CDN_URL,
        htmx_sri=HTMX_SRI,
        is_htmx=is_htmx,
    )
