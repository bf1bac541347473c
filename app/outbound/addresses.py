"""Which endpoint URLs may be called: a server-side request forgery guard.

A retailer types the URL, and our server calls it: without this guard a URL could make the server
call itself, the private network it runs in, or a cloud's metadata service (which hands out
credentials). So an endpoint's host must resolve only to public addresses, checked when the URL is
saved and again, on a fresh resolution, when each delivery is sent (DNS can change in between). The
request then connects to the very address that was checked (`app/outbound/http.py`), never to a
second resolution of the name.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})

# The address classes refused, each with the words a retailer reads. Checked in this order, so
# the most specific name wins (a metadata address is also link-local or unique-local).
_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
_METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200"))
_REFUSED = (
    ("a loopback address", (_V4("127.0.0.0/8"), _V6("::1/128"))),
    ("an unspecified address", (_V4("0.0.0.0/8"), _V6("::/128"))),
    ("a private address", (_V4("10.0.0.0/8"), _V4("172.16.0.0/12"), _V4("192.168.0.0/16"), _V6("fc00::/7"))),
    ("a link-local address", (_V4("169.254.0.0/16"), _V6("fe80::/10"))),
    ("a shared (carrier-grade NAT) address", (_V4("100.64.0.0/10"),)),
    ("a multicast address", (_V4("224.0.0.0/4"), _V6("ff00::/8"))),
    ("a reserved address", (_V4("240.0.0.0/4"), _V4("192.0.0.0/24"), _V4("192.0.2.0/24"), _V4("198.18.0.0/15"),
                            _V4("198.51.100.0/24"), _V4("203.0.113.0/24"), _V6("2001:db8::/32"),
                            _V6("100::/64"), _V6("2001::/23"), _V6("fec0::/10"), _V6("::/96"))),
)
_NAT64 = _V6("64:ff9b::/96")
_HOST = re.compile(r"^[a-z0-9_.:-]+$", re.ASCII)  # a name, or an IP (urlsplit removed the brackets)


class AddressRefused(ValueError):
    """The URL may not be called; the message says why, in words a retailer can act on."""


@dataclass(frozen=True)
class Target:
    """A vetted URL: what to connect to (`address`, checked) and what to ask for there."""

    scheme: str
    host: str          # as typed (lower-cased): the Host header and the TLS server name
    port: int
    path: str          # path and query, never empty
    address: str       # the checked IP address the request connects to


def refused_class(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why this address may not be called (e.g. "a private address"), or None when it is public.
    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64, IPv4-compatible) are judged by
    the IPv4 address they carry."""
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is None and address.teredo:
            return "a tunnelled (Teredo) address"
        if carried is not None:
            return refused_class(carried)
    for reason, networks in _REFUSED:
        if any(address.version == network.version and address in network for network in networks):
            return reason
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    return None


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as an IP means, in any spelling a resolver accepts: dotted quad,
    IPv6 in brackets, and the old integer, octal and hex forms (2130706433, 0177.1, 0x7f.1)."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise AddressRefused("The address is not a valid IP address.") from None
    return None


def _shown(address) -> str:
    mapped = getattr(address, "ipv4_mapped", None)
    return f"::ffff:{mapped}" if mapped else str(address)


def parse(url: str, *, allow_loopback: bool) -> tuple[str, str, int, str]:
    """Check a URL's shape: (scheme, host, port, path). https only (http only to loopback when
    `allow_loopback`, the tests' and demo's setting); no user name or password; a host; at most
    MAX_URL_LENGTH characters of printable text."""
    if not isinstance(url, str) or not url.strip():
        raise AddressRefused("Enter the endpoint's URL.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"The URL is too long (at most {MAX_URL_LENGTH} characters).")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise AddressRefused("The URL may contain only printable ASCII characters, without spaces "
                             "(encode others as %XX; international domain names in their xn-- form).")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError:
        raise AddressRefused("The URL is not valid (check the host and port).") from None
    if parts.scheme not in ("https", "http"):
        raise AddressRefused("The URL must start with https://.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AddressRefused("The URL may not carry a user name or password; verify deliveries by their signature.")
    if not host:
        raise AddressRefused("The URL has no host.")
    if not _HOST.match(host):
        raise AddressRefused("The host may contain only letters, digits, dots and hyphens "
                             "(international names in their xn-- form).")
    if parts.fragment:
        raise AddressRefused("The URL may not have a #fragment.")
    if parts.scheme == "http" and not allow_loopback:
        raise AddressRefused("The URL must start with https://.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


# Replaced in tests (a hostname that resolves to a private address, without a DNS server).
resolver = _system_resolver


def vet(url: str, *, allow_loopback: bool = False) -> Target:
    """Check `url` and resolve its host now; the Target to connect to, or AddressRefused.

    Every address the name resolves to must be public (one private answer among public ones would
    let a rebinding resolver choose), and the first is the one connected to. With `allow_loopback`
    (tests and the demo), loopback addresses are allowed too, and http only to them."""
    scheme, host, port, path = parse(url, allow_loopback=allow_loopback)
    if host.rstrip(".") in METADATA_HOSTS:
        raise AddressRefused("The URL's host is a cloud metadata service.")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = resolver(host.rstrip("."), port)
        except (OSError, UnicodeError):
            raise AddressRefused(f"The host {host} could not be found.") from None
        try:
            addresses = [ipaddress.ip_address(str(a).split("%")[0]) for a in found]
        except ValueError:
            raise AddressRefused(f"The host {host} did not resolve to an IP address.") from None
        if not addresses:
            raise AddressRefused(f"The host {host} could not be found.")
    for address in addresses:
        reason = refused_class(address)
        if reason == "a loopback address" and allow_loopback:
            continue
        if reason:
            raise AddressRefused(f"The URL's host resolves to {reason} ({_shown(address)}); "
                                 "only public addresses may be called.")
    if scheme == "http" and not all(a.is_loopback for a in addresses):
        raise AddressRefused("The URL must start with https://.")
    return Target(scheme, host, port, path, str(addresses[0]))
