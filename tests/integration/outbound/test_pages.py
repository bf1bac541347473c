"""Settings → Webhooks through the test client: an admin adds an endpoint and sees its secret once,
edits, disables and deletes it, shows and rotates the secret (asked first), sends a test, reads the
log and sends again; hostile or refused input is answered beside its field with nothing written;
another account's endpoints and deliveries are 404s."""
import re
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboundDelivery, OutboundEndpoint
from app.outbound import addresses
from app.services import outbound_sending as sending
from app.services import outbound_webhooks as hooks
from tests.factories import make_account, make_user
from tests.fixtures.auth import log_in
from tests.support.outbound import verify

TOPICS = list(hooks.TOPICS)


@pytest.fixture
def admin(app, client):
    account = make_account()
    user = make_user(account, role="admin")
    db.session.commit()
    log_in(client, user.email)
    return account


def add(client, url, topics=TOPICS, **extra):
    """Post the add form; every value percent-encoded as a browser sends it (a lone surrogate as
    the bytes a client would send)."""
    fields = [("url", url), *(("topics", t) for t in topics), *extra.items()]
    body = "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in fields)
    return client.post("/dashboard/settings/webhooks", data=body, content_type="application/x-www-form-urlencoded")


def shown_secret(response) -> str:
    return re.search(r'id="endpoint-secret">(whsec_[^<]+)<', response.text).group(1)


def endpoints(account):
    db.session.expire_all()
    return db.session.scalars(select(OutboundEndpoint).where(OutboundEndpoint.account_id == account.id)).all()


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once_stored_encrypted(app, client, admin, receiver, jobs):
    response = add(client, receiver.url, [TOPICS[0], TOPICS[3]], description="Warehouse")
    assert response.status_code == 200 and "Endpoint added" in response.text
    secret = shown_secret(response)
    (endpoint,) = endpoints(admin)
    assert endpoint.topics == [TOPICS[0], TOPICS[3]] and endpoint.description == "Warehouse" and endpoint.enabled
    assert secret not in endpoint.secret_encrypted
    page = client.get("/dashboard/settings/webhooks")
    assert receiver.url in page.text and secret not in page.text
    shown = client.post(f"/dashboard/settings/webhooks/{endpoint.id}/secret")
    assert shown_secret(shown) == secret


@pytest.mark.parametrize("url, message", [
    ("https://10.0.0.1/hooks", "private address"),
    ("https://169.254.169.254/latest", "metadata"),
    ("http://2130706433/", "https://"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://exa\x00mple.com/", "Use letters, digits and punctuation only."),
    ("https://exa\ud800mple.com/", "The host may contain only letters, digits, dots and hyphens"),
    ("https://example.com/" + "a" * 3000, "too long"),
    ("https://user:pass@example.com/", "user name or password"),
    ("javascript:alert(1)", "https://"),
    ("", "Enter the endpoint"),
])
def test_refused_urls_are_answered_beside_the_field_and_nothing_is_written(app, client, admin, monkeypatch, url,
                                                                          message):
    monkeypatch.setitem(app.config, "OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", False)
    response = add(client, url)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'").replace("&#34;", '"')
    assert "Nothing was saved" in response.text and endpoints(admin) == []


@pytest.mark.parametrize("topics, message", [([], "Choose at least one topic."),
                                             (["label.ready"], "Choose topics from the list."),
                                             (["return.created", "x\x00"], "Choose topics from the list.")])
def test_topics_must_be_chosen_from_the_list(app, client, admin, receiver, topics, message):
    response = add(client, receiver.url, topics)
    assert response.status_code == 422 and message in response.text and endpoints(admin) == []


def test_a_host_that_resolves_to_a_private_address_is_refused_by_name(app, client, admin, monkeypatch):
    monkeypatch.setattr(addresses, "resolver", lambda host, port: ["192.168.0.10"])
    response = add(client, "https://erp.example.com/in")
    assert response.status_code == 422 and "private address (192.168.0.10)" in response.text
    assert endpoints(admin) == []


def test_editing_disabling_and_deleting_an_endpoint(app, client, admin, receiver, jobs):
    endpoint, _ = hooks.create_endpoint(admin, receiver.url, TOPICS)
    url = f"/dashboard/settings/webhooks/{endpoint.id}"
    response = client.post(url, data={"url": receiver.url + "/v2", "topics": [TOPICS[2]], "description": ""})
    assert response.status_code == 303
    (saved,) = endpoints(admin)
    assert (saved.url, saved.topics, saved.enabled) == (receiver.url + "/v2", [TOPICS[2]], False)  # unticked
    refused = client.post(url, data={"url": "https://10.1.1.1/", "topics": TOPICS, "enabled": "y"})
    assert refused.status_code == 422 and "private address" in refused.text
    assert endpoints(admin)[0].url == receiver.url + "/v2"
    asked = client.post(f"{url}/delete")
    assert asked.status_code == 200 and "Delete the endpoint" in asked.text and len(endpoints(admin)) == 1
    assert client.post(f"{url}/delete", data={"confirmed": "yes"}).status_code == 303
    assert endpoints(admin) == []


def test_rotating_asks_first_then_shows_the_new_secret_and_signs_with_both(app, client, admin, receiver, jobs,
                                                                          outbound_clock):
    endpoint, old = hooks.create_endpoint(admin, receiver.url, TOPICS)
    url = f"/dashboard/settings/webhooks/{endpoint.id}/rotate"
    asked = client.post(url)
    assert "Rotate the signing secret" in asked.text and hooks.reveal_secret(endpoint) == old
    response = client.post(url, data={"confirmed": "yes"})
    new = shown_secret(response)
    assert new != old and "signed with both" in response.text
    assert "rotation-overlap" in client.get(f"/dashboard/settings/webhooks/{endpoint.id}").text
    client.post(f"/dashboard/settings/webhooks/{endpoint.id}/test")
    sending.deliver(jobs.queued[-1].args[0])
    got = receiver.received[-1]
    assert verify(old, got, outbound_clock.timestamp()) and verify(new, got, outbound_clock.timestamp())


def test_send_test_the_log_its_filter_the_detail_and_send_again(app, client, admin, receiver, jobs, outbound_clock):
    endpoint, secret = hooks.create_endpoint(admin, receiver.url, TOPICS)
    response = client.post(f"/dashboard/settings/webhooks/{endpoint.id}/test")
    assert response.status_code == 303
    delivery_id = jobs.queued[-1].args[0]
    assert response.headers["Location"].endswith(f"/dashboard/settings/webhooks/deliveries/{delivery_id}")
    receiver.answer(status=500, body=b"<h1>oops</h1>")
    sending.deliver(delivery_id)
    detail = client.get(f"/dashboard/settings/webhooks/deliveries/{delivery_id}")
    assert "HTTP 500" in detail.text and "&lt;h1&gt;oops&lt;/h1&gt;" in detail.text and "retrying" in detail.text
    log = client.get("/dashboard/settings/webhooks/deliveries?show=pending")
    assert "webhook.test" in log.text
    assert "webhook.test" not in client.get("/dashboard/settings/webhooks/deliveries?show=delivered").text
    receiver.answer(status=200)
    outbound_clock.advance(seconds=10)
    assert client.post(f"/dashboard/settings/webhooks/deliveries/{delivery_id}/again").status_code == 303
    assert sending.deliver(delivery_id) == "delivered"  # at once: a new round, not the back-off's time
    assert receiver.received[0].body == receiver.received[-1].body
    assert verify(secret, receiver.received[-1], outbound_clock.timestamp())
    assert "webhook.test" in client.get("/dashboard/settings/webhooks/deliveries?show=delivered").text


@pytest.mark.parametrize("query", ["show=everything", "show=%00", "page=0", "page=%C2%B2", "page=" + "9" * 30])
def test_hostile_log_parameters_are_a_clear_400_or_404(app, client, admin, query):
    response = client.get(f"/dashboard/settings/webhooks/deliveries?{query}")
    assert response.status_code in (400, 404)


def test_the_log_pages_newest_first(app, client, admin, receiver, jobs):
    endpoint, _ = hooks.create_endpoint(admin, receiver.url, TOPICS)
    made = [hooks.send_test(endpoint) for _ in range(30)]
    first = client.get("/dashboard/settings/webhooks/deliveries").text
    second = client.get("/dashboard/settings/webhooks/deliveries?page=2").text
    assert made[-1].event_id in first and made[0].event_id not in first
    assert made[0].event_id in second and "Page 2 of 2" in second


def test_another_accounts_endpoints_and_deliveries_are_404(app, client, admin, receiver, jobs):
    other = make_account()
    db.session.commit()
    endpoint, _ = hooks.create_endpoint(other, receiver.url, TOPICS)
    delivery = hooks.send_test(endpoint)
    base = f"/dashboard/settings/webhooks/{endpoint.id}"
    for method, url in [("get", base), ("post", base), ("post", f"{base}/secret"), ("post", f"{base}/rotate"),
                        ("post", f"{base}/test"), ("post", f"{base}/delete"),
                        ("get", f"/dashboard/settings/webhooks/deliveries/{delivery.id}"),
                        ("post", f"/dashboard/settings/webhooks/deliveries/{delivery.id}/again")]:
        assert getattr(client, method)(url, data={"confirmed": "yes"} if method == "post" else None).status_code == 404
    assert receiver.url not in client.get("/dashboard/settings/webhooks/deliveries").text
    assert db.session.get(OutboundDelivery, delivery.id).attempts == 0


def test_staff_cannot_reach_the_webhook_settings(app, client):
    account = make_account()
    staff = make_user(account, role="staff")
    db.session.commit()
    log_in(client, staff.email)
    assert client.get("/dashboard/settings/webhooks").status_code == 403
