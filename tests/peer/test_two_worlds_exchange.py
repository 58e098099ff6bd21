"""Two worlds in separate processes exchange signed programs over loopback WebSockets,
both ways, in the clear and over mutual TLS (world peer serve / send, peer/send)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from world.lisp.errors import MessageError
from world.lisp.reader import read
from world.peer.client import exchange, send

from peer_procs import Peer

FIB = ("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))\n"
       "(display \"fib \")\n(fib 15)\n")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Peer, Peer]:
    """Worlds a and b, each trusting the other's key; a may also display at b."""
    a, b = Peer(tmp_path, "a"), Peer(tmp_path, "b")
    b.trust(a, "alice", ":caps [:core :output] :steps 100000")
    proc = a.cli("peer", "trust", b.public, "--name", "bob", "--caps", "core", "--steps", "100000",
                 "--world", a.image)
    assert proc.returncode == 0 and ':name "bob"' in proc.stdout, proc.stderr
    return a, b


def one_error(proc) -> str:
    """The process failed with exactly one `error:` line; return it."""
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def test_programs_both_ways(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    prog = a.dir / "fib.lisp"
    prog.write_text(FIB)
    with b.serve() as at_b:
        # a -> b from Lisp: a's world runs (peer/send ...) signed with a's key.
        proc = a.cli("eval", f'(list (peer/send "{at_b.address}" (quote (* 6 7)) :steps 500) '
                             f'(peer/send "{at_b.address}" (quote (map car (quote ((1) (2)))))))',
                     "--world", a.image)
        assert proc.returncode == 0 and proc.stdout == "(42 (1 2))\n", proc.stderr
        with a.serve() as at_a:
            # b -> a from the CLI, and a -> b from the CLI, both servers up at once.
            proc = b.cli("peer", "send", at_a.address, str(prog))
            assert one_error(proc) == (f"error: {at_a.address}: error: <message>:1:72: unbound "
                                       f"variable: display (display is a primitive of the output "
                                       f"capability, which this evaluation was not granted)")
            proc = a.cli("peer", "send", at_b.address, str(prog))
            assert proc.returncode == 0 and proc.stdout == "fib 610\n", proc.stderr
            # Pinned to b's key: sent to b alone, and only b's signature is taken; pinned to
            # another key, b refuses it, and its refusal (signed by b) is not taken either.
            fib = read(f"(begin {FIB})")
            assert send(at_b.address, fib, a.signer(), peer=b.public) == 610
            with pytest.raises(MessageError) as e:
                send(at_b.address, fib, a.signer(), peer=a.public)
            assert e.value.message == (f"{at_b.address}: the reply is signed by {b.public[:16]}..., "
                                       f"not by the peer key {a.public[:16]}... it was sent to")
            (b.dir / "sq.lisp").write_text("(define (sq x) (* x x))\n(sq 12)\n")
            proc = b.cli("peer", "send", at_a.address, str(b.dir / "sq.lisp"), "--steps", "1000")
            assert proc.returncode == 0 and proc.stdout == "144\n", proc.stderr
            # Asking more than the grant, or for a group it lacks, is refused by the peer.
            sq = read("(* 12 12)")
            with pytest.raises(MessageError, match="refused: asks for :output beyond its grant "
                                                   r"\[:core\]"):
                send(at_a.address, sq, b.signer(), caps=["core", "output"])
            with pytest.raises(MessageError, match="refused: asks for 200000 steps beyond its "
                                                   "grant of 100000"):
                send(at_a.address, sq, b.signer(), steps=200000)
            status, err = at_a.stop()
            assert status == 0 and "Traceback" not in err, err
        # A key b does not trust is refused, and b answers a again afterwards.
        stranger = Peer(a.dir.parent, "c")
        proc = stranger.cli("peer", "send", at_b.address, str(prog))
        assert f"error: {at_b.address}: refused: unknown key {stranger.public[:16]}" in one_error(proc)
        with pytest.raises(MessageError, match=f"^message: {at_b.address}: budget: "):
            send(at_b.address, read(f"(begin {FIB})"), a.signer(), steps=50)
        status, err = at_b.stop()
        assert status == 0 and "Traceback" not in err, err
    # Every exchange was recorded in b's world, with who sent it and how it ended.
    proc = b.cli("eval", "(get (inspect :peers) :totals)", "--world", b.image)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{:budget 1 :error 0 :ok 4 :refused 1 :unknown 1}"


def test_peer_trust_from_the_command_line(tmp_path: Path) -> None:
    a = Peer(tmp_path, "a")
    proc = a.cli("peer", "trust", "ab" * 32, "--name", 'x" (evil)', "--caps", "core,output",
                 "--steps", "5000", "--per-minute", "10", "--seconds", "2.5", "--world", a.image)
    assert proc.returncode == 0, proc.stderr
    assert ':caps [:core :output]' in proc.stdout and ':name "x\\" (evil)"' in proc.stdout
    assert ":per-minute 10 :seconds 2.5 :steps 5000" in proc.stdout
    assert one_error(a.cli("peer", "trust", "ab" * 32, "--caps", "core,image", "--world", a.image)) \
        == "error: peer/trust: :image cannot be granted to a peer; a peer may be granted only " \
           ":core, :output, :simulate"
    assert "a public key is 64 hex digits" in one_error(a.cli("peer", "trust", "nothex",
                                                              "--world", a.image))


def test_mutual_tls(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    root = a.dir.parent
    assert a.cli("tls-init", str(root / "certs")).returncode == 0
    assert a.cli("tls-init", str(root / "other")).returncode == 0
    prog = a.dir / "p.lisp"
    prog.write_text("(* 6 7)\n")
    certs, other = str(root / "certs"), str(root / "other")
    with b.serve("--tls", certs) as at_b:
        assert at_b.address.startswith("wss://127.0.0.1:")
        port = at_b.address.rsplit(":", 1)[1]
        proc = a.cli("peer", "send", at_b.address, str(prog), "--tls", certs)
        assert proc.returncode == 0 and proc.stdout == "42\n", proc.stderr
        proc = a.cli("peer", "send", f"localhost:{port}", str(prog), "--tls", certs)
        assert proc.returncode == 0 and proc.stdout == "42\n", proc.stderr
        # Plain ws:// to a TLS server; a server our CA did not sign.
        with pytest.raises(MessageError, match=r"the peer may require TLS \(wss:// and --tls DIR\)"):
            exchange(f"ws://127.0.0.1:{port}", "{}", timeout=60)
        with pytest.raises(MessageError, match=f"the peer is not certified by the CA of {other}"):
            exchange(at_b.address, "{}", tls_dir=other, timeout=60)
        # A client that trusts the server but holds a certificate another CA signed
        # is refused at the handshake.
        mixed = root / "mixed"
        mixed.mkdir()
        shutil.copy(root / "certs" / "ca.pem", mixed / "ca.pem")
        for f in ("client.pem", "client.key"):
            shutil.copy(root / "other" / f, mixed / f)
        with pytest.raises(MessageError, match="the peer refused this client's TLS certificate"):
            exchange(at_b.address, "{}", tls_dir=str(mixed), timeout=60)
        # From Lisp, and the server still answers after every refusal.
        proc = a.cli("eval", f'(peer/send "{at_b.address}" (quote (+ 1 2)) :tls "{certs}")',
                     "--world", a.image)
        assert proc.returncode == 0 and proc.stdout == "3\n", proc.stderr
        assert at_b.alive()
    with a.serve() as at_a:         # a TLS client at a plain server
        with pytest.raises(MessageError, match="no TLS there"):
            exchange("wss://" + at_a.address[len("ws://"):], "{}", tls_dir=certs, timeout=60)


def test_stopping_a_busy_server(pair: tuple[Peer, Peer]) -> None:
    """SIGTERM (and SIGINT) while a program runs: the server lets it finish and sends its
    reply (or, if the signal came first, closes the idle connection), then exits cleanly."""
    import signal
    import threading
    import time
    a, b = pair
    b.trust(a, "alice", ":caps [:core] :steps 50000000 :seconds 30")
    for sig in (signal.SIGTERM, signal.SIGINT):
        at_b = b.serve()
        got: list[object] = []

        def run() -> None:
            try:
                got.append(send(at_b.address, read("(let loop ((i 0)) (if (< i 2000000) "
                                                   "(loop (+ i 1)) i))"), a.signer(), timeout=60))
            except MessageError as e:
                got.append(e.message)
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)             # most likely mid-program; either way it must stop cleanly
        status, err = at_b.stop(sig)
        t.join(60)
        assert status == 0 and "Traceback" not in err, err
        assert got and (got[0] == 2000000 or "closed the connection" in str(got[0])), got
    proc = b.cli("eval", "(get (inspect :peers) :totals)", "--world", b.image)
    assert proc.returncode == 0 and ":unknown 0" in proc.stdout, proc.stderr
