"""OAuth endpoints of a shop: the install page and the token endpoint.

- ``GET /admin/oauth/authorize``: an HTML page where a person approves the app;
  approving redirects to ``redirect_uri`` with ``code, hmac, host, shop, state,
  timestamp``; ``hmac`` is hex HMAC-SHA256 of the sorted query string (without
  ``hmac``) keyed with the client secret (Shopify's OAuth query algorithm).
- ``POST /admin/oauth/access_token`` (JSON or form): authorization_code
  (non-expiring offline token, or with ``expiring=1`` a 60-minute token plus a
  90-day refresh token), refresh_token, and client_credentials (24 h, no refresh).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode, urlparse

from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from . import apps
from .store import scope_set

bp = Blueprint("sandbox_oauth", __name__)

ACCESS_TTL = 3600            # expiring offline token (60 minutes)
REFRESH_TTL = 90 * 86400     # refresh token lifetime (90 days)
CLIENT_CREDENTIALS_TTL = 86399
ONLINE_TTL = 86399


def query_hmac(secret: str, params: dict) -> str:
    """Shopify's OAuth/query HMAC: hex HMAC-SHA256 over sorted ``k=v`` joined by ``&``."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _store():
    return current_app.extensions["sandbox"]


def _oauth_error(message: str, status: int = 400, code: str = "invalid_request"):
    return jsonify({"error": code, "error_description": message}), status


def _params() -> dict:
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict() or request.args.to_dict()


@bp.route("/store/<shop_domain>/admin/oauth/authorize", methods=["GET"])
def authorize(shop_domain: str):
    """The consent page ("Install app")."""
    st = _store()
    shop = st.state["shops"].get(shop_domain.lower())
    args = request.args
    app = st.state["apps"].get(args.get("client_id", ""))
    problem = None
    if shop is None:
        problem = "This store is unavailable."
    elif app is None:  # a registered app may be installed on any shop (sandbox/apps.py)
        problem = "The app couldn't be found (unknown client_id)."
    elif urlparse(args.get("redirect_uri", "")).scheme not in ("http", "https"):
        problem = "The redirect_uri is missing or not an absolute URL."
    if problem:
        return render_template("sandbox/authorize.html", problem=problem), 400
    scopes = [s for s in args.get("scope", "").replace(" ", ",").split(",") if s]
    return render_template("sandbox/authorize.html", problem=None, shop=shop, app=app,
                           scopes=scopes or app.scopes, args=args,
                           per_user=args.get("grant_options[]") == "per-user")


@bp.route("/store/<shop_domain>/admin/oauth/authorize", methods=["POST"])
def approve(shop_domain: str):
    """The person clicked Install: mint a code and redirect back with an HMAC."""
    st = _store()
    shop = st.state["shops"].get(shop_domain.lower())
    app = st.state["apps"].get(request.form.get("client_id", ""))
    redirect_uri = request.form.get("redirect_uri", "")
    if shop is None or app is None or not redirect_uri:
        return render_template("sandbox/authorize.html", problem="Invalid install request."), 400
    code = secrets.token_hex(16)
    scopes = [s for s in request.form.get("scope", "").split(",") if s] or app.scopes
    with st.lock:
        # Installing: the shop grants the app these scopes; the app keeps its one secret.
        apps.register(st.state, shop.domain, app.client_id, None, sorted(scope_set(scopes)),
                      app.scopes, app.name, app.api_version, st.clock.now())
        st.state["codes"][code] = {"client_id": app.client_id, "shop": shop.domain,
                                   "scopes": scopes, "created": st.clock.now(),
                                   "per_user": request.form.get("per_user") == "1"}
    store_name = shop.domain.split(".")[0]
    params = {"code": code, "host": base64.b64encode(
        f"admin.shopify.com/store/{store_name}".encode()).decode().rstrip("="),
        "shop": shop.domain, "state": request.form.get("state", ""),
        "timestamp": str(int(st.clock.now()))}
    params["hmac"] = query_hmac(app.client_secret, params)
    sep = "&" if urlparse(redirect_uri).query else "?"
    return redirect(redirect_uri + sep + urlencode(params), code=302)


def _token_json(tok, app, extra=None) -> dict:
    out = {"access_token": tok.token, "scope": ",".join(tok.scopes)}
    if tok.expires_at is not None:
        out["expires_in"] = int(round(tok.expires_at - tok.created_at))
    if tok.refresh_token:
        out["refresh_token"] = tok.refresh_token
        out["refresh_token_expires_in"] = int(round(tok.refresh_expires_at - tok.created_at))
    out.update(extra or {})
    return out


@bp.route("/store/<shop_domain>/admin/oauth/access_token", methods=["POST"])
def access_token(shop_domain: str):
    """Token endpoint for all three grant types."""
    st = _store()
    p = _params()
    shop = st.state["shops"].get(shop_domain.lower())
    if shop is None:
        return _oauth_error("Shop not found", 404)
    app = st.state["apps"].get(str(p.get("client_id", "")))
    if app is None or not hmac.compare_digest(str(p.get("client_secret", "")), app.client_secret):
        return _oauth_error("Client authentication failed", 401, "invalid_client")
    grant = p.get("grant_type") or ("authorization_code" if p.get("code") else "")
    if grant == "authorization_code":
        with st.lock:
            info = st.state["codes"].pop(str(p.get("code", "")), None)
        if (info is None or info["client_id"] != app.client_id or info["shop"] != shop.domain
                or st.clock.now() - info["created"] > 600):
            return _oauth_error("The authorization code was not found or was already used",
                                400, "invalid_grant")
        if info["per_user"]:
            tok = st.issue_token(app, shop.domain, "online", info["scopes"], ttl=ONLINE_TTL,
                                 prefix="shpua_")
            return jsonify(_token_json(tok, app, {
                "associated_user_scope": ",".join(tok.scopes),
                "associated_user": {"id": 902541635, "first_name": "Shop", "last_name": "Owner",
                                    "email": shop.email, "account_owner": True,
                                    "locale": "en", "collaborator": False,
                                    "email_verified": True}}))
        expiring = str(p.get("expiring", "0")) in ("1", "true", "True")
        tok = st.issue_token(app, shop.domain, "offline", info["scopes"],
                             ttl=ACCESS_TTL if expiring else None,
                             refresh_ttl=REFRESH_TTL if expiring else None)
        return jsonify(_token_json(tok, app))
    if grant == "refresh_token":
        rt = str(p.get("refresh_token", ""))
        with st.lock:
            old_token = st.state["refresh"].get(rt)
            old = st.state["tokens"].get(old_token) if old_token else None
            if (old is None or old.client_id != app.client_id or old.shop != shop.domain
                    or st.clock.now() >= old.refresh_expires_at):
                return _oauth_error("The refresh token is invalid or expired", 400,
                                    "invalid_grant")
            # The used refresh token is retired; its access token stops working too.
            st.state["refresh"].pop(rt, None)
            st.state["tokens"].pop(old_token, None)
            remaining = old.refresh_expires_at - st.clock.now()
        tok = st.issue_token(app, shop.domain, "offline", old.scopes, ttl=ACCESS_TTL,
                             refresh_ttl=remaining)
        return jsonify(_token_json(tok, app))
    if grant == "client_credentials":
        # Only for an app installed on the shop (docs/reference/shopify-api.md H2).
        if not apps.installed(st.state, shop.domain, app.client_id):
            return _oauth_error("The app is not installed on this shop", 400, "invalid_grant")
        tok = st.issue_token(app, shop.domain, "client_credentials", ttl=CLIENT_CREDENTIALS_TTL)
        return jsonify(_token_json(tok, app))
    return _oauth_error(f"Unsupported grant_type '{grant}'", 400, "unsupported_grant_type")
