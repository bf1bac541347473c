"""Tracking intake: provider connections, storing carrier events once, and moving returns.

A connection names one provider for one account: the secret token in its webhook URL and the
provider's signing secret (encrypted at rest). Every verified delivery is stored event by event
under a unique (provider, provider_event_id) — a resend is a no-op — and then applied to the
account's one return with that tracking number: the carrier state only moves forward, exceptions
set a flag, and the return moves through the workflow (in transit → IN_TRANSIT, delivered →
RECEIVED). An event applies to exactly one return, and a return's carrier state comes only from
the events attached to it. Events for a number no return has — or that several returns carry
(rows from before numbers were unique) — are parked until staff attach them, or until a return
gets that number (`apply_parked_events_for`).
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.crypto import decrypt_secret, encrypt_secret
from app.domain import returns as return_states
from app.domain import tracking as carrier
from app.domain.vocabulary import ReturnStatus
from app.extensions import db
from app.models import Account, Return, TrackingConnection, TrackingEvent
from app.services.return_workflow import move_return
from app.services.tracking_numbers import (TRACKING_MAX, TrackingNumberTaken, commit_number, normalise_tracking,
                                           refuse_if_held)
from app.tracking import ADAPTERS, Credentials, DeliveryRefused, ParsedEvent

# Which providers get a generated secret, which a pasted one, which only basic credentials, and
# which are authenticated by the URL token alone (nothing to generate or paste).
GENERATED_SECRET = {"generic", "easypost"}
PASTED_SECRET = {"aftership"}
BASIC_CREDENTIALS = {"seko"}
URL_TOKEN_ONLY = {"shippo"}
SECRET_MAX = 200
PARKED_PAGE = 100


class TrackingRefused(ValueError):
    """A dashboard action on tracking that cannot be done; the message is what staff read."""


# --- connections ---------------------------------------------------------------------------------

def connections_of(account_id: int) -> dict[str, TrackingConnection]:
    """The account's connections by provider name."""
    rows = db.session.scalars(select(TrackingConnection).where(TrackingConnection.account_id == account_id))
    return {row.provider: row for row in rows}


def webhook_url(connection: TrackingConnection) -> str:
    """The address to give the provider (PUBLIC_BASE_URL + the connection's path)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/webhooks/tracking/{connection.provider}/{connection.url_token}"


def connection_secret(connection: TrackingConnection) -> str | None:
    """The signing secret (or SEKO password) in plain text, to show the retailer."""
    return decrypt_secret(connection.secret_encrypted)


def _check_provider(provider: str) -> None:
    if provider not in ADAPTERS:
        raise TrackingRefused("Choose one of the supported tracking providers.")


def create_or_rotate(account: Account, provider: str) -> TrackingConnection:
    """Create the provider's connection, or rotate it: a new URL token always (the old URL stops
    working at once), and a new secret where we generate it. A pasted AfterShip secret and SEKO
    credentials are kept: they live in the provider's settings and are changed there."""
    _check_provider(provider)
    connection = connections_of(account.id).get(provider)
    if connection is None:
        connection = TrackingConnection(account_id=account.id, provider=provider)
        db.session.add(connection)
    connection.url_token = secrets.token_urlsafe(24)
    if provider in GENERATED_SECRET:
        connection.secret_encrypted = encrypt_secret("whsec_" + secrets.token_urlsafe(32))
    db.session.commit()
    return connection


def save_credentials(account: Account, provider: str, *, secret: str | None = None,
                     username: str | None = None) -> TrackingConnection:
    """Store what the retailer copied from the provider: AfterShip's webhook secret, or SEKO's
    optional Username/Password (both empty: the URL token alone authenticates)."""
    _check_provider(provider)
    connection = connections_of(account.id).get(provider)
    if connection is None:
        raise TrackingRefused("Create the connection first.")
    secret = (secret or "").strip() or None
    username = (username or "").strip() or None
    if secret and len(secret) > SECRET_MAX or username and len(username) > 120:
        raise TrackingRefused("That value is too long.")
    if provider in PASTED_SECRET:
        if not secret:
            raise TrackingRefused("Paste the webhook secret shown in AfterShip's webhook settings.")
        connection.secret_encrypted = encrypt_secret(secret)
    elif provider in BASIC_CREDENTIALS:
        if bool(secret) != bool(username):
            raise TrackingRefused("Enter both a username and a password, or neither.")
        connection.username, connection.secret_encrypted = username, encrypt_secret(secret)
    elif provider in URL_TOKEN_ONLY:
        raise TrackingRefused("This provider has no secret to save: the URL's secret token authenticates it.")
    else:
        raise TrackingRefused("This provider's secret is generated here; rotate it instead.")
    db.session.commit()
    return connection


def find_connection(provider: str, token: str) -> TrackingConnection | None:
    """The connection a webhook URL names, or None. The final comparison is constant-time and a
    token of another provider is no match, so probing learns nothing but "no"."""
    if provider not in ADAPTERS or not token or len(token) > 64:
        return None
    connection = db.session.scalar(select(TrackingConnection).where(TrackingConnection.url_token == token))
    if connection is None or not hmac.compare_digest(connection.url_token.encode(), token.encode()):
        return None
    return connection if connection.provider == provider else None


def credentials_of(connection: TrackingConnection) -> Credentials:
    """What the adapter checks a delivery against."""
    return Credentials(secret=connection_secret(connection), username=connection.username)


# --- intake --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IntakeResult:
    """What one delivery did: events stored, repeats ignored, events parked, returns touched."""

    stored: int
    duplicates: int
    parked: int
    returns: tuple[int, ...]


def _actor(provider: str) -> str:
    return f"{ADAPTERS[provider].label} tracking"


def _insert(values: dict) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the id, or None for an event we have."""
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (insert(TrackingEvent.__table__).values(**values)
                 .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
                 .returning(TrackingEvent.__table__.c.id))
    return db.session.execute(statement).scalar()


def _numbers(event: ParsedEvent) -> list[str]:
    numbers = [normalise_tracking(n) for n in (event.tracking_number, *event.other_numbers)]
    return [n for n in dict.fromkeys(numbers) if n]


def record_events(connection: TrackingConnection, events: list[ParsedEvent]) -> IntakeResult:
    """Store a verified delivery's events (each once) and apply the new ones to their returns."""
    for event in events:
        if not _numbers(event) or len(_numbers(event)[0]) > TRACKING_MAX:
            raise DeliveryRefused(f"tracking numbers must have 1 to {TRACKING_MAX} letters and digits")
    now = datetime.now(timezone.utc)
    _write_first(connection, now)
    wanted = {n for event in events for n in _numbers(event)}
    by_number: dict[str, list[Return]] = {}
    if wanted:
        rows = db.session.scalars(select(Return).where(
            Return.account_id == connection.account_id, Return.tracking_number.in_(wanted)).order_by(Return.id))
        for ret in rows:
            by_number.setdefault(ret.tracking_number, []).append(ret)
    fresh: dict[int, list[tuple[str, str | None]]] = {}
    touched: dict[int, Return] = {}
    stored = duplicates = parked = 0
    for event in events:
        candidates = next((by_number[n] for n in _numbers(event) if n in by_number), [])
        owner = _owner(candidates)
        matches = [owner] if owner is not None else []
        new_id = _insert(dict(
            account_id=connection.account_id, return_id=owner.id if owner is not None else None,
            provider=connection.provider, provider_event_id=_scoped_id(connection.account_id, event),
            tracking_number=_numbers(event)[0], state=event.state, raw_status=event.raw_status,
            occurred_at=event.occurred_at, received_at=now,
            raw={"data": event.raw, "note": event.exception}))
        for ret in matches:
            touched[ret.id] = ret
        if new_id is None:
            duplicates += 1
            continue
        stored += 1
        parked += not matches
        for ret in matches:
            fresh.setdefault(ret.id, []).append((event.state, event.exception))
    connection.last_event_at = now
    db.session.commit()
    for return_id, ret in touched.items():
        _apply(ret, fresh.get(return_id, []), connection.provider)
    return IntakeResult(stored, duplicates, parked, tuple(touched))


def _owner(candidates: list[Return]) -> Return | None:
    """The one return an event for this number applies to: the return holding the number, else
    the only closed or cancelled one that had it (a late scan is kept in its history). None when
    several qualify — only rows from before numbers were unique can share one — and the event is
    parked for staff rather than moving, and perhaps refunding, every one of them."""
    holding = [ret for ret in candidates if ret.status in return_states.HOLDS_TRACKING]
    pool = holding or candidates
    return pool[0] if len(pool) == 1 else None


def _write_first(connection: TrackingConnection, now: datetime) -> None:
    """End the request's read transaction and open the delivery's with a write: SQLite refuses,
    at once, a write from a snapshot another writer has moved past (a job issuing in the
    background), while a transaction that writes first waits its turn and then reads the latest
    rows. PostgreSQL needs neither, and loses nothing by it."""
    connection_id = connection.id
    db.session.commit()
    db.session.execute(update(TrackingConnection).where(TrackingConnection.id == connection_id)
                       .values(last_event_at=now).execution_options(synchronize_session=False))


def _scoped_id(account_id: int, event: ParsedEvent) -> str:
    """Provider ids are only unique per provider account (and derived ids per parcel): scoping
    them to our account keeps one retailer's events from ever shadowing another's."""
    return f"{account_id}:{event.provider_event_id}"[:255]


def _apply(ret: Return, fresh: list[tuple[str, str | None]], provider: str) -> None:
    """New events (in the order the provider listed them) change the return's carrier state,
    exception flag and status; duplicates bring an empty list and change nothing, but the status
    is still brought in line with the stored events (a crash half-way is mended by a resend)."""
    actor = _actor(provider)
    previous = ret.tracking_state
    running = previous
    for state, note in fresh:
        if state == carrier.EXCEPTION:
            # A late exception for a delivered parcel is history, not news.
            if carrier.rank(running) < carrier.rank(carrier.DELIVERED):
                text = (note or "Carrier reported an exception")[:255]
                ret.tracking_exception = text
                ret.add_event("tracking_exception", f"Carrier reports a problem: {text}", actor,
                              data={"provider": provider})
        elif carrier.rank(state) > carrier.rank(running):
            running = state
            ret.tracking_exception = None  # the parcel moved on: the problem is behind it
    best = carrier.furthest([previous, running, _stored_furthest(ret)])
    if fresh:
        ret.tracking_provider = provider
    if best != previous and _advance_state(ret, best):
        ret.add_event("tracking", f"Carrier: {carrier.STATE_LABELS[best].lower()}.", actor,
                      data={"provider": provider, "state": best})
    db.session.commit()
    _move(ret, actor)


def _advance_state(ret: Return, state: str) -> bool:
    """Raise the stored carrier state only if it is behind `state` (a conditional UPDATE, so two
    deliveries racing can never lower it)."""
    lower = [s for s in carrier.RANKED if carrier.rank(s) < carrier.rank(state)]
    changed = db.session.execute(
        update(Return).where(Return.id == ret.id, or_(Return.tracking_state.is_(None),
                                                       Return.tracking_state.in_(lower)))
        .values(tracking_state=state).execution_options(synchronize_session=False)).rowcount
    if changed:
        ret.tracking_state = state
    return bool(changed)


def _events_of(ret: Return):
    """The carrier events attached to this return — never another return's events for the same
    number, nor parked ones (staff attach those to the right return)."""
    return select(TrackingEvent).where(TrackingEvent.account_id == ret.account_id, TrackingEvent.return_id == ret.id)


def _stored_furthest(ret: Return) -> str | None:
    states = db.session.scalars(_events_of(ret).with_only_columns(TrackingEvent.state).distinct()).all()
    return carrier.furthest(states)


def _first_time(ret: Return, min_rank: int) -> datetime | None:
    """When the parcel first reached `min_rank`, kept between the return's creation and now
    (carrier clocks and test fixtures can be anywhere)."""
    states = [s for s in carrier.RANKED if carrier.rank(s) >= min_rank]
    times = [t for t in db.session.scalars(_events_of(ret).where(TrackingEvent.state.in_(states))
                                           .with_only_columns(TrackingEvent.occurred_at)).all() if t]
    if not times:
        return None
    now = datetime.now(timezone.utc)
    return min(max(min(times), ret.created_at), now)


def _move(ret: Return, actor: str) -> None:
    """Move the return as far as its carrier state says, one workflow step at a time (so
    in_transit_at is stamped even when the first news is "delivered")."""
    target = carrier.return_target(ret.tracking_state)
    if target is None:
        return
    steps = [(ReturnStatus.IN_TRANSIT, carrier.rank(carrier.IN_TRANSIT), "In transit: first carrier scan.")]
    if target == ReturnStatus.RECEIVED:
        steps.append((ReturnStatus.RECEIVED, carrier.rank(carrier.DELIVERED),
                      "Received: the carrier delivered the parcel."))
    for status, min_rank, message in steps:
        try:
            move_return(ret, status, actor, at=_first_time(ret, min_rank), message=message)
        except return_states.TransitionRefused:
            return  # cancelled (or otherwise closed to carriers): the events are kept, nothing moves


# --- parked events -------------------------------------------------------------------------------

def parked_events(account_id: int, limit: int = PARKED_PAGE) -> list[TrackingEvent]:
    """Events no return of the account has claimed yet, newest first."""
    return list(db.session.scalars(select(TrackingEvent).where(
        TrackingEvent.account_id == account_id, TrackingEvent.return_id.is_(None))
        .order_by(TrackingEvent.received_at.desc(), TrackingEvent.id.desc()).limit(limit)))


def shared_numbers(account_id: int, numbers: set[str]) -> dict[str, list[str]]:
    """Of these (parked events') numbers, those several returns hold, with their RMA numbers:
    their events wait for staff to say which return the parcel belongs to."""
    rows = db.session.execute(select(Return.tracking_number, Return.rma_number).where(
        Return.account_id == account_id, Return.tracking_number.in_(numbers),
        Return.status.in_(return_states.HOLDS_TRACKING)).order_by(Return.id)).all() if numbers else []
    by_number: dict[str, list[str]] = {}
    for number, rma in rows:
        by_number.setdefault(number, []).append(rma)
    return {number: rmas for number, rmas in by_number.items() if len(rmas) > 1}


def _attach(ret: Return, rows: list[TrackingEvent]) -> int:
    if not rows:
        return 0
    for row in rows:
        row.return_id = ret.id
    db.session.commit()
    rows.sort(key=lambda row: (row.occurred_at or row.received_at, row.id))
    by_provider: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        note = (row.raw or {}).get("note") if isinstance(row.raw, dict) else None
        by_provider.setdefault(row.provider, []).append((row.state, note or row.raw_status))
    for provider, fresh in by_provider.items():
        _apply(ret, fresh, provider)
    return len(rows)


def attach_parked_event(account: Account, event_id: int, return_id: int, actor: str | None) -> int:
    """Staff attach a parked event — and every other parked event of the same parcel — to one
    of the account's returns, which takes the event's tracking number if it has none. Returns
    the number of events attached; TrackingRefused with the reason otherwise."""
    event = db.session.scalar(select(TrackingEvent).where(
        TrackingEvent.id == event_id, TrackingEvent.account_id == account.id))
    if event is None or event.return_id is not None:
        raise TrackingRefused("That event is no longer waiting to be attached; reload the page.")
    ret = db.session.scalar(select(Return).where(Return.id == return_id, Return.account_id == account.id))
    if ret is None:
        raise TrackingRefused("There is no such return in this store.")
    if not ret.tracking_number:
        try:
            refuse_if_held(ret, event.tracking_number)
            ret.add_event("tracking", f"Tracking number added: {event.tracking_number} (from a parked carrier "
                          "event).", actor)  # before the number: see tracking_numbers.store_tracking
            ret.tracking_number = event.tracking_number
            commit_number(ret, event.tracking_number)
        except TrackingNumberTaken as taken:
            raise TrackingRefused(taken.for_staff) from None
    rows = list(db.session.scalars(select(TrackingEvent).where(
        TrackingEvent.account_id == account.id, TrackingEvent.return_id.is_(None),
        TrackingEvent.tracking_number == event.tracking_number)))
    ret.add_event("tracking", f"{len(rows)} carrier event(s) for {event.tracking_number} attached.", actor)
    return _attach(ret, rows)


def apply_parked_events_for(ret: Return) -> int:
    """Attach and apply the parked events of the return's tracking number (call it whenever a
    return gets or changes its tracking number). Returns how many were attached."""
    if not ret.tracking_number:
        return 0
    rows = list(db.session.scalars(select(TrackingEvent).where(
        TrackingEvent.account_id == ret.account_id, TrackingEvent.return_id.is_(None),
        TrackingEvent.tracking_number == normalise_tracking(ret.tracking_number))))
    return _attach(ret, rows)
