"""Migrations keep the data they migrate (run on their own database file or schema)."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from tests.fixtures.app import make_test_app


# Account 1 as the first schema stores it (later migrations give the columns they add defaults).
ACCOUNT_AT_0001 = ("INSERT INTO accounts (id, name, slug, currency, option_mode, exchange_enabled, return_action, "
                   "return_window_days, order_storage_months, initial_import_days, excluded_product_tags, "
                   "return_reasons, granted_scopes, primary_color, created_at) VALUES (1, 'Acme', 'acme', 'USD', "
                   "'rules', true, 'manual', 30, 3, 30, '[]', '[]', '[]', '#000000', CURRENT_TIMESTAMP)")


@pytest.fixture
def scratch_app(tmp_path, _session_app):
    if _session_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        from tests.support.e2e import scratch_database_url

        url = scratch_database_url("_migrations")  # its own database: it drops every table
    app = make_test_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    yield app
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def test_upgrading_an_existing_database_keeps_its_accounts_and_users(scratch_app):
    with scratch_app.app_context():
        upgrade(revision="0001_core_tables")
        with db.engine.begin() as conn:
            conn.execute(text(ACCOUNT_AT_0001))
            conn.execute(text("INSERT INTO users (id, account_id, email, password_hash, role, active, created_at) "
                              "VALUES (1, 1, 'a@example.com', 'x', 'admin', true, CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["a@example.com"]
            assert conn.execute(text("SELECT name FROM accounts")).scalars().all() == ["Acme"]
        downgrade(revision="base")


def test_customer_chosen_items_become_decided_and_nothing_else_changes(scratch_app):
    with scratch_app.app_context():
        upgrade(revision="0006_returns_list_indexes")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, slug, currency, option_mode, exchange_enabled, "
                              "return_action, return_window_days, order_storage_months, initial_import_days, "
                              "excluded_product_tags, return_reasons, granted_scopes, primary_color, created_at, "
                              "restock_on_refund) VALUES (1, 'Acme', 'acme', 'USD', 'customer_choice', true, "
                              "'manual', 30, 3, 30, '[]', '[]', '[]', '#000000', CURRENT_TIMESTAMP, true)"))
            for rid, source, status in ((1, "customer", "OPEN"), (2, "rules", "OPEN"), (3, "customer", "CANCELLED")):
                conn.execute(text(
                    "INSERT INTO returns (id, account_id, rma_number, status, option_source, shopify_order_id, "
                    "order_name, currency, created_at, updated_at) VALUES "
                    f"({rid}, 1, 'R-{rid}', '{status}', '{source}', 1, '#1', 'USD', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"))
            items = ((1, 1, "'refund'", "UNDECIDED"), (2, 1, "NULL", "UNDECIDED"), (3, 1, "'credit'", "ISSUED"),
                     (4, 2, "'refund'", "UNDECIDED"), (5, 3, "'refund'", "UNDECIDED"))
            for iid, rid, option, resolution in items:
                conn.execute(text(
                    "INSERT INTO return_items (id, return_id, shopify_line_id, title, unit_value, quantity, reason, "
                    f"option, resolution, issue_attempts) VALUES ({iid}, {rid}, 1, 'Item', 10, 1, 'Faulty', "
                    f"{option}, '{resolution}', 0)"))
        upgrade()
        with db.engine.connect() as conn:
            rows = dict(conn.execute(text("SELECT id, resolution FROM return_items")).all())
        assert rows == {1: "DECIDED", 2: "UNDECIDED", 3: "ISSUED", 4: "UNDECIDED", 5: "UNDECIDED"}
        downgrade(revision="base")


def test_items_issued_or_in_flight_the_old_way_are_marked_legacy_and_settings_carry_over(scratch_app):
    """0009 from a database as it was before Shopify returns: what was issued (or was being
    issued, or waits for a first-scan restock) stays on the old method; every other item goes
    through a Shopify return; "restock on refund" carries over as "restock returned units"; each
    return keeps its order's customer and payment status."""
    with scratch_app.app_context():
        upgrade(revision="0008_webhook_body_lz4")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO accounts (id, name, slug, currency, option_mode, exchange_enabled, "
                              "return_action, return_window_days, order_storage_months, initial_import_days, "
                              "excluded_product_tags, return_reasons, granted_scopes, primary_color, created_at, "
                              "restock_on_refund) VALUES (1, 'Acme', 'acme', 'USD', 'customer_choice', true, "
                              "'first_scan', 30, 3, 30, '[]', '[]', '[]', '#000000', CURRENT_TIMESTAMP, false)"))
            conn.execute(text("INSERT INTO orders (id, account_id, shopify_order_id, name, email, customer_shopify_id, "
                              "currency, total_price, subtotal_price, total_discounts, discount_codes, tags, "
                              "financial_status, created_at, updated_at, stored_at) VALUES (1, 1, 77, '#1001', "
                              "'a@example.com', 555, 'USD', 10, 10, 0, '[]', '[]', 'authorized', CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO returns (id, account_id, order_id, rma_number, status, option_source, "
                              "shopify_order_id, order_name, currency, created_at, updated_at) VALUES (1, 1, 1, "
                              "'R-1', 'IN_TRANSIT', 'customer', 77, '#1001', 'USD', CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP)"))
            items = ((1, "'refund'", "ISSUED", "NULL", "11"), (2, "'credit'", "ISSUING", "NULL", "NULL"),
                     (3, "'refund'", "ISSUED", "'PENDING'", "12"), (4, "'exchange'", "DECIDED", "NULL", "NULL"),
                     (5, "NULL", "UNDECIDED", "NULL", "NULL"), (6, "'credit'", "FAILED", "NULL", "NULL"))
            for iid, option, resolution, restock, refund in items:
                conn.execute(text(
                    "INSERT INTO return_items (id, return_id, shopify_line_id, title, unit_value, quantity, reason, "
                    f"option, resolution, issue_attempts, restock_state, shopify_refund_id) VALUES ({iid}, 1, 1, "
                    f"'Item', 10, 1, 'Faulty', {option}, '{resolution}', 0, {restock}, {refund})"))
        upgrade()
        with db.engine.connect() as conn:
            methods = dict(conn.execute(text("SELECT id, issuing_method FROM return_items")).all())
            restock = conn.execute(text("SELECT restock_returned_units FROM accounts")).scalar()
            snapshot = conn.execute(text("SELECT customer_shopify_id, payment_status FROM returns")).one()
        assert methods == {1: "legacy", 2: "legacy", 3: "legacy", 4: "returns", 5: "returns", 6: "returns"}
        assert not restock and tuple(snapshot) == (555, "authorized")
        downgrade(revision="0008_webhook_body_lz4")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT restock_on_refund FROM accounts")).scalar() in (False, 0)
        downgrade(revision="base")


def test_each_store_keeps_its_rma_numbers_and_counts_on_after_its_highest(scratch_app):
    """0010: numbers were R-<100000 + id> across stores; each store now counts on after its own
    highest, a store without returns starts at R-1001, and going back renumbers what would clash."""
    with scratch_app.app_context():
        upgrade(revision="0009_shopify_returns")
        with db.engine.begin() as conn:
            for account_id, slug in ((1, "acme"), (2, "bolt"), (3, "calm")):
                conn.execute(text(
                    "INSERT INTO accounts (id, name, slug, currency, option_mode, exchange_enabled, return_action, "
                    "return_window_days, order_storage_months, initial_import_days, excluded_product_tags, "
                    "return_reasons, granted_scopes, primary_color, created_at) VALUES "
                    f"({account_id}, '{slug}', '{slug}', 'USD', 'customer_choice', true, 'manual', 30, 3, 30, "
                    "'[]', '[]', '[]', '#000000', CURRENT_TIMESTAMP)"))
            for return_id, account_id in ((1, 1), (2, 2), (3, 1)):
                conn.execute(text(
                    "INSERT INTO returns (id, account_id, rma_number, status, shopify_order_id, order_name, currency, "
                    f"created_at, updated_at) VALUES ({return_id}, {account_id}, 'R-{100_000 + return_id}', 'OPEN', "
                    "1, '#1', 'USD', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.begin() as conn:
            counters = dict(conn.execute(text("SELECT id, last_rma_seq FROM accounts")).all())
            assert counters == {1: 100_003, 2: 100_002, 3: 1000}
            numbers = dict(conn.execute(text("SELECT id, rma_number FROM returns")).all())
            assert numbers == {1: "R-100001", 2: "R-100002", 3: "R-100003"}
            for return_id, account_id in ((4, 3), (5, 2)):  # both stores' next numbers, one of them R-1001
                conn.execute(text(
                    "INSERT INTO returns (id, account_id, rma_number, status, shopify_order_id, order_name, currency, "
                    f"created_at, updated_at) VALUES ({return_id}, {account_id}, 'R-1001', 'OPEN', 1, '#1', 'USD', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        downgrade(revision="0009_shopify_returns")
        with db.engine.connect() as conn:
            numbers = dict(conn.execute(text("SELECT id, rma_number FROM returns")).all())
        assert numbers == {1: "R-100001", 2: "R-100002", 3: "R-100003", 4: "R-100004", 5: "R-100005"}
        downgrade(revision="base")


def test_the_analytics_figures_count_the_returns_stored_before_them(scratch_app):
    import random
    from types import SimpleNamespace

    from alembic.script import ScriptDirectory
    from flask import current_app

    from tests.factories import make_account
    from tests.integration.test_analytics import _generate
    from tests.integration.test_analytics_daily import _check

    with scratch_app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config()
        before = ScriptDirectory.from_config(config).get_revision("0030_analytics_daily").down_revision
        upgrade(revision=before)
        account = make_account()
        db.session.flush()
        orders, _ = _generate(account, random.Random(11))
        account = SimpleNamespace(id=account.id)  # outlives the session
        db.session.commit()
        db.session.remove()  # the migrations' DDL waits for no open transaction
        upgrade()  # filled from the rows stored now
        _check(account, orders)
        db.session.remove()
        downgrade(revision=before)
        upgrade()
        _check(account, orders)
        db.session.remove()
        downgrade(revision="base")


def test_unprocessed_deliveries_keep_their_attempts_and_errors_on_their_pending_rows(scratch_app):
    """0031: what is still to do on a delivery moves to its pending row (attempts, last error);
    a processed one keeps its note and gets no pending row; going back puts all of it back."""
    with scratch_app.app_context():
        upgrade(revision="0030_analytics_daily")
        deliveries = ((1, "CURRENT_TIMESTAMP", 1, "'body did not map'"),   # processed, with a note
                      (2, "NULL", 2, "'RuntimeError: 502'"),                 # being tried
                      (3, "NULL", 5, "NULL"))                                # dead, no error recorded
        with db.engine.begin() as conn:
            conn.execute(text(ACCOUNT_AT_0001))
            for did, processed, attempts, error in deliveries:
                conn.execute(text(
                    "INSERT INTO webhook_deliveries (id, account_id, shop_domain, topic, event_id, body, received_at, "
                    f"processed_at, attempts, last_error) VALUES ({did}, 1, 'a.myshopify.com', 'orders/create', "
                    f"'e-{did}', '{{}}', CURRENT_TIMESTAMP, {processed}, {attempts}, {error})"))
        upgrade()
        with db.engine.connect() as conn:
            pending = conn.execute(text("SELECT delivery_id, attempts, last_error, dispatched_at "
                                        "FROM pending_deliveries ORDER BY delivery_id")).all()
            notes = dict(conn.execute(text("SELECT id, note FROM webhook_deliveries")).all())
        assert [tuple(row) for row in pending] == [(2, 2, "RuntimeError: 502", None), (3, 5, None, None)]
        assert notes == {1: "body did not map", 2: None, 3: None}
        downgrade(revision="0030_analytics_daily")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, processed_at IS NOT NULL, attempts, last_error "
                                     "FROM webhook_deliveries ORDER BY id")).all()
        assert [(r[0], bool(r[1]), r[2], r[3]) for r in rows] == [
            (1, True, 0, "body did not map"), (2, False, 2, "RuntimeError: 502"), (3, False, 5, None)]
        downgrade(revision="base")
