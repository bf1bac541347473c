"""Dead deliveries: the Shopify webhooks whose work failed every attempt, and retrying them."""
from flask import abort, flash, redirect, render_template, url_for

from app.dashboard import bp
from app.dashboard.forms import RetryDeliveriesForm
from app.dashboard.scope import admin_required, current_account
from app.services.dead_deliveries import count_dead, dead_deliveries, max_attempts, retry_dead


@bp.get("/deliveries/dead")
@admin_required
def dead_deliveries_page():
    """The account's dead deliveries, newest first: shop, topic, when received, attempts and the
    last error, each with Retry, and Retry all."""
    account = current_account()
    return render_template("dashboard/dead_deliveries.html", deliveries=dead_deliveries(account.id),
                           total=count_dead(account.id), max_attempts=max_attempts(), form=RetryDeliveriesForm())


@bp.post("/deliveries/dead/retry")
@admin_required
def retry_dead_deliveries():
    """Make every dead delivery of the account live again (nothing is paid out: no question asked)."""
    return _retry(None)


@bp.post("/deliveries/dead/<int:delivery_id>/retry")
@admin_required
def retry_dead_delivery(delivery_id: int):
    """Make one dead delivery live again."""
    if not 0 < delivery_id < 2**63:  # beyond BIGINT: no such delivery, and never a database error
        abort(404)
    return _retry(delivery_id)


def _retry(delivery_id: int | None):
    if RetryDeliveriesForm().validate_on_submit():
        retried = retry_dead(current_account().id, delivery_id)
        if retried:
            flash(f"{retried} deliver{'ies are' if retried != 1 else 'y is'} being processed again; "
                  f"{'they get' if retried != 1 else 'it gets'} {max_attempts()} more attempts.", "success")
        else:
            flash("Nothing to retry: that delivery was already retried or processed.", "info")
    return redirect(url_for("dashboard.dead_deliveries_page"), code=303)
