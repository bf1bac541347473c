"""Analytics: the returns' figures kept per account and day (the durations also per week, the
ranking also per month, so a year reads whole weeks or months and only the days at either end), and
the units sold per account and day, maintained by triggers in the same transaction as every write
to a return, an item or the units sold, and filled here from the rows stored now.

Why triggers: returns and their items are written by ORM flushes and by bulk UPDATE statements
from many services and jobs; a trigger sees every one of them, the bulk ones included, where
Python-side bookkeeping would have to be repeated at each. Each write adds the difference it
makes (the changed rows as they were, subtracted; as they are, added), so a write that changes
nothing the figures read adds nothing, and two transactions adding to the same row commute.
PostgreSQL runs one trigger per statement over its transition tables (the rows of a bulk update
summed, then added in key order, so two writers meet shared rows in the same order); SQLite runs
one per row (it has one writer at a time).

Revision ID: 0030_analytics_daily
Revises: 0029_outbound_webhooks
Create Date: 2026-12-06 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0030_analytics_daily"
down_revision = "0029_outbound_webhooks"
branch_labels = None
depends_on = None

NOT_COUNTED = "('CANCELLED', 'DECLINED')"  # vocabulary.ReturnStatus: nothing came back
MONEY_OPTIONS = "('refund', 'credit')"  # vocabulary.Option: the options that issue money
# domain.analytics: hourly buckets under 48 hours, then days, everything past 90 days in one.
HOURLY_UNDER_HOURS, LAST_BUCKET_HOURS = 48, 90 * 24

# Every table: its key, its summed columns, which item facts it counts, and the fact each
# summed column adds (`s` is +1 for a row as it is now, -1 for a row as it was).
TABLES = {
    "analytics_returns_daily": (("account_id", "day", "option", "reason"),
                                {"items": "s", "units": "s * units", "value": "s * value"}, "counted = 1"),
    "analytics_durations_daily": (("account_id", "day", "bucket"), {"items": "s"},
                                  "counted = 1 AND bucket IS NOT NULL"),
    "analytics_durations_weekly": (("account_id", "week", "bucket"), {"items": "s"},
                                   "counted = 1 AND bucket IS NOT NULL"),
    "analytics_failed_daily": (("account_id", "day", "return_id"), {"items": "s"}, "failed = 1"),
    "analytics_variants_daily": (("account_id", "day", "product_id", "variant_id", "title", "variant_title"),
                                 {"items": "s", "units": "s * units"}, "counted = 1 AND ranked = 1"),
    "analytics_variants_monthly": (("account_id", "month", "product_id", "variant_id", "title", "variant_title"),
                                   {"items": "s", "units": "s * units"}, "counted = 1 AND ranked = 1"),
}
ITEM_COLUMNS = ("return_id", "option", "reason", "quantity", "unit_value", "issued_at", "resolution", "product_id",
                "variant_id", "title", "variant_title")
RETURN_COLUMNS = ("account_id", "status", "created_at")


def _account():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money():
    # app.models.types.Money: NUMERIC(19, 4), on SQLite an integer count of ten-thousandths.
    return sa.Numeric(19, 4).with_variant(sa.BigInteger(), "sqlite")


def _create_tables():
    # No foreign key to accounts: the triggers subtract while an account's rows are deleted in
    # cascade, and a row the subtraction would add must not be refused; an account deleted
    # leaves its rows at zero (the reads skip rows that count no item).
    op.create_table("analytics_returns_daily",
                    sa.Column("account_id", _account(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("option", sa.String(16), nullable=False), sa.Column("reason", sa.String(120), nullable=False),
                    sa.Column("items", sa.Integer(), nullable=False), sa.Column("units", sa.Integer(), nullable=False),
                    sa.Column("value", _money(), nullable=False),
                    sa.PrimaryKeyConstraint("account_id", "day", "option", "reason"))
    op.create_table("analytics_durations_daily",
                    sa.Column("account_id", _account(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("bucket", sa.Integer(), nullable=False), sa.Column("items", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("account_id", "day", "bucket"))
    op.create_table("analytics_durations_weekly",
                    sa.Column("account_id", _account(), nullable=False), sa.Column("week", sa.Date(), nullable=False),
                    sa.Column("bucket", sa.Integer(), nullable=False), sa.Column("items", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("account_id", "week", "bucket"))
    op.create_table("analytics_failed_daily",
                    sa.Column("account_id", _account(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("return_id", _account(), nullable=False), sa.Column("items", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("account_id", "day", "return_id"))
    for name, period in (("analytics_variants_daily", "day"), ("analytics_variants_monthly", "month")):
        op.create_table(name,
                        sa.Column("account_id", _account(), nullable=False), sa.Column(period, sa.Date(), nullable=False),
                        sa.Column("product_id", sa.BigInteger(), nullable=False),
                        sa.Column("variant_id", sa.BigInteger(), nullable=False),
                        sa.Column("title", sa.String(255), nullable=False),
                        sa.Column("variant_title", sa.String(255), nullable=False),
                        sa.Column("items", sa.Integer(), nullable=False), sa.Column("units", sa.Integer(), nullable=False),
                        sa.PrimaryKeyConstraint("account_id", period, "product_id", "variant_id", "title", "variant_title"))
    op.create_table("analytics_sold_daily",
                    sa.Column("account_id", _account(), nullable=False), sa.Column("day", sa.Date(), nullable=False),
                    sa.Column("units", sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint("account_id", "day"))
    # The units sold of the ten products and variants ranked, over the range: read per key.
    op.create_index("ix_units_sold_daily_product", "units_sold_daily", ["account_id", "product_id", "day", "units"])
    op.create_index("ix_units_sold_daily_variant", "units_sold_daily", ["account_id", "variant_id", "day", "units"])


def facts(pg: bool, item: str, ret: str, sign: int) -> str:
    """The columns each table sums, for one item row (`item` prefix: "i." or "NEW.") of one return
    (`ret` prefix), as a select list."""
    created, issued = f"{ret}created_at", f"{item}issued_at"
    if pg:
        day = f"CAST(timezone('UTC', {created}) AS DATE)"
        month = f"CAST(date_trunc('month', timezone('UTC', {created})) AS DATE)"
        week = f"CAST(date_trunc('week', timezone('UTC', {created})) AS DATE)"
        hours = f"CAST(floor(extract(epoch FROM {issued} - {created}) / 3600) AS INTEGER)"
    else:
        day = f"date({created})"
        month = f"date({created}, 'start of month')"
        week = f"date({created}, '-6 days', 'weekday 1')"  # the Monday on or before
        hours = f"CAST((julianday({issued}) - julianday({created})) * 24 AS INTEGER)"
    bucket = (f"CASE WHEN {issued} IS NOT NULL AND {item}option IN {MONEY_OPTIONS} THEN CASE "
              f"WHEN {hours} < 0 THEN 0 WHEN {hours} < {HOURLY_UNDER_HOURS} THEN {hours} "
              f"WHEN {hours} >= {LAST_BUCKET_HOURS} THEN {LAST_BUCKET_HOURS} ELSE {hours} / 24 * 24 END END")
    return (f"{sign} AS s, {ret}account_id AS account_id, {day} AS day, {week} AS week, {month} AS month, "
            f"CASE WHEN {ret}status IN {NOT_COUNTED} THEN 0 ELSE 1 END AS counted, "
            f"COALESCE({item}option, '') AS option, {item}reason AS reason, {item}quantity AS units, "
            f"{item}quantity * {item}unit_value AS value, {bucket} AS bucket, "
            f"CASE WHEN {item}resolution = 'FAILED' THEN 1 ELSE 0 END AS failed, {item}return_id AS return_id, "
            f"COALESCE({item}product_id, 0) AS product_id, COALESCE({item}variant_id, 0) AS variant_id, "
            f"{item}title AS title, COALESCE({item}variant_title, '') AS variant_title, "
            f"CASE WHEN {item}product_id IS NOT NULL OR {item}variant_id IS NOT NULL THEN 1 ELSE 0 END AS ranked")


def add(table: str, source: str) -> str:
    """Add the summed facts of `source` (a subquery of `facts` rows) to `table`, in key order,
    leaving out keys whose sums are all zero (a write that changed nothing counted)."""
    keys, sums, where = TABLES[table]
    key_list = ", ".join(keys)
    summed = ", ".join(f"SUM({expression})" for expression in sums.values())
    nonzero = " OR ".join(f"SUM({expression}) <> 0" for expression in sums.values())
    update = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in sums)
    return (f"INSERT INTO {table} ({key_list}, {', '.join(sums)}) SELECT {key_list}, {summed} FROM ({source}) AS x "
            f"WHERE {where} GROUP BY {key_list} HAVING {nonzero} ORDER BY {key_list} "
            f"ON CONFLICT ({key_list}) DO UPDATE SET {update}")


def add_sold(source: str) -> str:
    """Add the units of `source` (rows of s, account_id, day, units) to the daily totals."""
    return (f"INSERT INTO analytics_sold_daily (account_id, day, units) SELECT account_id, day, SUM(s * units) "
            f"FROM ({source}) AS x WHERE TRUE GROUP BY account_id, day HAVING SUM(s * units) <> 0 "
            f"ORDER BY account_id, day ON CONFLICT (account_id, day) DO UPDATE SET "
            f"units = analytics_sold_daily.units + excluded.units")


def _sources(pg: bool) -> dict:
    """Per trigger: the facts it adds (rows as they were with -1, as they are with +1). PostgreSQL
    reads the statement's transition tables, SQLite the row's OLD and NEW."""
    def of_item(rows: str, sign: int) -> str:
        if pg:
            return f"SELECT {facts(pg, 'i.', 'r.', sign)} FROM {rows} AS i JOIN returns AS r ON r.id = i.return_id"
        prefix = "NEW." if rows == "new_rows" else "OLD."
        return f"SELECT {facts(pg, prefix, 'r.', sign)} FROM returns AS r WHERE r.id = {prefix}return_id"

    if pg:
        # Only the returns whose account, status or creation changed: any other update adds nothing.
        changed = ("SELECT o.id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id WHERE (o.account_id, o.status, "
                   "o.created_at) IS DISTINCT FROM (n.account_id, n.status, n.created_at)")
        return_update = (f"SELECT {facts(pg, 'i.', 'o.', -1)} FROM old_rows AS o JOIN return_items AS i "
                         f"ON i.return_id = o.id WHERE o.id IN ({changed}) UNION ALL "
                         f"SELECT {facts(pg, 'i.', 'n.', 1)} FROM new_rows AS n JOIN return_items AS i "
                         f"ON i.return_id = n.id WHERE n.id IN ({changed})")
    else:
        return_update = (f"SELECT {facts(pg, 'i.', 'OLD.', -1)} FROM return_items AS i WHERE i.return_id = OLD.id "
                         f"UNION ALL SELECT {facts(pg, 'i.', 'NEW.', 1)} FROM return_items AS i "
                         f"WHERE i.return_id = NEW.id")
    return {
        "item_insert": of_item("new_rows", 1),
        "item_update": f"{of_item('old_rows', -1)} UNION ALL {of_item('new_rows', 1)}",
        "item_delete": of_item("old_rows", -1),
        "return_update": return_update,
        "return_delete": f"SELECT {facts(pg, 'i.', 'OLD.', -1)} FROM return_items AS i WHERE i.return_id = OLD.id",
    }


def _sold_sources(pg: bool) -> dict:
    if pg:
        return {"sold_insert": "SELECT 1 AS s, account_id, day, units FROM new_rows",
                "sold_update": "SELECT -1 AS s, account_id, day, units FROM old_rows UNION ALL "
                               "SELECT 1, account_id, day, units FROM new_rows",
                "sold_delete": "SELECT -1 AS s, account_id, day, units FROM old_rows"}
    return {"sold_insert": "SELECT 1 AS s, NEW.account_id AS account_id, NEW.day AS day, NEW.units AS units",
            "sold_update": "SELECT -1 AS s, OLD.account_id AS account_id, OLD.day AS day, OLD.units AS units "
                           "UNION ALL SELECT 1, NEW.account_id, NEW.day, NEW.units",
            "sold_delete": "SELECT -1 AS s, OLD.account_id AS account_id, OLD.day AS day, OLD.units AS units"}


# trigger name: (table, event, PostgreSQL timing and transition tables, SQLite timing and event)
TRIGGERS = {
    "item_insert": ("return_items", "INSERT", "AFTER INSERT", "REFERENCING NEW TABLE AS new_rows", "AFTER INSERT"),
    "item_update": ("return_items", "UPDATE", "AFTER UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                    "AFTER UPDATE OF " + ", ".join(ITEM_COLUMNS)),
    "item_delete": ("return_items", "DELETE", "AFTER DELETE", "REFERENCING OLD TABLE AS old_rows", "AFTER DELETE"),
    "return_update": ("returns", "UPDATE", "AFTER UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                      "AFTER UPDATE OF " + ", ".join(RETURN_COLUMNS)),
    # Before the return goes: its items are deleted in cascade after it, when the return they
    # would be joined to is no longer there (their own trigger then finds nothing to subtract).
    "return_delete": ("returns", "DELETE", "BEFORE DELETE", None, "BEFORE DELETE"),
    "sold_insert": ("units_sold_daily", "INSERT", "AFTER INSERT", "REFERENCING NEW TABLE AS new_rows", "AFTER INSERT"),
    "sold_update": ("units_sold_daily", "UPDATE", "AFTER UPDATE",
                    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", "AFTER UPDATE OF account_id, day, units"),
    "sold_delete": ("units_sold_daily", "DELETE", "AFTER DELETE", "REFERENCING OLD TABLE AS old_rows", "AFTER DELETE"),
}


def _statements(pg: bool, name: str) -> list[str]:
    if name.startswith("sold_"):
        return [add_sold(_sold_sources(pg)[name])]
    source = _sources(pg)[name]
    return [add(table, source) for table in TABLES]


def _create_triggers(pg: bool):
    for name, (table, _event, pg_timing, transition, sqlite_timing) in TRIGGERS.items():
        body = ";\n".join(_statements(pg, name)) + ";"
        if pg:
            row = transition is None
            op.execute(f"CREATE OR REPLACE FUNCTION analytics_{name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n"
                       f"RETURN {'OLD' if row else 'NULL'};\nEND\n$$")
            op.execute(f"CREATE TRIGGER analytics_{name} {pg_timing} ON {table} {transition or ''} "
                       f"FOR EACH {'ROW' if row else 'STATEMENT'} EXECUTE FUNCTION analytics_{name}()")
        else:
            op.execute(f"CREATE TRIGGER analytics_{name} {sqlite_timing} ON {table} FOR EACH ROW BEGIN\n{body}\nEND")


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    _create_tables()
    # What is stored now is counted once here; from now on each write adds its difference.
    every_item = f"SELECT {facts(pg, 'i.', 'r.', 1)} FROM return_items AS i JOIN returns AS r ON r.id = i.return_id"
    for table in TABLES:
        op.execute(add(table, every_item))
    op.execute(add_sold("SELECT 1 AS s, account_id, day, units FROM units_sold_daily"))
    _create_triggers(pg)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for name, (table, *_rest) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS analytics_{name}{' ON ' + table if pg else ''}")
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS analytics_{name}()")
    op.drop_index("ix_units_sold_daily_variant", table_name="units_sold_daily")
    op.drop_index("ix_units_sold_daily_product", table_name="units_sold_daily")
    for table in ("analytics_sold_daily", "analytics_variants_monthly", "analytics_variants_daily",
                  "analytics_failed_daily", "analytics_durations_weekly", "analytics_durations_daily",
                  "analytics_returns_daily"):
        op.drop_table(table)
