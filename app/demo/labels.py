"""`make demo`: the demo store buys prepaid return labels from the sandbox's fake EasyPost, so a
return submitted in its portal shows the shopper a label to print. Safe to run again."""
from decimal import Decimal

from app.crypto import encrypt_secret
from app.domain.vocabulary import LabelIssueOn, LabelProvider
from app.extensions import db
from app.models import Account

DEMO_EASYPOST_KEY = "EZTK_demo_sandbox_key"
DEMO_RETURNS_ADDRESS = {"name": "Returns desk", "company": "", "street1": "417 Montgomery Street",
                        "street2": "5th Floor", "city": "San Francisco", "state": "CA", "zip": "94104",
                        "country": "US", "phone": "4153334445"}


def connect_demo_labels(sandbox, account: Account) -> list[str]:
    """Register the demo key with the sandbox's EasyPost and point the account at it (labels
    bought on submission, free for the shopper). Returns the lines to print."""
    sandbox.call("POST", "/labels/keys", {"provider": "easypost", "key": DEMO_EASYPOST_KEY})
    account.label_provider = LabelProvider.EASYPOST.value
    account.label_api_key_encrypted = encrypt_secret(DEMO_EASYPOST_KEY)
    account.label_api_base = f"{sandbox.url}/easypost"
    account.label_issue_on = LabelIssueOn.SUBMISSION.value
    account.label_weight_oz = account.label_weight_oz or Decimal("16")
    account.label_ship_to = account.label_ship_to or dict(DEMO_RETURNS_ADDRESS)
    db.session.commit()
    return ["  Labels:     a return submitted in the portal gets a prepaid EasyPost label (the sandbox's fake):",
            "              the status page offers it as PDF and PNG, its tracking number already added."]
