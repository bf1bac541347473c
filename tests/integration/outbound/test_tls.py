"""Over https the request connects to the vetted IP address yet speaks TLS to the URL's host: the
server name (SNI) and the certificate's name are the host's, so connecting by address loses none
of TLS's checks — an untrusted certificate or one for another name is a failed attempt."""
import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.outbound import addresses, http

HOST = "hooks.example.test"


def certificate(tmp_path, name: str):
    """A self-signed certificate for `name`: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_receiver(tmp_path):
    """An https receiver on 127.0.0.1 with a certificate for HOST; records the SNI and Host it saw."""
    seen = {"sni": [], "host": []}
    cert_file, key_file = certificate(tmp_path, HOST)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["host"].append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert_file, seen
    server.shutdown()
    server.server_close()


def test_https_connects_by_the_vetted_address_with_the_hosts_name_for_tls(tls_receiver, monkeypatch):
    port, trusted, seen = tls_receiver
    monkeypatch.setattr(addresses, "resolver", lambda host, port: ["127.0.0.1"])
    target = addresses.vet(f"https://{HOST}:{port}/in", allow_loopback=True)
    assert target.address == "127.0.0.1"
    outcome = http.post(target, b"{}", {}, ca_certs=trusted)
    assert outcome.delivered, outcome.error
    assert seen["sni"] == [HOST] and seen["host"] == [f"{HOST}:{port}"]
    # The public authorities do not know this certificate: a failed attempt, nothing sent.
    refused = http.post(target, b"{}", {})
    assert not refused.delivered and refused.error.startswith("TLS failed")
    # The certificate trusted, but the URL names another host (same address): refused as well.
    wrong = http.post(addresses.vet(f"https://other.example.test:{port}/in", allow_loopback=True), b"{}", {},
                      ca_certs=trusted)
    assert not wrong.delivered and wrong.error.startswith("TLS failed")
    assert len(seen["host"]) == 1
