"""Returns issued the old way: the operator command records credit notes and exchanges in Shopify
afterwards as processed returns with no money and no restock — only when asked, once."""
from app.extensions import db
from app.models import ReturnItem, ShopifyReturn
from app.services import legacy_issuing
from tests.integration.returns.test_runtime_rules import legacy_item
from tests.support.shopify_returns import returns_account, sandbox_returns, stock


def test_record_legacy_lists_by_default_and_records_once_with_apply(app, sandbox, virtual_clock):
    account = returns_account(sandbox, "manual", customer_accounts="classic")
    credit = legacy_item(account, sandbox, option="credit")
    assert legacy_issuing.issue_item(credit.id) == "issued"  # a gift card, the old way
    refund = legacy_item(account, sandbox, option="refund")
    assert legacy_issuing.issue_item(refund.id) == "issued"
    variant = db.session.get(ReturnItem, credit.id).variant_id
    before = stock(sandbox, account, variant)
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["returns", "record-legacy"])
    assert listed.exit_code == 0 and "Dry run: 1 return(s) would be recorded" in listed.output
    assert credit.return_.rma_number in listed.output and refund.return_.rma_number not in listed.output
    assert sandbox_returns(sandbox, account)["summary"]["returns_created"] == 0  # nothing was done

    applied = runner.invoke(args=["returns", "record-legacy", "--apply"])
    assert applied.exit_code == 0 and "recorded as" in applied.output, applied.output
    held = sandbox_returns(sandbox, account)
    assert (held["summary"]["returns_created"], held["summary"]["units_processed"]) == (1, 1)
    assert held["summary"]["dispositions"]["NOT_RESTOCKED"] == 1 and held["summary"]["return_refunds"] == 0
    assert held["returns"][0]["status"] == "CLOSED"  # its Boomerang return was closed
    assert stock(sandbox, account, variant) == before  # no restock
    assert db.session.query(ShopifyReturn).one().seq == 90

    again = runner.invoke(args=["returns", "record-legacy", "--apply"])
    assert "Nothing to record" in again.output
    assert sandbox_returns(sandbox, account)["summary"]["returns_created"] == 1


def test_record_legacy_for_an_unknown_account_says_so(app):
    result = app.test_cli_runner().invoke(args=["returns", "record-legacy", "--account", "nobody"])
    assert result.exit_code != 0 and "No account 'nobody'" in result.output
