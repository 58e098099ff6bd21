"""The hot-fix hub: a real `world hub` process on a development world shared through a real
ZEO server, production played by a client speaking the protocol over TLS on loopback, and
the model reached through the real `anthropic` SDK on the loopback Messages-API server."""
from __future__ import annotations

import os
import socket
import struct
import sys
import time
import uuid
from typing import Any, Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage

import world
from world.hotfix import protocol as hp
from world.hotfix import store as hs
from world.lisp.errors import LispError
from world.lisp.types import Keyword, LispMap, to_pylist

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "evolve"))
from hub_support import Prod, raw_websocket, start_hub, stop, text_frame_header  # noqa: E402
from messages_server import MessagesServer, good  # noqa: E402

TOKEN = "a-token-of-sufficient-length-42"
DEV = """
(define (ratio x) "Ten divided by x." (/ 10 x))
(define (helper y) "Twice y." (* 2 y))
(check 5 (ratio 2))
(commit "ratio and helper")
"""
FIX = ('The divisor can be zero.\n```lisp\n(define (ratio x) "Ten divided by x, 0 for 0."\n'
       '  (if (= x 0) 0 (/ 10 x)))\n```\n')
HOSTILE = ('```lisp\n(define (ratio x) (if (= x 0) 0 (/ 10 x)))\n'
           '(define (helper y) (launch-missiles))\n```\n')
BREAKS_CHECK = '```lisp\n(define (ratio x) "Broken." (+ x 1))\n```\n'


def K(name: str) -> Keyword:
    return Keyword(name)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """A development world on ZEO with ratio, helper and a check; a hub on it; a model server."""
    from world import keys
    from world.history.record import history_of
    from world.objects import tls
    from world.objects.server import Server
    tmp = tmp_path_factory.mktemp("hub")
    mp = pytest.MonkeyPatch()
    mp.setenv("WORLD_CONFIG_DIR", str(tmp / "config"))
    keys.init()
    tls_dir = str(tmp / "tls")
    tls.init(tls_dir)
    image = str(tmp / "dev.fs")
    with world.open(image) as w:
        w.eval(DEV)
        head = history_of(w).head
        ratio = history_of(w).latest("ratio")
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n")
    server = Server(image)
    model = MessagesServer().start()
    mp.setenv("ANTHROPIC_API_KEY", "sk-test")
    mp.setenv("ANTHROPIC_BASE_URL", model.url)
    proc, uri = start_hub(["--zeo", server.address, "--listen", "127.0.0.1:0", "--tls", tls_dir,
                           "--token-file", str(token_file), "--idle", "30"], dict(os.environ))
    dev = world.open(zeo=server.address)
    try:
        yield {"uri": uri, "tls": tls_dir, "head": head, "ratio": ratio, "dev": dev,
               "model": model, "proc": proc, "zeo": server.address}
    finally:
        dev.close()
        err = stop(proc)
        model.stop()
        server.stop()
        mp.undo()
        assert "Traceback" not in err, err


def connect(h: dict[str, Any], image: str | None = None, certificate: bool = True) -> Prod:
    """A production connection that has said hello with the right token."""
    p = Prod(h["uri"], h["tls"], certificate)
    f = p.hello(image or uuid.uuid4().hex, h["head"], TOKEN)
    assert f.type == "welcome", f
    return p


def report(p: Prod, h: dict[str, Any], message: str = "division by zero") -> int:
    """Send an error report about ratio; return the number the hub gave it."""
    rid = str(uuid.uuid4())
    c = h["ratio"]
    p.send("error-report", id=rid, message=message, backtrace=("in ratio at 1:40",),
           definitions=(LispMap([(K("name"), "ratio"), (K("source"), c.source),
                                 (K("state"), c.state), (K("commit"), c.hash)]),),
           head=h["head"])
    f = p.recv()
    assert f.type == "result" and f.get("re-id") == rid, f
    return f.get("value")


def ev(h: dict[str, Any], text: str) -> Any:
    return h["dev"].eval(text)


def field(m: Any, name: str) -> Any:
    return m.get(K(name))


# ---------------------------------------------------------------- authentication

def test_wrong_token_is_refused_with_a_close_frame_and_the_hub_stays(hub: dict) -> None:
    p = Prod(hub["uri"], hub["tls"])
    f = p.hello("img-wrong", hub["head"], "not-the-token-at-all-0000")
    assert f.type == "close" and "wrong token" in f.get("reason")
    with pytest.raises(ConnectionClosed):
        p.recv(5)
    q = connect(hub)                    # state intact: the right token still opens a channel
    q.close()


def test_no_token_needs_a_client_certificate(hub: dict) -> None:
    p = Prod(hub["uri"], hub["tls"], certificate=False)
    f = p.hello("img-nocert", hub["head"])
    assert f.type == "close" and "no token and no client certificate" in f.get("reason")
    q = Prod(hub["uri"], hub["tls"], certificate=True)
    assert q.hello("img-cert", hub["head"]).type == "welcome"
    q.close()


def test_plain_ws_fails_at_the_tls_handshake(hub: dict) -> None:
    from websockets.sync.client import connect as ws_connect
    plain = hub["uri"].replace("wss://", "ws://")
    with pytest.raises((InvalidMessage, ConnectionError, OSError, EOFError)):
        ws_connect(plain, open_timeout=5).close()
    connect(hub).close()


def test_a_first_frame_that_is_not_a_hello_is_refused(hub: dict) -> None:
    p = Prod(hub["uri"], hub["tls"])
    p.send("close", reason="hi")
    f = p.recv()
    assert f.type == "close" and "must be a hello" in f.get("reason")


# ---------------------------------------------------------------- reports

def test_report_is_stored_and_listed(hub: dict) -> None:
    p = connect(hub, "img-report")
    n = report(p, hub, "division by zero in ratio")
    pending = ev(hub, "(hotfix/pending)")
    mine = [r for r in to_pylist(pending) if field(r, "id") == n]
    assert len(mine) == 1
    assert field(mine[0], "status") == "pending" and field(mine[0], "image") == "img-report"
    assert field(mine[0], "head") == hub["head"]
    shown = ev(hub, f"(hotfix/show {n})")
    assert field(shown, "message") == "division by zero in ratio"
    assert to_pylist(field(shown, "backtrace")) == ["in ratio at 1:40"]
    (d,) = to_pylist(field(shown, "definitions"))
    assert field(d, "name") == "ratio" and field(d, "commit") == hub["ratio"].hash
    assert field(d, "in-development") is True
    assert to_pylist(field(d, "checks")) == ["(check 5 (ratio 2))"]
    assert field(to_pylist(field(d, "history"))[0], "id") == hub["ratio"].id
    p.close()


def test_the_same_report_twice_is_stored_once(hub: dict) -> None:
    p = connect(hub, "img-twice")
    c = hub["ratio"]
    defs = (LispMap([(K("name"), "ratio"), (K("source"), c.source), (K("state"), c.state),
                     (K("commit"), c.hash)]),)
    numbers = []
    for _ in range(2):
        p.send("error-report", id="same-id-1", message="boom", backtrace=(), definitions=defs,
               head=hub["head"])
        numbers.append(p.recv().get("value"))
    assert numbers[0] == numbers[1]
    p.close()


# ---------------------------------------------------------------- proposals

def test_propose_accept_sends_an_apply_extending_productions_head(hub: dict) -> None:
    p = connect(hub, "img-fix")
    n = report(p, hub)
    hub["model"].add(good(FIX))
    diff = ev(hub, f"(hotfix/propose {n})")
    assert "+  (if (= x 0) 0 (/ 10 x)))" in diff and "-(define (ratio x)" in diff
    prompt = hub["model"].requests[-1]["messages"][0]["content"]
    assert "division by zero" in prompt and "(check 5 (ratio 2))" in prompt
    assert "in ratio at 1:40" in prompt
    with pytest.raises(LispError, match="division by zero"):
        ev(hub, "(ratio 0)")            # proposed, never applied by itself
    assert field(ev(hub, f"(hotfix/show {n})"), "status") == "proposed"

    accepted = ev(hub, f"(hotfix/accept {n})")
    assert field(accepted, "status") == "queued"
    assert ev(hub, "(ratio 0)") == 0    # committed in development
    f = p.recv()
    assert f.type == "apply" and f.get("base") == hub["head"]
    commits = [hp.commit_fields(m) for m in f.get("commits")]
    parent = hub["head"]
    for h, par, fields in commits:
        assert par == parent and hp.commit_hash(par, fields) == h
        parent = h
    from world.history.record import history_of
    dev = hub["dev"]
    dev.image.begin()
    assert parent == history_of(dev).head
    dev.image.abort()
    assert commits[-1][2]["symbol"] == "ratio"
    checks = [(field(c, "name"), field(c, "source")) for c in f.get("checks")]
    assert ("ratio", "(check 5 (ratio 2))") in checks
    p.send("result", re_id=f.get("id"), value=parent)
    deadline = time.monotonic() + 20
    while field(ev(hub, f"(hotfix/show {n})"), "status") != "applied":
        assert time.monotonic() < deadline, "the hub never recorded the result"
        time.sleep(0.1)
    assert "applied" in field(ev(hub, f"(hotfix/show {n})"), "result")
    p.close()


def test_a_hostile_proposal_redefining_another_name_is_refused(hub: dict) -> None:
    p = connect(hub, "img-hostile")
    n = report(p, hub)
    hub["model"].add(good(HOSTILE))
    with pytest.raises(LispError, match="redefines helper, which the report does not involve"):
        ev(hub, f"(hotfix/propose {n})")
    shown = ev(hub, f"(hotfix/show {n})")
    assert field(shown, "status") == "pending" and field(shown, "proposal") is False
    assert ev(hub, "(helper 2)") == 4
    p.close()


def test_a_fix_whose_checks_fail_is_refused_at_accept(hub: dict) -> None:
    p = connect(hub, "img-breaks")
    n = report(p, hub)
    hub["model"].add(good(BREAKS_CHECK))
    ev(hub, f"(hotfix/propose {n})")
    before = ev(hub, "(history/log 'ratio)")
    with pytest.raises(LispError, match=r"check \d+ fails"):
        ev(hub, f"(hotfix/accept {n})")
    assert ev(hub, "(history/log 'ratio)") == before       # nothing was committed
    assert field(ev(hub, f"(hotfix/show {n})"), "status") == "proposed"
    ev(hub, f"(hotfix/reject {n})")
    p.close()


def test_propose_without_a_key_says_how_to_set_one(hub: dict, monkeypatch: Any) -> None:
    p = connect(hub, "img-nokey")
    n = report(p, hub)
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(LispError, match="export ANTHROPIC_API_KEY="):
        ev(hub, f"(hotfix/propose {n})")
    p.close()


def test_reject_closes_the_report(hub: dict) -> None:
    p = connect(hub, "img-reject")
    n = report(p, hub)
    assert field(ev(hub, f"(hotfix/reject {n})"), "status") == "rejected"
    assert n not in [field(r, "id") for r in to_pylist(ev(hub, "(hotfix/pending)"))]
    assert n in [field(r, "id") for r in to_pylist(ev(hub, "(hotfix/pending :all)"))]
    with pytest.raises(LispError, match="rejected already"):
        ev(hub, f"(hotfix/reject {n})")
    with pytest.raises(LispError, match="has no proposal"):
        ev(hub, f"(hotfix/accept {n})")
    p.close()


# ---------------------------------------------------------------- refusals on an open channel

def test_replayed_and_reordered_frames_are_refused_and_the_channel_goes_on(hub: dict) -> None:
    p = connect(hub, "img-replay")
    first = p.out.frame("result", re_id=999, value=1)   # seq 2: a result for no apply
    p.ws.send(first)
    p.ws.send(first)                                    # replayed
    f = p.recv()
    assert f.type == "result" and "replayed" in f.get("error")
    ahead = p.out.frame("result", re_id=998, value=1)   # seq 3
    later = p.out.frame("result", re_id=997, value=1)   # seq 4, sent before 3
    p.ws.send(later)
    f = p.recv()
    assert "out of order" in f.get("error")
    p.ws.send(ahead)                                    # the channel is as it was: 3 is next
    p.ws.send(later)                                    # and then 4
    assert report(p, hub) > 0


def test_oversized_frames_are_refused_and_the_hub_stays_up(hub: dict) -> None:
    p = connect(hub, "img-big")
    p.ws.send("x" * (hp.MAX_FRAME + 10_000))           # too long for a frame: refused
    f = p.recv()
    assert f.type == "result" and "larger than" in f.get("error")
    assert report(p, hub) > 0                           # the channel goes on
    p.close()
    s = raw_websocket(hub["uri"], hub["tls"])           # past what websockets takes: closed
    s.sendall(text_frame_header(4 * hp.MAX_FRAME + 100_000))
    answer = s.recv(64)
    assert answer[:1] == b"\x88" and struct.unpack("!H", answer[2:4])[0] == 1009   # close, 1009
    s.close()
    assert hub["proc"].poll() is None
    connect(hub).close()


def test_the_hub_survives_a_client_killed_mid_frame(hub: dict) -> None:
    s = raw_websocket(hub["uri"], hub["tls"])
    s.sendall(text_frame_header(100_000) + b"(" * 10)   # 10 of the 100 000 bytes announced
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()                                           # killed: the connection is reset
    assert hub["proc"].poll() is None
    p = connect(hub, "img-after-kill")
    assert report(p, hub) > 0
    p.close()


def test_accept_with_no_channel_open_is_sent_when_production_connects(hub: dict) -> None:
    image = "img-later"
    p = connect(hub, image)
    n = report(p, hub)
    p.close()
    hub["model"].add(good(FIX.replace("0 for 0", "zero for zero")))
    ev(hub, f"(hotfix/propose {n})")
    dev = hub["dev"]
    deadline = time.monotonic() + 20
    while True:                 # the hub records the channel's close a moment after it ends
        dev.image.begin()
        still = hs.store_of(dev.image.root).channel_open(image)
        dev.image.abort()
        if not still:
            break
        assert time.monotonic() < deadline, "the hub never recorded the closed channel"
        time.sleep(0.05)
    accepted = ev(hub, f"(hotfix/accept {n})")
    assert "no channel is open" in field(accepted, "note")
    q = Prod(hub["uri"], hub["tls"])
    from world.history.record import history_of
    assert q.hello(image, hub["head"], TOKEN).type == "welcome"
    f = q.recv()
    assert f.type == "apply" and f.get("base") == hub["head"]
    dev.image.begin()
    assert hp.commit_fields(f.get("commits")[-1])[0] == history_of(dev).head
    dev.image.abort()
    q.send("result", re_id=f.get("id"), error="a check failed in production")
    deadline = time.monotonic() + 20
    while field(ev(hub, f"(hotfix/show {n})"), "status") != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "a check failed" in field(ev(hub, f"(hotfix/show {n})"), "result")
    q.close()


def test_a_fix_whose_evaluation_changes_another_name_is_refused_at_accept(hub: dict) -> None:
    p = connect(hub, "img-sneaky")
    n = report(p, hub)
    hub["model"].add(good('```lisp\n(define ratio (begin (set! helper 0) (lambda (x) 5)))\n```\n'))
    ev(hub, f"(hotfix/propose {n})")
    with pytest.raises(LispError, match="changed helper, which it does not redefine"):
        ev(hub, f"(hotfix/accept {n})")
    assert ev(hub, "(helper 2)") == 4
    p.close()


def test_an_apply_left_unanswered_is_settled_by_productions_next_hello(hub: dict) -> None:
    image = "img-unanswered"
    p = connect(hub, image)
    n = report(p, hub)
    hub["model"].add(good(FIX.replace("0 for 0", "nothing for zero")))
    ev(hub, f"(hotfix/propose {n})")
    ev(hub, f"(hotfix/accept {n})")
    f = p.recv()
    assert f.type == "apply"
    p.ws.close()                        # gone before answering
    q = Prod(hub["uri"], hub["tls"])
    assert q.hello(image, hub["head"], TOKEN).type == "welcome"     # it still runs the old head
    deadline = time.monotonic() + 20
    while field(ev(hub, f"(hotfix/show {n})"), "status") != "failed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "sends it again" in field(ev(hub, f"(hotfix/show {n})"), "result")
    ev(hub, f"(hotfix/accept {n})")     # accepted again: sent again on the open channel
    f = q.recv()
    assert f.type == "apply" and f.get("base") == hub["head"]
    q.close()


def test_inspect_is_sent_and_its_answer_shown(hub: dict) -> None:
    p = connect(hub, "img-inspect")
    n = report(p, hub)
    asked = ev(hub, f"(hotfix/inspect {n} '(prod/source 'ratio))")
    assert field(asked, "status") == "queued"
    f = p.recv()
    assert f.type == "inspect" and f.get("id") == field(asked, "inspect")
    assert world.write(f.get("form")) == "(prod/source 'ratio)"
    p.send("result", re_id=f.get("id"), value=hub["ratio"].source)
    deadline = time.monotonic() + 20
    while True:
        (i,) = to_pylist(field(ev(hub, f"(hotfix/show {n})"), "inspections"))
        if field(i, "status") == "answered":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert world.read(field(i, "value")) == hub["ratio"].source
    with pytest.raises(LispError, match="only data can be sent"):
        ev(hub, f"(hotfix/inspect {n} (lambda (x) x))")
    p.close()


def test_two_channels_to_one_image_one_closing_leaves_the_other_open(hub: dict) -> None:
    image = "img-two"
    p, q = connect(hub, image), connect(hub, image)
    report(q, hub)                      # q's hello is recorded: the hub acknowledged after it
    p.close()
    dev = hub["dev"]
    deadline = time.monotonic() + 20
    while True:                         # until the hub has recorded p's close
        dev.image.begin()
        st = hs.store_of(dev.image.root)
        left = sum(k.startswith(image + " ") for k in st.channels)
        still = st.channel_open(image)
        dev.image.abort()
        if left == 1:
            break
        assert left == 2 and time.monotonic() < deadline
        time.sleep(0.05)
    assert still
    q.close()


def test_an_idle_channel_is_closed_by_the_hub(hub: dict, tmp_path: Any) -> None:
    proc, uri = start_hub(["--zeo", hub["zeo"], "--listen", "127.0.0.1:0", "--tls", hub["tls"],
                           "--idle", "0.5"], dict(os.environ))
    try:
        p = Prod(uri, hub["tls"])
        assert p.hello("img-idle", hub["head"], TOKEN).type == "welcome"
        f = p.recv(20)
        assert f.type == "close" and "idle" in f.get("reason")
        with pytest.raises(ConnectionClosed):
            p.recv(20)
    finally:
        assert "Traceback" not in stop(proc)
