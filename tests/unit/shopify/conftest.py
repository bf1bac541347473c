"""Fixtures for the Shopify client tests: a stub server, a virtual clock, a client wired to both."""
import pytest

from app.shopify.client import ShopifyClient
from tests.fixture_files import shopify_json
from tests.unit.shopify.stub import FakeClock, StubServer

SHOP = "demo.myshopify.com"


def load_fixture(name: str):
    """A Shopify fixture, parsed."""
    return shopify_json(name)


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
