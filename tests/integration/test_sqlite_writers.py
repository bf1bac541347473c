"""The embedded database (SQLite) under two writers at once, as `make demo` meets it: a person's
POST that reads then writes (a login stamping last_login_at) while webhook intake commits beside
it must wait its turn, not fail with "database is locked"."""
import threading

from flask import Flask
from sqlalchemy import create_engine, text


def test_a_post_that_reads_then_writes_waits_for_another_writer_instead_of_failing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'two-writers.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, last_login_at TEXT)"))
        conn.execute(text("CREATE TABLE deliveries (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO users (id) VALUES (1)"))
    read_done, other_done = threading.Event(), threading.Event()

    def webhook_intake():  # another request's writer, committing while the login is between read and write
        read_done.wait(5)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO deliveries (id) VALUES (1)"))
        other_done.set()

    other = threading.Thread(target=webhook_intake)
    other.start()
    with Flask(__name__).test_request_context("/login", method="POST"):
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(text("SELECT id FROM users WHERE id = 1")).one()
                read_done.set()
                other_done.wait(1)  # without the write lock taken up front, the insert lands here
                conn.execute(text("UPDATE users SET last_login_at = 'now' WHERE id = 1"))
    other.join(10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_login_at FROM users")).scalar() == "now"
        assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar() == 1
    engine.dispose()
