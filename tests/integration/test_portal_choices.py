"""The items page keeps the shopper's unfinished choices for the order (so browser Back and a
reload find them), and hostile input there gives a clear answer, writes nothing and keeps the
session cookie small enough for a browser to keep."""
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Return
from tests.factories import make_account
from tests.support.portal import make_line, make_portal_order

COOKIE_LIMIT = 4000  # browsers drop a cookie over ~4 KB, and the whole portal session with it


@pytest.fixture
def found(app, client):
    """A shop and an order with three lines, looked up in the portal."""
    account = make_account(name="Acme Outdoor", return_reasons=["Faulty", "Too small"], exchange_enabled=False)
    order = make_portal_order(account, [make_line(title=f"Item {n}", quantity=3, fulfilled_quantity=3)
                                        for n in range(3)], name="#1234", email="pat@example.com")
    db.session.commit()
    response = client.post(f"/r/{account.slug}", data={"order_number": "1234", "email": "pat@example.com"})
    assert response.status_code == 303
    return account, order


def session_cookie_size(response) -> int:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return max((len(c) for c in cookies), default=0)


def test_the_choices_come_back_on_the_next_visit(found, client):
    account, order = found
    first = order.lines[0].id
    response = client.post(f"/r/{account.slug}/items", data={
        f"line-{first}-return": "1", f"line-{first}-quantity": "2", f"line-{first}-reason": "Too small",
        f"line-{first}-note": "Seams split", f"line-{first}-option": "refund"})
    assert response.status_code == 200  # the review
    page = client.get(f"/r/{account.slug}/items").get_data(as_text=True)
    assert f'name="line-{first}-return" value="1" checked' in page
    assert '<option value="2" selected>2</option>' in page
    assert 'value="Too small" checked' in page and ">Seams split</textarea>" in page
    assert f'id="line-{first}-option-refund" name="line-{first}-option" value="refund" checked' in page
    # Another lookup starts afresh.
    client.post(f"/r/{account.slug}", data={"order_number": "1234", "email": "pat@example.com"})
    assert 'checked' not in client.get(f"/r/{account.slug}/items").get_data(as_text=True)


@pytest.mark.parametrize("field, value", [
    ("quantity", "²"), ("quantity", "٣"), ("quantity", "9" * 40), ("quantity", "-1"), ("quantity", "1\x00"),
    ("reason", "Faulty\x00"), ("reason", "%ED%A0%80"), ("reason", "x" * 5000), ("option", "refund\x00"),
    ("option", "𝟏"), ("note", "n" * 100_000), ("note", "%00%ED%A0%80"), ("variant", "１２"),
])
def test_hostile_values_are_refused_and_nothing_is_written(found, client, field, value):
    account, order = found
    line = order.lines[0].id
    data = {f"line-{line}-return": "1", f"line-{line}-quantity": "1", f"line-{line}-reason": "Faulty",
            f"line-{line}-option": "refund"}
    data[f"line-{line}-{field}"] = value
    # Sent as a raw body, so lone surrogates arrive as the invalid UTF-8 a browser could send.
    body = "&".join(f"{quote(k)}={v if v.startswith('%') else quote(v)}" for k, v in data.items())
    response = client.post(f"/r/{account.slug}/items", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 422)
    if response.status_code == 200:  # a value that only looks odd (a variant with a refund is dropped)
        assert "Check your return" in response.get_data(as_text=True)
    else:
        assert "Some choices need your attention" in response.get_data(as_text=True) or \
            'role="alert"' in response.get_data(as_text=True)
    assert session_cookie_size(response) < COOKIE_LIMIT
    assert client.get(f"/r/{account.slug}/items").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_a_flood_of_lines_and_long_notes_keeps_the_session(found, client):
    account, order = found
    data = {f"line-{n}-note": "é" * 500 for n in range(1, 400)}
    for line in order.lines:
        data.update({f"line-{line.id}-return": "1", f"line-{line.id}-reason": "Faulty",
                     f"line-{line.id}-quantity": "1", f"line-{line.id}-note": "ü" * 500})
    response = client.post(f"/r/{account.slug}/items", data={**data, "action": "edit"})
    assert response.status_code == 200
    assert session_cookie_size(response) < COOKIE_LIMIT
    page = client.get(f"/r/{account.slug}/items")
    assert page.status_code == 200  # the session (and the order it found) is still there
    assert f'name="line-{order.lines[0].id}-return" value="1" checked' in page.get_data(as_text=True)


@pytest.mark.parametrize("chosen", ["%00", "%ED%A0%80", "9" * 5000, "%D9%A3", "-1"])
def test_the_picker_ignores_a_hostile_chosen_size(app, client, chosen):
    account = make_account(name="Acme Outdoor", return_reasons=["Faulty"])
    order = make_portal_order(account, [make_line(title="Tee")], name="#1234", email="pat@example.com")
    db.session.commit()
    client.post(f"/r/{account.slug}", data={"order_number": "1234", "email": "pat@example.com"})
    line = order.lines[0].id
    response = client.get(f"/r/{account.slug}/items/{line}/variants?line-{line}-variant={chosen}")
    assert response.status_code == 200 and "Exchange for" in response.get_data(as_text=True)
    assert "checked" not in response.get_data(as_text=True)
