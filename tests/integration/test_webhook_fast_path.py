"""The Shopify delivery endpoint answers the same through either door: the WSGI fast path (the
served app's, wsgi.py) and the Flask view. Each test runs through both, whichever configuration
(job backend) the suite runs in."""
import io
import json

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from app.crypto import encrypt_secret
from app.extensions import db
from app.models import WebhookDelivery
from app.services import intake
from tests.factories import make_account
from tests.support.queue import RecordingBackend, record_jobs
from tests.support.shopify_webhooks import SECRET, signed_headers

SHOP = "fast-path.myshopify.com"
BODY = json.dumps({"id": 820982911946154508, "email": "jon@example.com", "line_items": []}).encode()


@pytest.fixture
def door(webhook_door, app, monkeypatch):
    """Pick the door; record what the view answered and what was queued."""
    jobs = record_jobs(app, monkeypatch, RecordingBackend.standing_in_for(app.extensions["jobs"]))
    seen = {"view": 0, "queued": jobs.queued}
    view = app.view_functions["webhooks.shopify_webhook"]

    def counting_view():
        seen["view"] += 1
        return view()

    monkeypatch.setitem(app.view_functions, "webhooks.shopify_webhook", counting_view)
    make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    return webhook_door, seen


def queued_for_one_delivery(app) -> int:
    """Jobs one stored delivery queues in the request: one with in-process jobs; none on RQ, where
    a worker's dispatcher queues the stored row (no Redis call in the request)."""
    return 1 if app.extensions["jobs"].runs_in_process else 0


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def test_a_delivery_is_stored_and_queued_once_and_its_repeat_is_a_duplicate(door, client, app):
    name, seen = door
    headers = signed_headers(BODY, SHOP, event_id="evt-1")
    first = client.post("/webhooks/shopify", data=BODY, headers=headers)
    again = client.post("/webhooks/shopify", data=BODY, headers=headers)
    assert (first.status_code, first.json) == (200, {"status": "accepted"})
    assert (again.status_code, again.json) == (200, {"status": "duplicate"})
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert stored() == 1 and len(seen["queued"]) == queued_for_one_delivery(app)
    assert seen["view"] == (0 if name == "fast path" else 2)


def test_a_bad_signature_is_401_and_nothing_is_stored(door, client):
    headers = {**signed_headers(BODY, SHOP), "X-Shopify-Hmac-Sha256": "bm9wZQ=="}
    response = client.post("/webhooks/shopify", data=BODY, headers=headers)
    assert response.status_code == 401 and "HMAC" in response.json["error"]
    assert stored() == 0 and door[1]["queued"] == []


def test_a_declared_length_over_the_limit_is_413_before_reading(door, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_BYTES", 64)
    body = b'{"padding": "' + b"x" * 100 + b'"}'
    response = client.post("/webhooks/shopify", data=body, headers=signed_headers(body, SHOP))
    assert response.status_code == 413 and "64 bytes" in response.json["error"]
    assert stored() == 0


@pytest.mark.parametrize("size, status", [(40, 200), (100, 413)])
def test_a_streamed_body_without_a_length_is_capped_too(door, app, monkeypatch, size, status):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_BYTES", 64)
    body = b'{"p": "' + b"x" * (size - 10) + b'"}'
    environ = EnvironBuilder(path="/webhooks/shopify", method="POST", headers=signed_headers(body, SHOP),
                             input_stream=io.BytesIO(body)).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    answered = []
    chunks = app.wsgi_app(environ, lambda status_line, headers: answered.append(status_line))
    assert answered[0].startswith(str(status)), b"".join(chunks)
    assert stored() == (1 if status == 200 else 0)


def test_an_unexpected_error_is_a_json_500_without_a_trace(door, client, monkeypatch):
    def broken(*args):
        raise RuntimeError("database exploded: secret connection string")

    monkeypatch.setattr(intake, "_insert_autocommitted", broken)
    monkeypatch.setattr(intake.db.session, "execute", broken)
    response = client.post("/webhooks/shopify", data=BODY, headers=signed_headers(BODY, SHOP))
    assert response.status_code == 500
    assert response.json == {"error": "Something went wrong on our side. Please try again."}
    assert door[1]["queued"] == []


def test_other_methods_and_paths_still_reach_flask(door, client):
    assert client.get("/webhooks/shopify").status_code == 405
    assert client.post("/webhooks/shopify/", data=BODY, headers=signed_headers(BODY, SHOP)).status_code == 404


def test_with_in_process_jobs_the_fast_path_runs_the_deliverys_job_after_the_answer(app, monkeypatch):
    """The embedded configuration behind the fast path: the job the delivery queues has not run
    when the answer is handed to the server, and runs once the server closes the response."""
    from app.queue.backends import InProcessBackend

    monkeypatch.setitem(app.config, "WEBHOOK_FAST_PATH", True)
    monkeypatch.setitem(app.config, "JOBS_INPROCESS_THREAD", False)
    monkeypatch.setitem(app.extensions, "jobs", InProcessBackend(app))
    ran = []
    monkeypatch.setattr(InProcessBackend, "submit", lambda *args: ran.append("thread"))
    monkeypatch.setattr("app.queue.backends.run_safely", lambda _app, job_func, args, attempt=0: ran.append(args))
    view = app.view_functions["webhooks.shopify_webhook"]
    monkeypatch.setitem(app.view_functions, "webhooks.shopify_webhook", lambda: ran.append("view") or view())
    make_account(shop_domain=SHOP, webhook_secret_encrypted=encrypt_secret(SECRET))
    db.session.commit()
    environ = EnvironBuilder(path="/webhooks/shopify", method="POST", data=BODY,
                             headers=signed_headers(BODY, SHOP)).get_environ()
    answered = []
    chunks = app.wsgi_app(environ, lambda status_line, headers: answered.append(status_line))
    assert answered == ["200 OK"] and json.loads(b"".join(chunks)) == {"status": "accepted"}
    assert ran == []  # answered first
    chunks.close()
    delivery_id = db.session.scalar(select(WebhookDelivery.id))
    assert ran == [(delivery_id,)]


def test_the_served_app_answers_deliveries_on_the_fast_path():
    """wsgi.py (what gunicorn serves) switches the fast path on; the setting's default is off."""
    import subprocess
    import sys

    from app.config import Config

    out = subprocess.run([sys.executable, "-c", "import wsgi; print(wsgi.app.config['WEBHOOK_FAST_PATH'])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True" and Config.WEBHOOK_FAST_PATH is False


@pytest.mark.parametrize("body, status", [
    (b'{"id": 1, "total": ' + b"9" * 5000 + b"}", 400),  # readable by msgspec, not by the job: refused
    (b'{"id": 1, "note": "' + b"9" * 5000 + b'"}', 200),  # the same digits in a string: an order
    (b'{"id": 1, "note": "\\ud83d"}', 200),  # a cut emoji: msgspec refuses, the job reads it
])
def test_intake_stores_exactly_the_bodies_the_job_can_read(door, client, body, status):
    response = client.post("/webhooks/shopify", data=body, headers=signed_headers(body, SHOP))
    assert response.status_code == status
    assert stored() == (1 if status == 200 else 0)
