"""`make demo`: a generic tracking connection for each demo store, registered with the sandbox's
fake carrier so its "Send tracking event" form is filled in. Safe to run again (the existing
connection is reused, so a URL already given to the sandbox keeps working)."""
from app.domain.vocabulary import ReturnAction
from app.extensions import db
from app.models import Account
from app.services.tracking import connection_secret, connections_of, create_or_rotate, webhook_url


def connect_demo_carrier(sandbox, accounts: list[Account], first_scan: Account | None = None) -> list[str]:
    """Connect each account's generic tracking webhook to the sandbox carrier (via its control
    API); `first_scan` gets the First scan return action, so a sent "in transit" issues the
    return's options. Returns the lines to print."""
    lines = []
    for account in accounts:
        connection = connections_of(account.id).get("generic") or create_or_rotate(account, "generic")
        sandbox.call("POST", "/carrier/connections", {"label": account.name, "url": webhook_url(connection),
                                                       "secret": connection_secret(connection)})
    if first_scan is not None:
        first_scan.return_action = ReturnAction.FIRST_SCAN.value
        db.session.commit()
    lines.append("  Carrier:    on the sandbox page, \"Send tracking event\" with a return's tracking number")
    lines.append("              (the shopper adds one on the return's status page; an open demo return has DEMO1001):")
    lines.append("              label created, then in transit — the first scan moves the return to In transit")
    lines.append(f"              and, in {first_scan.name if first_scan else 'a First scan store'}, processes its "
                 "Shopify return — then delivered.")
    return lines
