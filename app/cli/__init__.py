"""Operator commands, one module per group: `flask users …`, `flask tokens rotate`, `flask jobs …`,
`flask returns …`, `flask orders …`, `flask shop …`, `flask demo …` and `flask serve`."""
from flask import Flask

from app.cli.demo import demo_cli
from app.cli.jobs import jobs_cli, serve
from app.cli.orders import orders_cli, returns_cli
from app.cli.shop import shop_cli
from app.cli.users import tokens_cli, users_cli


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for command in (users_cli, tokens_cli, jobs_cli, returns_cli, orders_cli, serve, demo_cli, shop_cli):
        app.cli.add_command(command)
