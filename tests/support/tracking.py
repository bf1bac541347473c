"""Test helpers for tracking intake: a return with a tracking number, a provider connection,
and signed deliveries written from the providers' documented schemes (not from app code)."""
import base64
import hashlib
import hmac
import json
import time
import unicodedata

from app.crypto import decrypt_secret
from app.extensions import db
from app.services.tracking import create_or_rotate, save_credentials
from tests.factories import make_order, make_return


def return_with_tracking(account, number="1Z999AA10123456784", status="OPEN", **fields):
    """A return (OPEN unless said) of a fresh order with that tracking number (committed)."""
    ret = make_return(account, make_order(account), tracking_number=number, **fields)
    ret.status = status
    db.session.commit()
    return ret


def connect(account, provider, *, secret=None, username=None):
    """A committed connection; AfterShip/SEKO credentials saved as the retailer would."""
    connection = create_or_rotate(account, provider)
    if secret is not None or username is not None:
        connection = save_credentials(account, provider, secret=secret, username=username)
    return connection


def path_of(connection):
    return f"/webhooks/tracking/{connection.provider}/{connection.url_token}"


def generic_headers(secret, body: bytes, t=None):
    t = int(time.time()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Returns-Signature": f"t={t},v1={digest}", "Content-Type": "application/json"}


def aftership_headers(secret, body: bytes):
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"aftership-hmac-sha256": digest, "Content-Type": "application/json"}


def easypost_headers(secret, body: bytes):
    key = unicodedata.normalize("NFKD", secret).encode()
    return {"X-Hmac-Signature": "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


def generic_event(number, status, event_id=None, occurred_at="2026-03-02T10:00:00+00:00", **extra):
    """A generic-format body (bytes)."""
    body = {"event_id": event_id or f"{number}-{status}", "tracking_number": number, "status": status,
            "occurred_at": occurred_at, **extra}
    return json.dumps(body).encode()


def send_generic(client, connection, number, status, **kwargs):
    """POST one signed generic event through the real endpoint."""
    body = generic_event(number, status, **kwargs)
    secret = decrypt_secret(connection.secret_encrypted)
    return client.post(path_of(connection), data=body, headers=generic_headers(secret, body))


def shippo_body(track: dict, event="track_updated", test=False) -> bytes:
    """A Shippo webhook body: the Track object inside Shippo's documented envelope."""
    return json.dumps({"event": event, "test": test, "data": track}).encode()
