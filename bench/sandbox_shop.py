"""A seeded sandbox shop served on a thread, for benchmarks that need the app's client to talk
to a (fake) Shopify over real HTTP on a virtual clock."""
import logging
import threading
from contextlib import contextmanager

from werkzeug.serving import make_server


@contextmanager
def seeded_shop(domain: str, plan: str, orders: int, seed: int, days: int = 30):
    """Yield a ShopifyClient for a fresh sandbox shop with `orders` seeded orders; the client
    and the sandbox share a virtual clock, so bucket waits cost no real time."""
    from app.shopify.client import ShopifyClient
    from sandbox import VirtualClock, create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log on the console
    clock = VirtualClock(start=1_767_225_600.0)
    app = create_app({"SANDBOX_CLOCK": clock})
    store = app.extensions["sandbox"]
    store.create_shop(domain, domain.split(".")[0].title(), "USD", plan)
    store.create_app(domain, client_id="bench")
    token = store.issue_admin_token(domain, "bench").token
    store.seed(domain, orders=orders, days=days, seed=seed)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ShopifyClient(domain, token, api_origin=f"http://127.0.0.1:{server.server_port}/store/{domain}",
                            sleep=clock.sleep, monotonic=clock.now)
    finally:
        server.shutdown()
        store.close()
        thread.join(timeout=5)
