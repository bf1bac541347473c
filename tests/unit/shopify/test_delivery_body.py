"""One acceptance rule for a delivery's body: intake stores exactly the bodies the processing job
can read (a body stored but unreadable dies after its retries; one refused but readable is an
order lost, since Shopify gives up on a 400)."""
import json

import pytest

from app.shopify.webhooks import DeliveryBodyError, delivery_payload, delivery_text

ORDER = json.dumps({"id": 820982911946154508, "name": "#1001", "note": "caf\u00e9 \u2603",
                    "line_items": [{"id": 1, "price": "19.99", "quantity": 2}]}).encode()

BODIES = {
    "an order": ORDER,
    "an empty object": b"{}",
    "whitespace around": b" \n{\"a\": 1}\t ",
    "a lone surrogate escape (a cut emoji)": b'{"note": "\\ud83d"}',
    "NaN and Infinity": b'{"a": NaN, "b": -Infinity}',
    "an escaped NUL": b'{"a": "\\u0000"}',
    "a raw NUL inside a string": b'{"a": "\x00"}',
    "a raw NUL outside": b'{"a": 1}\x00',
    "duplicate keys": b'{"a": 1, "a": 2}',
    "a huge exponent": b'{"a": 1e99999}',
    "a 5,000-digit integer": b'{"a": ' + b"9" * 5000 + b"}",
    "a 5,000-digit string": b'{"a": "' + b"9" * 5000 + b'"}',
    "a 5,000-digit fraction": b'{"a": 1.' + b"9" * 5000 + b"}",
    "Unicode digits as a number": '{"a": \u0661\u0662}'.encode(),
    "Unicode digits in a string": '{"a": "\u0661\u0662"}'.encode(),
    "nested 900 deep": b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}",
    "nested 100,000 deep": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "a top-level list": b"[1, 2]",
    "a top-level string": b'"order"',
    "a top-level null": b"null",
    "a UTF-8 byte-order mark": b"\xef\xbb\xbf{}",
    "invalid UTF-8 in a string": b'{"a": "\xff"}',
    "a lone surrogate encoded raw": b'{"a": "\xed\xa0\x80"}',
    "a leading zero": b'{"a": 01}',
    "a trailing comma": b'{"a": 1,}',
    "two documents": b'{"a": 1}{"b": 2}',
    "truncated": ORDER[:-5],
    "empty": b"",
}


def _readable(body: bytes) -> bool:
    """What the processing job can read: the body as stored (text), through the rule."""
    try:
        delivery_payload(body.decode("utf-8"))
    except (DeliveryBodyError, UnicodeDecodeError):
        return False
    return True


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_intake_accepts_a_body_exactly_when_the_processing_job_can_read_it(body):
    try:
        text = delivery_text(body)
    except DeliveryBodyError:
        accepted = False
    else:
        accepted = True
        assert text == body.decode("utf-8")
    assert accepted == _readable(body)


def test_the_rule_takes_real_orders_and_oddities_shopify_can_send_and_refuses_the_rest():
    accepted = {name for name, body in BODIES.items() if _readable(body)}
    assert {"an order", "a lone surrogate escape (a cut emoji)", "NaN and Infinity", "a 5,000-digit string",
            "Unicode digits in a string", "nested 900 deep"} <= accepted
    assert not accepted & {"a 5,000-digit integer", "nested 100,000 deep", "a top-level list", "empty",
                           "Unicode digits as a number", "invalid UTF-8 in a string", "truncated"}


@pytest.mark.parametrize("body, message", [
    (b"[1]", "body is not a JSON object"),
    (b'"x"', "body is not a JSON object"),
    (b"{", "body is not valid JSON"),
    (b'{"a": "\xff"}', "body is not valid JSON"),
    (b'{"a": ' + b"9" * 5000 + b"}", "body is not valid JSON"),
])
def test_a_refusal_says_which_part_failed(body, message):
    with pytest.raises(DeliveryBodyError, match=message):
        delivery_text(body)
