"""Customer portal pages."""
from app.portal import bp  # noqa: F401
