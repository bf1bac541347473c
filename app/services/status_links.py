"""A return's status link, as the shopper's emails carry it: the portal's status page, reached
through a signed token that names one return of one shop and the day the link was made.

Made here, not in the portal, because emails are written by services and jobs, outside any
request; the portal reads the same tokens back (app/portal/session.py).
"""
from datetime import datetime, timezone

from flask import current_app
from itsdangerous import URLSafeSerializer

from app.models import Return

STATUS_SALT = "boomerang.portal.return-status"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def serializer() -> URLSafeSerializer:
    """The signer of status tokens (the app's secret key, its own salt)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STATUS_SALT)


def status_token(ret: Return) -> str:
    """The token of a status link: names this return of this shop, and the day the link was made
    (a day, not a second: one link per return and day, so a page shows the same link as its email)."""
    made = (datetime.now(timezone.utc) - EPOCH).days
    return serializer().dumps([ret.account_id, ret.id, made])


def status_url(ret: Return, slug: str) -> str:
    """The full link to the return's status page, built without a request (a job writes emails too):
    the app's URL map gives the path, PUBLIC_BASE_URL the site."""
    path = current_app.url_map.bind("").build("portal.status", {"slug": slug, "token": status_token(ret)})
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
