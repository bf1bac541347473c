"""Pieces the dashboard's search boxes share."""
import re

# "#1001" or "1001": an order number, matched exactly rather than as a substring.
ORDER_NUMBER = re.compile(r"^#?(\d{1,15})$")


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards (use with escape="\\"), so a typed % or _ matches itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
