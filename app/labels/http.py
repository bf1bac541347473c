"""The one way label adapters call a provider: JSON over HTTPS with a timeout, every failure a
LabelError that says whether trying again may help."""
from __future__ import annotations

import requests

from app.labels.base import LabelError


def call(session: requests.Session, method: str, url: str, *, timeout: float, json: dict | None = None,
         params: dict | None = None, error_code=None) -> dict:
    """The JSON object the provider answered. A timeout, a dropped connection, a 5xx or an answer
    that is not JSON is retryable (the call may have been applied: the caller reads back by id
    before buying again); a 4xx is not. `error_code(body)` names the provider's error code."""
    try:
        response = session.request(method, url, json=json, params=params, timeout=timeout)
    except requests.RequestException as exc:
        raise LabelError(f"{method} {url}: no answer ({type(exc).__name__})", retryable=True) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500 or (response.ok and not isinstance(body, dict)):
        raise LabelError(f"{method} {url}: HTTP {response.status_code}", retryable=True,
                         status=response.status_code)
    if not response.ok:
        code = error_code(body) if error_code and isinstance(body, dict) else None
        message = _message(body) or f"HTTP {response.status_code}"
        error = LabelError(f"{message}" + (f" ({code})" if code else ""), status=response.status_code,
                           retryable=response.status_code == 429)
        error.code = code
        raise error
    return body


def _message(body: object) -> str | None:
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:300]
        for key in ("detail", "message", "error"):
            if isinstance(body.get(key), str):
                return body[key][:300]
    return None
