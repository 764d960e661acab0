"""TLS with the store's CA pinned: its certificate is accepted, any other CA's refused.

A throw-away CA and a server certificate for 127.0.0.1 are made here with
``cryptography``; a tiny HTTPS server on loopback plays the store.
"""

import datetime
import hashlib
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from kiosk.errors import StoreUnreachable
from kiosk.security.keys import public_key_text, sign
from kiosk.sync.client import StoreClient
from kiosk.sync.settings import StoreSettings


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def make_ca(name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("store")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class _Ack(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        events = json.loads(raw)["events"]
        ack = {"site_id": self.headers["X-Site-Id"], "nonce": self.headers["X-Site-Nonce"],
               "body_sha256": hashlib.sha256(raw).hexdigest(), "accepted": [e["event_id"] for e in events],
               "duplicates": [], "rejected": []}
        body = json.dumps({"document": ack, "signature": sign(STORE_KEY, ack)}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def https_store(tmp_path):
    ca_key, ca_cert = make_ca("store CA")
    key, cert = make_server_cert(ca_key, ca_cert)
    (tmp_path / "ca.pem").write_bytes(pem(ca_cert))
    (tmp_path / "server.pem").write_bytes(pem(cert) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    _, other = make_ca("somebody else")
    (tmp_path / "other-ca.pem").write_bytes(pem(other))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ack)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="tls-store")
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


STORE_KEY = Ed25519PrivateKey.generate()
EVENT = {"event_id": "0" * 32, "seq": 1, "kind": "device_health", "trade_number": None,
         "created_at": "2027-01-15T08:00:00.000Z", "payload": {}}


async def _post(url: str, ca_file):
    settings = StoreSettings(url=url, ca_file=ca_file, timeout_s=5.0,
                             public_key=public_key_text(STORE_KEY.public_key()))
    client = StoreClient(settings, "site-1", Ed25519PrivateKey.generate())
    try:
        return await client.post_events([EVENT])
    finally:
        await client.aclose()


async def test_the_pinned_ca_is_trusted(https_store):
    url, folder = https_store
    ack = await _post(url, folder / "ca.pem")
    assert ack.accepted == (EVENT["event_id"],)


async def test_a_certificate_from_any_other_ca_is_refused(https_store):
    url, folder = https_store
    with pytest.raises(StoreUnreachable, match="ConnectError"):
        await _post(url, folder / "other-ca.pem")
