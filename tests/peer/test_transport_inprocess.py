"""`serve` in this process, on a real Endpoint and world: the address it reports, idle
connections closed, the connection limit, and `stop` ending it (world/peer/server.py)."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import world
from world.lisp.errors import MessageError
from world.lisp.reader import read
from world.peer import client
from world.peer.endpoint import Endpoint
from world.peer.server import serve

from peer_procs import Peer

WAIT = 60.0


@contextlib.contextmanager
def serving(tmp_path: Path, **options) -> Iterator[tuple[str, Peer]]:
    """World b served from a thread of this process, trusting a; b's address and a."""
    a, b = Peer(tmp_path, "a"), Peer(tmp_path, "b")
    b.trust(a, "alice")
    stop, ready = threading.Event(), threading.Event()
    where: list[str] = []
    with world.open(b.image) as w:
        endpoint = Endpoint(w, b.signer())
        failed: list[BaseException] = []

        def run() -> None:
            try:
                serve(endpoint, "127.0.0.1", 0, ready=lambda addr: (where.append(addr), ready.set()),
                      stop=stop, **options)
            except BaseException as e:
                failed.append(e)
                ready.set()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        try:
            assert ready.wait(WAIT) and not failed, failed
            yield where[0], a
        finally:
            stop.set()
            t.join(WAIT)
            endpoint.close()
        assert not t.is_alive() and not failed, failed


def test_port_zero_idle_close_and_stop(tmp_path: Path) -> None:
    with serving(tmp_path, idle=0.2) as (address, a):
        assert address.startswith("ws://127.0.0.1:") and not address.endswith(":0")
        assert client.send(address, read("(+ 1 2)"), a.signer(), timeout=WAIT) == 3
        with connect(address, proxy=None, open_timeout=WAIT) as ws:
            with pytest.raises(ConnectionClosed) as e:
                ws.recv(timeout=WAIT)           # we send nothing: the server hangs up
            assert e.value.rcvd is not None and e.value.rcvd.code == 1000
            assert "idle" in e.value.rcvd.reason


def test_a_small_connection_limit(tmp_path: Path) -> None:
    with serving(tmp_path, max_connections=2) as (address, a):
        with connect(address, proxy=None, open_timeout=WAIT), \
                connect(address, proxy=None, open_timeout=WAIT):
            with pytest.raises(MessageError, match=r"HTTP 503: too many connections \(at most 2\)"):
                client.send(address, read("1"), a.signer(), timeout=WAIT)
