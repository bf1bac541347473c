"""Blueprint: sign-up, login and logout for retailers and their staff."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402,F401  (routes register on bp)
