"""Column types shared by the models: exact money and 64-bit ids on SQLite and PostgreSQL."""
from datetime import timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, DateTime, Integer, Numeric
from sqlalchemy.types import TypeDecorator

# Our own primary keys: BIGINT on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

MONEY_SCALE = 4
_SCALE_FACTOR = Decimal(10) ** MONEY_SCALE


def canonical_money(value: Decimal) -> Decimal:
    """Strip storage padding while keeping at least two places: 0.1000 -> 0.10, 1.2345 stays."""
    normalised = value.normalize()
    if normalised.as_tuple().exponent > -2:
        return value.quantize(Decimal("0.01"))
    return normalised


class Money(TypeDecorator):
    """An exact Decimal amount with up to four decimal places.

    PostgreSQL stores NUMERIC(19, 4). SQLite has no decimal type (NUMERIC there is a float), so it
    stores an integer count of ten-thousandths: exact, and still sortable and comparable in SQL.
    Values with more than four places are refused rather than rounded silently.
    """

    impl = Numeric(19, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(19, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_decimal(value)
        if amount.as_tuple().exponent < -MONEY_SCALE and amount != amount.quantize(Decimal(1) / _SCALE_FACTOR):
            raise ValueError(f"money value {amount} has more than {MONEY_SCALE} decimal places")
        if dialect.name == "sqlite":
            return int(amount * _SCALE_FACTOR)
        return amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return canonical_money(Decimal(int(value)) / _SCALE_FACTOR)
        return canonical_money(Decimal(value))


def to_decimal(value) -> Decimal:
    """Convert to Decimal without passing through binary floating point."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("a boolean is not a money value")
    elif isinstance(value, (int, str, float)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a money value") from None
    else:
        raise ValueError(f"{value!r} is not a money value")
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite money value")
    return result


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL.

    PostgreSQL stores TIMESTAMP WITH TIME ZONE; SQLite stores naive UTC text, and the zone is
    put back on load. Naive datetimes are refused: their meaning depends on the server's zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
