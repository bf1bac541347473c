"""Sign-up, login and staff management."""
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Account, Role, User

COMMON_PASSWORDS = {
    "password", "password1", "password123", "123456789", "1234567890", "12345678910", "qwertyuiop",
    "iloveyou12", "letmein123", "welcome123", "admin12345", "passw0rd12", "abc1234567", "1q2w3e4r5t",
}
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A request the account rules refuse; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is too weak, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "That password is too easy to guess."
    local_part = normalise_email(email).split("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        return "Do not use your email address in your password."
    return None


def hash_password(password: str) -> str:
    """Hash with the configured method (scrypt in production, cheap in tests)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def email_taken(email: str) -> bool:
    """Whether any user already has this email."""
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == normalise_email(email))) > 0


def unique_slug(name: str) -> str:
    """A portal slug from the store name, made unique with a short suffix when needed."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "store"
    slug = base
    while db.session.scalar(select(Account.id).where(Account.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def sign_up(store_name: str, email: str, password: str) -> User | None:
    """Create the retailer's account and its admin user, in one transaction.

    None when the email already has a login: nothing is created, and the work done is the same
    (the password is hashed either way), so the caller can answer both alike."""
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem, "password")
    password_hash = hash_password(password)
    if email_taken(email):
        return None
    account = Account(name=store_name.strip(), slug=unique_slug(store_name))
    user = User(account=account, email=normalise_email(email), password_hash=password_hash,
                role=Role.ADMIN.value)
    db.session.add_all([account, user])
    try:
        db.session.commit()
    except IntegrityError:
        # The same email signed up at the same moment: it has a login now, which is the answer.
        db.session.rollback()
        if email_taken(email):
            return None
        raise
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of wrong)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    active, password_hash = (user.active, user.password_hash) if user is not None else (False, None)
    # A password check is slow on purpose: hold no transaction through it (on SQLite a login's
    # transaction holds the write lock, which webhooks and jobs would wait on meanwhile).
    db.session.commit()
    if password_hash is None:
        # Spend the same time as a real check so response times do not reveal which emails exist.
        check_password_hash(hash_password("not-a-real-password"), password)
        return None
    if not check_password_hash(password_hash, password) or not active:
        return None
    user.last_login_at = datetime.now(timezone.utc)
    db.session.commit()
    return user


def add_staff(account: Account, email: str, password: str, name: str | None = None,
              role: str = Role.STAFF.value) -> User:
    """Add a staff member (or another admin) to the account."""
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem, "password")
    if email_taken(email):
        raise AccountError("Someone with this email already has a login.", "email")
    if role not in {r.value for r in Role}:
        raise AccountError("Choose a role.", "role")
    user = User(account_id=account.id, email=normalise_email(email), name=(name or "").strip() or None,
                password_hash=hash_password(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def remove_user(account: Account, user_id: int, acting_user: User) -> None:
    """Remove a login from the account; an admin cannot remove themself or the last admin."""
    user = db.session.scalar(select(User).where(User.id == user_id, User.account_id == account.id))
    if user is None:
        raise AccountError("That person is not in this account.")
    if user.id == acting_user.id:
        raise AccountError("You cannot remove yourself.")
    if user.is_admin:
        admins = db.session.scalar(select(func.count()).select_from(User).where(
            User.account_id == account.id, User.role == Role.ADMIN.value))
        if admins <= 1:
            raise AccountError("An account needs at least one admin.")
    db.session.delete(user)
    db.session.commit()


def save_settings(account: Account, settings: Mapping[str, object]) -> None:
    """Write a valid settings page's values (account attribute → value) and commit them together:
    one Save stores all of them or none."""
    for name, value in settings.items():
        setattr(account, name, value)
    db.session.commit()
