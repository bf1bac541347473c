"""Fixtures for the Shopify client tests: a stub server, a virtual clock, a client wired to both."""
import json
from pathlib import Path

import pytest

from app.shopify.client import ShopifyClient
from tests.unit.shopify.stub import FakeClock, StubServer

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "shopify"
SHOP = "demo.myshopify.com"


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def _stub_server():
    server = StubServer()
    yield server
    server.close()


@pytest.fixture
def stub(_stub_server):
    _stub_server.reset()
    yield _stub_server
    _stub_server.reset()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_client(stub, clock):
    def make(**kwargs):
        options = dict(api_origin=f"{stub.url}/store/{SHOP}", sleep=clock.sleep,
                       monotonic=clock.monotonic, random_fn=lambda: 0.5, timeout=(1.0, 2.0))
        options.update(kwargs)
        return ShopifyClient(SHOP, "shpat_" + "a" * 32, **options)
    return make


@pytest.fixture
def client(make_client):
    return make_client()
