"""The client side of the peer transport: addresses, and each way a send can fail
before any peer answers, as one line naming the address (world/peer/client.py, net.py)."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import world
from world.lisp.errors import MessageError
from world.peer import client

from peer_procs import Peer, environment


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, tls, expected", [
    ("127.0.0.1:8200", None, "ws://127.0.0.1:8200"),
    ("127.0.0.1:8200", "certs", "wss://127.0.0.1:8200"),
    ("ws://localhost:1", None, "ws://localhost:1"),
    ("wss://localhost:1", "certs", "wss://localhost:1"),
    ("wss://localhost:1", None, "wss:// needs the TLS certificates"),
    ("ws://localhost:1", "certs", "the address is plain ws://: use wss://"),
    ("http://localhost:1", None, "not a peer address"),
    ("", None, "a peer address is a string"),
])
def test_addresses(address: str, tls: str | None, expected: str) -> None:
    if " " not in expected:
        assert client.uri(address, tls) == expected
    else:
        with pytest.raises(MessageError, match=expected.replace("(", r"\(")):
            client.uri(address, tls)


def test_nobody_listening_and_missing_certificates(tmp_path: Path) -> None:
    port = closed_port()
    with pytest.raises(MessageError, match=rf"^message: ws://127.0.0.1:{port}: no peer answers there "
                                           r"\(connection refused\)$"):
        client.exchange(f"127.0.0.1:{port}", "{}", timeout=5)
    with pytest.raises(MessageError, match=r"ca.pem is missing: make the certificates with "
                                           r"`world tls-init"):
        client.exchange(f"wss://127.0.0.1:{port}", "{}", tls_dir=str(tmp_path), timeout=5)


def test_peer_send_is_the_net_group_and_checks_its_arguments(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(tmp_path / "nokey"))
    port = closed_port()
    with world.open() as w:
        for src, line in [
            ('(peer/send "ws://127.0.0.1:1" 1 :steps)', "options come in pairs"),
            ('(peer/send "ws://127.0.0.1:1" 1 :stpes 5)', "unknown option; expected :steps :caps"),
            ('(peer/send "ws://127.0.0.1:1" 1 :steps -1)', ":steps expects a non-negative integer"),
            ('(peer/send "ws://127.0.0.1:1" 1 :timeout 0)', ":timeout expects seconds"),
            ('(peer/send "ws://127.0.0.1:1" 1 :tls 5)', ":tls expects the directory"),
            ("(peer/send 'here 1)", "the address is a string"),
            ('(peer/send "ftp://x:1" 1)', "not a peer address"),
            (f'(peer/send "ws://127.0.0.1:{port}" 1)', "no signing key: run `world keys init`"),
        ]:
            with pytest.raises(world.LispError, match=line):
                w.eval(src)
        # Only the owner holds `net`: a sandbox is not granted it unless asked, and a
        # peer can never be (peer/trust grants core, output, simulate only).
        with pytest.raises(world.LispError, match="peer/send"):
            w.eval('(sandbox (quote (peer/send "ws://127.0.0.1:1" 1)))')


def test_peer_send_with_a_key_and_no_peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(tmp_path, "a")
    monkeypatch.setenv("WORLD_CONFIG_DIR", str(peer.config))
    port = closed_port()
    with world.open() as w:
        with pytest.raises(world.LispError, match=rf"peer/send: ws://127.0.0.1:{port}: no peer "
                                                  r"answers there \(connection refused\)$"):
            w.eval(f'(peer/send "ws://127.0.0.1:{port}" (quote (+ 1 2)))')
        with pytest.raises(world.LispError, match="only data can be sent"):
            w.eval(f'(peer/send "ws://127.0.0.1:{port}" (list 1 car))')
        assert w.eval(f'(guard (e (#t (error-object-message e))) '
                      f'(peer/send "ws://127.0.0.1:{port}" 1))').endswith("(connection refused)")


def test_cli_send_errors_are_one_line(tmp_path: Path) -> None:
    peer = Peer(tmp_path, "a")
    prog = peer.dir / "p.lisp"
    prog.write_text("(+ 1 2)\n")
    port = closed_port()
    cases = [
        (["peer", "send", f"127.0.0.1:{port}", str(prog)], "no peer answers there"),
        (["peer", "send", f"127.0.0.1:{port}", str(peer.dir / "missing.lisp")], "cannot read"),
        (["peer", "send", f"wss://127.0.0.1:{port}", str(prog)], "wss:// needs the TLS"),
    ]
    empty = peer.dir / "empty.lisp"
    empty.write_text("; nothing\n")
    cases.append((["peer", "send", f"127.0.0.1:{port}", str(empty)], "holds no forms"))
    for args, line in cases:
        proc = peer.cli(*args)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.count("error:") == 1 and line in proc.stderr, proc.stderr
    env = environment(tmp_path / "nokey")
    proc = subprocess.run([sys.executable, "-m", "repl.cli", "peer", "send", f"127.0.0.1:{port}",
                           str(prog)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and proc.stderr.startswith("error: no signing key"), proc.stderr
