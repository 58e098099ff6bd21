"""ZEO over TLS with client certificates.

`init(DIR)` writes a certificate authority and a server and a client
certificate signed by it (EC P-256 keys, the `cryptography` package):

    DIR/ca.pem  DIR/ca.key          the authority (keep ca.key private)
    DIR/server.pem  DIR/server.key  for `world serve --tls DIR`
    DIR/client.pem  DIR/client.key  for every `--zeo HOST:PORT --tls DIR`

A server made with `server_context(DIR)` accepts only clients holding a
certificate the authority signed; a client made with `client_context(DIR)`
accepts only a server certified for the host it dials. `check_server` tries
the connection once, quickly, so that a refused client ends in one
`ImageError` line instead of ZEO's endless retries.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import time
from typing import Iterable

from .errors import ImageError

FILES = ("ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key")
HOSTS = ("127.0.0.1", "localhost", "::1")
DAYS = 3650
GREETING_SECONDS = 0.5     # a plain ZEO server greets at once; silence suggests TLS


# ---------------------------------------------------------------- certificates

def _name(common: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "World"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool,
                 hosts: Iterable[str] = (), client: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(days=DAYS))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                          content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False,
                                          encipher_only=False, decipher_only=False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    names = []
    for h in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            names.append(x509.DNSName(h))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _write(path: str, data: bytes, private: bool) -> None:
    # O_EXCL: never overwrite; a key is created 0600, never readable by others for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def init(folder: str, hosts: Iterable[str] = ()) -> list[str]:
    """Write a CA, a server and a client certificate into `folder`; return the paths.

    The server certificate names 127.0.0.1, localhost, ::1 and `hosts`. Nothing is
    overwritten: a folder that already holds any of the files is refused."""
    from cryptography.hazmat.primitives import serialization
    folder = os.path.abspath(folder)
    taken = [f for f in FILES if os.path.exists(os.path.join(folder, f))]
    if taken:
        raise ImageError(f"{os.path.join(folder, taken[0])} already exists: tls-init never "
                         f"overwrites; choose an empty directory")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError as e:
        raise ImageError(f"cannot create {folder}: {e.strerror or e}") from None
    ca_key, server_key, client_key = _key(), _key(), _key()
    ca = _certificate("World CA", ca_key, "World CA", ca_key, ca=True)
    server = _certificate("World server", server_key, "World CA", ca_key, ca=False,
                          hosts=dict.fromkeys([*HOSTS, *hosts]))
    client = _certificate("World client", client_key, "World CA", ca_key, ca=False, client=True)
    pem = serialization.Encoding.PEM
    written = []
    for name, obj in (("ca", (ca, ca_key)), ("server", (server, server_key)),
                      ("client", (client, client_key))):
        cert, key = obj
        key_bytes = key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        for suffix, data, private in ((".pem", cert.public_bytes(pem), False),
                                      (".key", key_bytes, True)):
            path = os.path.join(folder, name + suffix)
            try:
                _write(path, data, private)
            except FileExistsError:
                raise ImageError(f"{path} already exists: tls-init never overwrites") from None
            except OSError as e:
                raise ImageError(f"cannot write {path}: {e.strerror or e}") from None
            written.append(path)
    return written


# ---------------------------------------------------------------- contexts

def _files(folder: str, *names: str) -> list[str]:
    paths = [os.path.join(os.path.abspath(folder), n) for n in names]
    for p in paths:
        if not os.path.isfile(p):
            raise ImageError(f"{p} is missing: make the certificates with `world tls-init "
                             f"{folder}`, or give the directory that holds them")
    return paths


def _load(ctx: ssl.SSLContext, folder: str, who: str) -> ssl.SSLContext:
    ca, cert, key = _files(folder, "ca.pem", f"{who}.pem", f"{who}.key")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_verify_locations(cafile=ca)
        ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError, ValueError) as e:
        raise ImageError(f"the certificates in {folder} cannot be used ({e}): make new ones "
                         f"with `world tls-init DIR`") from None
    return ctx


def server_context(folder: str) -> ssl.SSLContext:
    """A server TLS context that requires a client certificate signed by `folder`/ca.pem."""
    ctx = _load(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), folder, "server")
    ctx.verify_mode = ssl.CERT_REQUIRED
    # No TLS 1.3 session tickets: no client here resumes sessions, and a ticket the server
    # sends after the handshake stalled about one websockets connection in twenty for 10 s.
    ctx.num_tickets = 0
    return ctx


def client_context(folder: str) -> ssl.SSLContext:
    """A client TLS context presenting `folder`/client.pem and trusting only `folder`/ca.pem."""
    ctx = _load(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), folder, "client")
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine's loopback addresses."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a[4][0]).is_loopback for a in found)


# ---------------------------------------------------------------- trying the server once

def _why(e: BaseException) -> str:
    text = getattr(e, "reason", None) or getattr(e, "verify_message", None) or str(e)
    return str(text).replace("_", " ").lower()


def check_server(address: str, host: str, port: int, ctx: ssl.SSLContext | None,
                 timeout: float) -> None:
    """Connect to the ZEO server once and read its greeting, over TLS if `ctx` is
    given; raise one `ImageError` line if it does not answer or refuses this client."""
    deadline = time.monotonic() + timeout
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        raise ImageError(f"no ZEO server answers at {address}: start one with "
                         f"`world serve --address {address}`") from None
    sock: socket.socket = raw
    try:
        if ctx is not None:
            try:
                sock = ctx.wrap_socket(raw, server_hostname=host)
            except ssl.SSLCertVerificationError as e:
                raise ImageError(f"the server at {address} is not certified by this --tls "
                                 f"directory's ca.pem ({_why(e)})") from None
            except ssl.SSLError as e:
                raise ImageError(f"no TLS at {address} ({_why(e)}): is the server run without "
                                 f"--tls?") from None
            sock.settimeout(max(0.1, deadline - time.monotonic()))
        else:
            sock.settimeout(GREETING_SECONDS)
        try:
            data = sock.recv(1)
        except socket.timeout:
            if ctx is not None:
                raise
            # A TLS server waits for our hello: a byte that is no TLS record makes it hang up.
            sock.sendall(b"\xff" * 8)
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            data = sock.recv(1)
        if not data and ctx is None:
            raise ImageError(f"the ZEO server at {address} closed the connection: it may "
                             f"require TLS (--tls DIR)")
        if not data:         # a ZEO server greets at once: it hung up on our certificate
            raise ImageError(f"the ZEO server at {address} closed the TLS connection: it does "
                             f"not accept the client certificate of this --tls directory")
    except ssl.SSLError as e:
        raise ImageError(f"the ZEO server at {address} refused this client's certificate "
                         f"({_why(e)}): use a --tls directory made with the server's") from None
    except socket.timeout:
        raise ImageError(f"the ZEO server at {address} did not answer within "
                         f"{timeout:g} s") from None
    except ConnectionError as e:
        raise ImageError(f"the ZEO server at {address} dropped the connection "
                         f"({e.strerror or type(e).__name__})"
                         + ("" if ctx is not None else ": it may require TLS (--tls DIR)")) from None
    finally:
        sock.close()
