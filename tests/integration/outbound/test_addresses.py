"""The address guard: endpoint URLs whose host is, or resolves to, an address the server must not
call are refused with a message that says why — when saved, and again when each delivery is sent
(DNS may have changed), and the request goes to the address that was checked."""
import pytest

from app.extensions import db
from app.models import OutboundDelivery
from app.outbound import addresses
from app.outbound.addresses import AddressRefused, vet
from app.services import outbound_sending as sending
from app.services import outbound_webhooks as hooks
from tests.factories import make_account

REFUSED_LITERALS = [
    ("https://127.0.0.1/", "loopback"),
    ("https://127.8.9.10/", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://2130706433/", "loopback"),          # 127.0.0.1 as one decimal number
    ("https://0x7f.1/", "loopback"),              # hex and a short form
    ("https://0177.0.0.1/", "loopback"),          # octal
    ("https://127.1/", "loopback"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://10.1.2.3/", "private"),
    ("https://172.16.0.1/", "private"),
    ("https://172.31.255.254/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://[fc00::1]/", "private"),
    ("https://[fd12:3456::1]/", "private"),
    ("https://169.254.1.1/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://100.127.255.254/", "carrier-grade NAT"),
    ("https://224.0.0.1/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.255/", "reserved"),
    ("https://192.0.2.10/", "reserved"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("https://[::ffff:10.0.0.1]/", "private"),
    ("https://[::ffff:169.254.169.254]/", "metadata"),
    ("https://[2002:7f00:1::]/", "loopback"),     # 6to4 of 127.0.0.1
    ("https://[2002:a9fe:a9fe::]/", "metadata"),  # 6to4 of 169.254.169.254
    ("https://[64:ff9b::a00:1]/", "private"),     # NAT64 of 10.0.0.1
]


@pytest.mark.parametrize("url, why", REFUSED_LITERALS)
def test_each_refused_address_class_is_refused_by_name(url, why):
    with pytest.raises(AddressRefused) as refusal:
        vet(url, allow_loopback=False)
    assert why in str(refusal.value)


@pytest.mark.parametrize("address, why", [
    ("10.0.0.5", "private"), ("127.0.0.1", "loopback"), ("169.254.169.254", "metadata"), ("fd00::7", "private"),
    ("::ffff:192.168.0.1", "private"), ("100.64.1.1", "carrier-grade NAT"),
])
def test_a_hostname_resolving_to_a_refused_address_is_refused(monkeypatch, address, why):
    monkeypatch.setattr(addresses, "resolver", lambda host, port: [address])
    with pytest.raises(AddressRefused) as refusal:
        vet("https://hooks.example.com/in", allow_loopback=False)
    assert why in str(refusal.value) and address in str(refusal.value)


def test_one_private_answer_among_public_ones_is_enough_to_refuse(monkeypatch):
    monkeypatch.setattr(addresses, "resolver", lambda host, port: ["93.184.216.34", "10.0.0.1"])
    with pytest.raises(AddressRefused):
        vet("https://hooks.example.com/", allow_loopback=False)


def test_a_public_https_url_is_vetted_to_the_address_it_resolved_to(monkeypatch):
    monkeypatch.setattr(addresses, "resolver", lambda host, port: ["93.184.216.34"])
    target = vet("https://Hooks.Example.com:8443/in?x=1", allow_loopback=False)
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https", "hooks.example.com", 8443, "/in?x=1", "93.184.216.34")


@pytest.mark.parametrize("url, message", [
    ("http://93.184.216.34/", "https://"),
    ("ftp://example.com/", "https://"),
    ("file:///etc/passwd", "https://"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "https://"),
    ("https://user:pw@example.com/", "user name or password"),
    ("https://example.com@127.0.0.1/", "user name or password"),
    ("https:///nohost", "no host"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://example.com:99999/", "not valid"),
    ("https://exa mple.com/", "printable ASCII"),
    ("https://example.com/\x00", "printable ASCII"),
    ("https://example.com/\ud800", "printable ASCII"),
    ("https://exämple.com/", "printable ASCII"),
    ("https://example.com/" + "a" * 2100, "too long"),
    ("", "Enter"),
    ("https://example.com/#frag", "fragment"),
    ("https://exa%ED%A0%80mple.com/", "host may contain only"),
    ("https://exa%00mple.com/", "host may contain only"),
])
def test_hostile_urls_are_refused_with_a_clear_message(url, message):
    with pytest.raises(AddressRefused) as refusal:
        vet(url, allow_loopback=False)
    assert message in str(refusal.value)


def test_loopback_over_http_only_where_the_setting_allows_it():
    assert vet("http://127.0.0.1:8080/hooks", allow_loopback=True).address == "127.0.0.1"
    with pytest.raises(AddressRefused):
        vet("http://127.0.0.1:8080/hooks", allow_loopback=False)
    with pytest.raises(AddressRefused, match="private"):
        vet("http://10.0.0.1/", allow_loopback=True)  # the setting opens loopback only


def test_the_app_refuses_loopback_without_the_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", False)
    account = make_account()
    db.session.commit()
    with pytest.raises(hooks.EndpointRefused, match="https://"):
        hooks.create_endpoint(account, "http://127.0.0.1:9/hooks", [hooks.TOPICS[0]])
    with pytest.raises(hooks.EndpointRefused, match="loopback"):
        hooks.create_endpoint(account, "https://localhost.:9/hooks", [hooks.TOPICS[0]])


def test_dns_that_changes_after_saving_is_checked_again_when_sending(app, receiver, jobs, outbound_clock, monkeypatch):
    answers = {"hooks.example.test": "127.0.0.1"}
    monkeypatch.setattr(addresses, "resolver", lambda host, port: [answers[host]])
    account = make_account()
    db.session.commit()
    endpoint, _ = hooks.create_endpoint(account, f"http://hooks.example.test:{receiver.port}/in", list(hooks.TOPICS))
    first = hooks.send_test(endpoint)
    assert sending.deliver(first.id) == "delivered"
    # Sent to the address checked, with the name as the Host header (no second resolution).
    assert receiver.received[0].headers["Host"] == f"hooks.example.test:{receiver.port}"
    answers["hooks.example.test"] = "10.0.0.1"  # the name now points inside the network
    second = hooks.send_test(endpoint)
    assert sending.deliver(second.id) == "pending"
    row = db.session.get(OutboundDelivery, second.id)
    assert "Not sent" in row.last_error and "private address (10.0.0.1)" in row.last_error
    assert len(receiver.received) == 1
