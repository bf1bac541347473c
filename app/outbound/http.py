"""Sending one delivery: a POST to the address that was vetted, and nothing more.

- It connects to `Target.address` (the IP checked by `addresses.vet`), with the URL's host as the
  Host header and, over TLS, as the server name and the name the certificate must match; the name
  is never resolved again, so DNS changed between the check and the connection reaches nothing.
- No redirect is followed (a 3xx is an answer like any other, and not a success), no proxy from
  the environment is used (urllib3's pools read none), the connection gets CONNECT_TIMEOUT and the
  whole request TOTAL_TIMEOUT, and at most MAX_RESPONSE_BYTES of the answer are read.

Shopify's own deliveries give the receiver 1 s to connect and 5 s to answer
(https://shopify.dev/docs/apps/build/webhooks/troubleshooting-webhooks); ours allow a little more,
for a retailer's own, smaller systems.
"""
from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import certifi
import urllib3

from app.outbound.addresses import Target

CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 2000  # of the answer, kept on the delivery's log
USER_AGENT = "Boomerang-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the status code (None when no answer came), the start of the answer,
    an error in words (None on a 2xx), and how long it took."""

    status_code: int | None
    excerpt: str
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        """A 2xx answer: the receiver took it."""
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def _pool(target: Target, timeout: urllib3.Timeout, ca_certs: str | None):
    common = {"timeout": timeout, "retries": False, "maxsize": 1, "block": False}
    if target.scheme == "https":
        # Connected by IP: the URL's host is the TLS server name (SNI) and the name the
        # certificate must carry, as if the name had been resolved by the connection itself.
        return urllib3.HTTPSConnectionPool(
            target.address, target.port, server_hostname=target.host, assert_hostname=target.host,
            cert_reqs=ssl.CERT_REQUIRED, ca_certs=ca_certs or certifi.where(), **common)
    return urllib3.HTTPConnectionPool(target.address, target.port, **common)


def post(target: Target, body: bytes, headers: dict[str, str], *, connect_timeout: float = CONNECT_TIMEOUT,
         total_timeout: float = TOTAL_TIMEOUT, max_bytes: int = MAX_RESPONSE_BYTES,
         ca_certs: str | None = None) -> Outcome:
    """POST `body` to the vetted target; never raises for what the receiver does. `ca_certs`: the
    authorities to trust (default: certifi's, as browsers do)."""
    started = time.monotonic()
    deadline = started + total_timeout
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):
        host_header = f"[{target.host}]" + ("" if target.port == default_port else f":{target.port}")
    all_headers = {"Host": host_header, "User-Agent": USER_AGENT, "Content-Type": "application/json",
                   "Accept": "*/*", **headers}
    pool = _pool(target, urllib3.Timeout(connect=connect_timeout, read=total_timeout, total=total_timeout), ca_certs)

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        response = pool.urlopen("POST", target.path, body=body, headers=all_headers, redirect=False,
                                retries=False, preload_content=False, assert_same_host=False)
    except urllib3.exceptions.NewConnectionError as error:  # a subclass of ConnectTimeoutError
        return Outcome(None, "", f"Connection failed: {_short(error)}", took())
    except urllib3.exceptions.ConnectTimeoutError:
        return Outcome(None, "", f"Could not connect within {connect_timeout:g} s.", took())
    except urllib3.exceptions.ReadTimeoutError:
        return Outcome(None, "", f"No answer within {total_timeout:g} s.", took())
    except urllib3.exceptions.SSLError as error:
        return Outcome(None, "", f"TLS failed: {_short(error)}", took())
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(None, "", f"Connection failed: {_short(error)}", took())
    try:
        read, truncated, late = _read_capped(response, max_bytes, deadline)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return Outcome(response.status, "", _too_long(total_timeout), took())
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return Outcome(response.status, "", f"The answer broke off: {_short(error)}", took())
    finally:
        response.release_conn()
        pool.close()
    excerpt = read.decode("utf-8", "replace")[:EXCERPT_CHARS]
    if late:
        return Outcome(response.status, excerpt, _too_long(total_timeout), took())
    status = response.status
    error = None
    if 300 <= status < 400:
        error = f"Redirect ({status}) not followed: answer with a 2xx at the URL itself."
    elif not 200 <= status < 300:
        error = f"Answered {status}."
    if truncated and error is None:
        excerpt += "…"
    return Outcome(status, excerpt, error, took())


def _read_capped(response, max_bytes: int, deadline: float) -> tuple[bytes, bool, bool]:
    """Up to `max_bytes` of the answer, in chunks, stopping at the deadline even when each chunk
    arrives in time (a slow drip); (bytes, more was there, the deadline passed)."""
    chunks, size = [], 0
    while size < max_bytes:
        if time.monotonic() > deadline:
            return b"".join(chunks), False, True
        _limit_wait(response, deadline)
        chunk = response.read1(min(8192, max_bytes - size))
        if not chunk:
            return b"".join(chunks), False, False
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), True, False


def _limit_wait(response, deadline: float) -> None:
    # Each read may wait only for what is left of the whole request's time: otherwise an answer
    # dripping a byte just within every read timeout would hold the worker indefinitely.
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(0.05, deadline - time.monotonic()))


def _too_long(total_timeout: float) -> str:
    return f"The answer took longer than {total_timeout:g} s; stopped reading."


def _short(error: BaseException) -> str:
    text = str(error.__cause__ or error) or type(error).__name__
    return text[:300]
