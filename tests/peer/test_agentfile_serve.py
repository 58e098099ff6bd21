"""`world agent serve`: an agent at a peer endpoint in its own process; signed inputs from
another world update the state it keeps, and a failed input leaves it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from peer_procs import Peer, Served

ROOT = Path(__file__).resolve().parents[2]
COUNTER = str(ROOT / "examples" / "counter.lispy")


def test_serve_and_send_update_the_state(tmp_path: Path) -> None:
    import world
    from world.lisp.errors import MessageError
    from world.peer.client import send
    a, b = Peer(tmp_path, "a"), Peer(tmp_path, "b")
    b.trust(a, "alice", ":caps [:core :output] :steps 100000")
    proc = subprocess.Popen([sys.executable, "-m", "repl.cli", "agent", "serve", COUNTER,
                             "--address", "127.0.0.1:0", "--world", b.image],
                            cwd=b.dir, env=b.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    with Served(proc) as at_b:
        assert at_b.key == b.public
        signer = a.signer()
        assert world.write(send(at_b.address, 5, signer)) == "{:count 1 :total 5}"
        # The body is the input datum, never evaluated: a list is just a wrong input here.
        with pytest.raises(MessageError, match="counter: the input must be a number"):
            send(at_b.address, world.read("(+ 1 2)"), signer)
        with pytest.raises(MessageError, match="beyond its grant"):
            send(at_b.address, 1, signer, caps=["core", "simulate"])
        (a.dir / "two.lisp").write_text("2\n")
        sent = a.cli("peer", "send", at_b.address, "two.lisp")
        assert (sent.returncode, sent.stdout) == (0, "{:count 2 :total 7}\n"), sent.stderr
        status, err = at_b.stop()
    assert status == 0 and "Traceback" not in err, err
    shown = b.cli("agent", "show", "counter", "--world", b.image)
    assert "state: {:count 2 :total 7}" in shown.stdout, shown.stderr
    assert "runs: 3" in shown.stdout and "failed: " in shown.stdout
    with world.open(b.image) as w:            # the endpoint logged each exchange too
        peers = w.eval("(inspect :peers)")
    assert "alice" in world.write(peers)
