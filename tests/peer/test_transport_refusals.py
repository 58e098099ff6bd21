"""What the transport refuses, against a real `world peer serve` process: every refusal
leaves the server up and answering (world/peer/server.py)."""
from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from world.lisp.errors import MessageError
from world.lisp.reader import read
from world.lisp.types import Keyword
from world.peer import client, message
from world.peer.server import MAX_CONNECTIONS, MAX_SIZE, MAX_TEXT

from peer_procs import ROOT, Peer, Served, served

WAIT = 60.0


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Peer, Served]]:
    """World b serving, trusting world a's key."""
    root = tmp_path_factory.mktemp("refusals")
    a, b = Peer(root, "a"), Peer(root, "b")
    b.trust(a, "alice", ":caps [:core] :steps 50000000 :seconds 30 :per-minute 100000")
    yield from ((a, s) for s in served(b))


def still_answers(a: Peer, at: Served) -> None:
    assert at.alive()
    assert client.send(at.address, read("(+ 40 2)"), a.signer(), timeout=WAIT) == 42


def refusal(reply: str, server_key: str, re: int | None = None) -> str:
    """The one line of a signed :refused reply, checked to be the server's own and to
    answer `re` (the request's nonce, when it had one that read)."""
    body, header = message.verify(message.decode(reply))
    assert header.key == server_key and header.re == re
    assert body.get(Keyword("kind")) == Keyword("refused")
    return body.get(Keyword("error"))


def raw(at: Served):
    return connect(at.address, proxy=None, compression=None, max_size=None, open_timeout=WAIT)


def test_a_good_request_then_garbage_and_unsigned_frames(setup: tuple[Peer, Served]) -> None:
    a, at = setup
    still_answers(a, at)
    with raw(at) as ws:
        for frame, line in [("(((", "the frame does not read"),
                            ("{:a 1}", "unknown field :a"),
                            ("[1 2]", "a frame holds exactly one message map"),
                            ('{:body "1" :key "00" :nonce 1 :sig "00"}', ":key must be a public key")]:
            ws.send(frame)
            assert line in refusal(ws.recv(timeout=WAIT), at.key, 1 if ":nonce 1" in frame else None)
        # Requests on one connection are answered in order, on that connection.
        frame, nonce = client.request(read("(* 6 7)"), a.signer())
        ws.send(frame)
        assert client.value_of(at.address, ws.recv(timeout=WAIT), nonce) == 42
    still_answers(a, at)


def test_binary_oversized_huge_and_invalid_utf8(setup: tuple[Peer, Served]) -> None:
    a, at = setup
    with raw(at) as ws:
        ws.send(b"\x00\xff binary")
        assert "a binary frame" in refusal(ws.recv(timeout=WAIT), at.key)
        ws.send("x" * (MAX_TEXT + 1))       # past a message's size, within the socket's
        assert f"the frame is {MAX_TEXT + 1} characters" in refusal(ws.recv(timeout=WAIT), at.key)
    with raw(at) as ws:                     # past what websockets reads at all: closed, 1009
        with pytest.raises(ConnectionClosed) as e:
            ws.send("y" * (MAX_SIZE + 1))
            ws.recv(timeout=WAIT)
        assert e.value.rcvd is not None and e.value.rcvd.code == 1009
    with raw(at) as ws:                     # a text frame that is not UTF-8: closed, 1007
        with pytest.raises(ConnectionClosed) as e:
            ws.send(b"\xff\xfe not text", text=True)
            ws.recv(timeout=WAIT)
        assert e.value.rcvd is not None and e.value.rcvd.code == 1007
    still_answers(a, at)


def test_connection_limit(setup: tuple[Peer, Served]) -> None:
    a, at = setup
    with contextlib.ExitStack() as held:
        for _ in range(MAX_CONNECTIONS):
            held.enter_context(raw(at))
        with pytest.raises(MessageError, match=r"the peer refused the connection \(HTTP 503: "
                                               r"too many connections \(at most 64\)\)"):
            client.send(at.address, read("1"), a.signer(), timeout=WAIT)
    deadline = time.monotonic() + WAIT       # the server notices the closes as they come
    while True:
        try:
            still_answers(a, at)
            break
        except MessageError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_client_killed_mid_request(setup: tuple[Peer, Served], tmp_path: Path) -> None:
    a, at = setup
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from world import keys\nfrom world.lisp.reader import read\n"
            "from world.peer import client\n"
            "frame, nonce = client.request(read('(let loop ((i 0)) (if (< i 3000000) "
            "(loop (+ i 1)) i))'), keys.signer())\n"
            "print('sending', flush=True)\n"
            "client.exchange(sys.argv[2], frame, timeout=60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(ROOT), at.address], env=a.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "sending\n"
        time.sleep(0.3)                 # most likely mid-request; either way the server must live
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=WAIT)
    still_answers(a, at)


def test_connections_flow_while_a_program_runs(setup: tuple[Peer, Served]) -> None:
    """The event loop never waits for a program: while one runs (until its grant of steps
    ends), a new connection opens and answers a ping, and its refusal comes back."""
    a, at = setup
    long = read("(let loop ((i 0)) (if (< i 1000000000) (loop (+ i 1)) i))")
    with raw(at) as busy:
        frame, nonce = client.request(long, a.signer(), steps=20_000_000)
        busy.send(frame)
        with raw(at) as other:
            assert other.ping().wait(WAIT)
            with pytest.raises(TimeoutError):   # the program still runs: its reply comes later
                busy.recv(timeout=0)
            other.send("not a message")
            assert "a frame holds exactly one message map" in refusal(other.recv(timeout=WAIT),
                                                                      at.key)
        with pytest.raises(MessageError, match="budget: .*step budget of 20000000 exhausted"):
            client.value_of(at.address, busy.recv(timeout=WAIT), nonce)


def test_peer_send_from_lisp_under_its_budget_and_ctrl_c(setup: tuple[Peer, Served]) -> None:
    a, at = setup
    # Longer than any deadline here: the peer runs it until its grant of 5 000 000 steps ends.
    long = "(let loop ((i 0)) (if (< i 100000000) (loop (+ i 1)) i))"
    proc = a.cli("eval", f'(list (peer/send "{at.address}" (quote (+ 1 2)) :peer "{at.key}") '
                         f'(guard (e (#t (error-object-message e))) '
                         f'(sandbox (quote (peer/send "{at.address}" (quote {long}) :steps 5000000)) '
                         f':caps [:core :net] :seconds 0.1)))', "--memory")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("(3 ") and "time budget of 0.1 s exhausted" in proc.stdout
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "eval",
                             f'(display "sending") (newline) (peer/send "{at.address}" '
                             f'(quote {long}) :steps 5000000)', "--memory"],
                            cwd=a.dir, env=a.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "sending\n"
    time.sleep(0.2)                     # most likely in the wait; Ctrl-C stops it either way
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    still_answers(a, at)
