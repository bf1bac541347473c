"""Operator commands and the scheduler's declaration."""
import importlib

from sqlalchemy import select

from app.extensions import db
from app.models import User


def test_create_admin_makes_an_account_and_its_admin(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--store", "Acme",
                                                "--email", "Boss@Example.com", "--password", "correct horse battery"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert user.is_admin and user.account.name == "Acme"


def test_create_admin_refuses_a_weak_password_and_writes_nothing(app):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--store", "Acme",
                                                "--email", "boss@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "Use at least 10 characters." in result.output
    assert db.session.scalar(select(User)) is None


def test_demo_seed_is_safe_to_run_twice(app):
    from app.demo.seed import seed_demo
    from app.models import Order

    seed_demo()
    first = len(db.session.scalars(select(Order.id)).all())
    seed_demo()
    assert len(db.session.scalars(select(Order.id)).all()) == first > 0


def test_rq_cron_config_registers_every_periodic_job():
    from rq import cron

    import app.queue.cron
    from app.queue.schedule import PERIODIC

    importlib.reload(app.queue.cron)
    registered = {(f"{entry['func'].__module__}.{entry['func'].__name__}", entry["cron"])
                  for entry in cron._job_data_registry}
    assert {(p.job, p.cron) for p in PERIODIC} <= registered
