"""Probes: ZEO over TLS with client certificates. `world tls-init` writes the
files; a TLS server on a free loopback port serves a client holding the right
certificate, and refuses, with one error line and within seconds, a client
without one, with one from another CA, or without TLS; `world serve` refuses
an address beyond loopback without --tls."""
from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

import world
from world.objects.errors import ImageError
from world.objects.server import Server
from world.objects.storage import parse_address
from world.objects.tls import FILES, check_server, init

ROOT = Path(__file__).resolve().parents[2]
REFUSE_SECONDS = 8.0        # generous: the refusals measured here take well under 1 s


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `world ARGS` in `cwd`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("WORLD_IMAGE", None)
    return subprocess.run([sys.executable, "-m", "repl.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def one_error(proc: subprocess.CompletedProcess) -> str:
    """Exit status 1, one `error:` line, no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls") / "certs"
    init(str(folder))
    return folder


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Certificates from another CA."""
    folder = tmp_path_factory.mktemp("tls") / "other"
    init(str(folder))
    return folder


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(tmp_path / "world.fs")


@pytest.fixture
def tls_server(image: str, certs: Path) -> Iterator[str]:
    """The address of a TLS ZEO server on a free loopback port, stopped after the test."""
    server = Server(image, tls=str(certs))
    try:
        yield server.address
    finally:
        server.stop()


def refused(fn, *words: str) -> str:
    """`fn()` raises one ImageError line containing `words`, within REFUSE_SECONDS."""
    t = time.monotonic()
    with pytest.raises(ImageError) as e:
        fn()
    took = time.monotonic() - t
    text = str(e.value)
    assert took < REFUSE_SECONDS, took
    assert "\n" not in text and all(w in text for w in words), text
    return text


# ---------------------------------------------------------------- tls-init

def test_tls_init_writes_the_files(tmp_path: Path) -> None:
    proc = cli(tmp_path, "tls-init", "certs", "--host", "world.example")
    assert proc.returncode == 0, proc.stderr
    for name in FILES:
        path = tmp_path / "certs" / name
        assert path.is_file(), name
        mode = stat.S_IMODE(path.stat().st_mode)
        if name.endswith(".key"):
            assert mode == 0o600, (name, oct(mode))
    from cryptography import x509
    cert = x509.load_pem_x509_certificate((tmp_path / "certs" / "server.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "world.example" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(a) for a in sans.get_values_for_type(x509.IPAddress)]


def test_tls_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "client.key").write_text("mine")
    assert "already exists" in one_error(cli(tmp_path, "tls-init", "certs"))
    assert (tmp_path / "certs" / "client.key").read_text() == "mine"
    assert not (tmp_path / "certs" / "ca.pem").exists()


# ---------------------------------------------------------------- a TLS server

def test_a_client_with_the_right_certificate(tls_server: str, certs: Path) -> None:
    """Define a name over TLS, reopen, read it back."""
    with world.open(zeo=tls_server, tls=certs) as w:
        w.eval("(define greeting \"over tls\")")
    with world.open(zeo=tls_server, tls=certs) as w:
        assert w.eval("greeting") == "over tls"


def test_the_cli_with_the_right_certificate(tls_server: str, certs: Path, tmp_path: Path) -> None:
    proc = cli(tmp_path, "eval", "--zeo", tls_server, "--tls", str(certs), "(define n 5) (* n 2)")
    assert proc.returncode == 0 and proc.stdout.strip() == "10", proc.stderr


def test_a_plain_client_is_refused(tls_server: str) -> None:
    refused(lambda: world.open(zeo=tls_server), "closed the connection", "TLS")


def test_a_plain_cli_client_is_refused(tls_server: str, tmp_path: Path) -> None:
    t = time.monotonic()
    line = one_error(cli(tmp_path, "eval", "--zeo", tls_server, "1"))
    assert time.monotonic() - t < REFUSE_SECONDS + 5 and tls_server in line


def test_a_client_trusting_another_ca(tls_server: str, other: Path) -> None:
    """The client does not trust the server's certificate."""
    refused(lambda: world.open(zeo=tls_server, tls=other), "not certified")


def _context(ca: Path, client: Path | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(ca / "ca.pem"))
    if client is not None:
        ctx.load_cert_chain(str(client / "client.pem"), str(client / "client.key"))
    return ctx


def test_a_client_without_a_certificate(tls_server: str, certs: Path) -> None:
    host, port = parse_address(tls_server)
    refused(lambda: check_server(tls_server, host, port, _context(certs, None), 10),
            "does not accept the client certificate")


def test_a_client_certificate_from_another_ca(tls_server: str, certs: Path, other: Path) -> None:
    """The client trusts the server, but its own certificate is signed by another CA."""
    host, port = parse_address(tls_server)
    refused(lambda: check_server(tls_server, host, port, _context(certs, other), 10),
            "does not accept the client certificate")


def test_the_server_itself_requires_the_certificate(tls_server: str, certs: Path,
                                                    other: Path) -> None:
    """Without the world's own check: ZEO's client with a foreign certificate never connects."""
    import ZEO
    from ZEO.Exceptions import ClientDisconnected
    host, port = parse_address(tls_server)
    t = time.monotonic()
    with pytest.raises(ClientDisconnected):
        ZEO.client((host, port), wait_timeout=1.5, ssl=_context(certs, other),
                   ssl_server_hostname=host)
    assert time.monotonic() - t < REFUSE_SECONDS


def test_a_tls_client_of_a_plain_server(image: str, certs: Path) -> None:
    server = Server(image)
    try:
        refused(lambda: world.open(zeo=server.address, tls=certs), "no TLS")
    finally:
        server.stop()


def test_missing_certificates(tls_server: str, tmp_path: Path) -> None:
    refused(lambda: world.open(zeo=tls_server, tls=tmp_path / "nowhere"), "missing", "tls-init")


def test_tls_without_zeo(tmp_path: Path, certs: Path) -> None:
    assert "--zeo" in one_error(cli(tmp_path, "eval", "--tls", str(certs), "1"))


# ---------------------------------------------------------------- world serve

def test_serve_refuses_beyond_loopback_without_tls(tmp_path: Path) -> None:
    line = one_error(cli(tmp_path, "serve", "--world", str(tmp_path / "w.fs"),
                         "--address", "0.0.0.0:8199"))
    assert "without TLS" in line and "--tls" in line
    assert not (tmp_path / "w.fs").exists()        # refused before touching anything


def test_serve_with_tls_from_the_cli(tmp_path: Path, certs: Path) -> None:
    """`world serve --tls DIR` on loopback: a TLS client works, then the server stops on SIGTERM."""
    from world.objects.server import free_port
    address = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "serve", "--world",
                             str(tmp_path / "w.fs"), "--address", address, "--tls", str(certs)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert "serving" in proc.stdout.readline()
        with world.open(zeo=address, tls=certs) as w:
            assert w.eval("(+ 1 2)") == 3
        with pytest.raises(ImageError):
            world.open(zeo=address)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_a_client_refuses_a_remote_server_without_tls(tmp_path: Path) -> None:
    """Nothing is dialled: the address is refused before any connection."""
    line = one_error(cli(tmp_path, "eval", "--zeo", "192.0.2.1:8100", "1"))
    assert "without TLS" in line
