"""Test helpers for prepaid return labels: an account buying labels from the sandbox's EasyPost
or Shippo fake, a return with the shopper's address, and the fakes' purchase counts."""
from decimal import Decimal

import requests

from app.crypto import encrypt_secret
from app.extensions import db
from tests.factories import make_order, make_return

SHOP_ADDRESS = {"name": "Acme Returns", "street1": "417 Montgomery Street", "street2": "5th Floor",
                "city": "San Francisco", "state": "CA", "zip": "94104", "country": "US", "phone": "4153334445"}
SHOPPER_ADDRESS = {"first_name": "Steve", "last_name": "Brule", "address1": "179 N Harbor Dr", "city": "Redondo Beach",
                   "province_code": "CA", "zip": "90277", "country_code": "US", "phone": "8573875756"}
KEYS = {"easypost": "EZTK_test_labels_key", "shippo": "shippo_test_labels_key"}


def use_label_provider(account, sandbox, provider="easypost", **settings):
    """The account buys labels from the sandbox's fake `provider` (its key registered there)."""
    requests.post(f"{sandbox.url}/_sandbox/labels/keys", json={"provider": provider, "key": KEYS[provider]},
                  timeout=5).raise_for_status()
    account.label_provider = provider
    account.label_api_key_encrypted = encrypt_secret(KEYS[provider])
    account.label_api_base = f"{sandbox.url}/{provider}"
    account.label_ship_to = dict(SHOP_ADDRESS)
    account.label_weight_oz = Decimal("24")
    for key, value in settings.items():
        setattr(account, key, value)
    db.session.commit()
    return account


def return_to_label(account, **fields):
    """An OPEN return of a fresh order, with the shopper's shipping address (committed)."""
    ret = make_return(account, make_order(account), shipping_address=dict(SHOPPER_ADDRESS),
                      customer_name="Steve Brule", **fields)
    db.session.commit()
    return ret


def purchases(sandbox) -> dict:
    """The label fakes' counts: purchases in all and per shipment, refunds, trackers."""
    return requests.get(f"{sandbox.url}/_sandbox/labels", timeout=5).json()


def drop_next_buy_answers(sandbox, count=1, how="drop") -> None:
    """The fakes make the next `count` purchases and lose their answers ("drop") or answer them
    with a server error ("fail")."""
    requests.post(f"{sandbox.url}/_sandbox/labels/faults", json={f"{how}_buy_responses": count},
                  timeout=5).raise_for_status()
