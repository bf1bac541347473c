"""Units sold per day, product and variant: what a return rate is divided by, kept after the
orders it was counted from are purged (app/services/retention.py)."""
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

# A line without a product or variant (a custom item) is counted under 0: a NULL in the key would
# let two rows of the same day and product stand side by side.
NO_ID = 0


class UnitsSoldDaily(db.Model):
    """Units of one product variant sold by one account on one day (UTC, the order's creation
    day), cancelled orders left out. Kept up to date where orders are written
    (app/services/units_sold.py), by adding the difference each write makes."""

    __tablename__ = "units_sold_daily"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=NO_ID)
    variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=NO_ID)
    units: Mapped[int] = mapped_column(Integer, default=0)
