"""Migrations keep the data they migrate (run on their own database file or schema)."""
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from tests.conftest import make_test_app


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
            conn.execute(text("INSERT INTO accounts (id, name, slug, currency, option_mode, exchange_enabled, "
                              "return_action, return_window_days, order_storage_months, initial_import_days, "
                              "excluded_product_tags, return_reasons, granted_scopes, primary_color, created_at) "
                              "VALUES (1, 'Acme', 'acme', 'USD', 'rules', true, 'manual', 30, 3, 30, '[]', '[]', "
                              "'[]', '#000000', CURRENT_TIMESTAMP)"))
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
