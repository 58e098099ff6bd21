"""The peer endpoint (world/peer/endpoint.py): answers, every refusal, the exchange log."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import world.session as session
from world.lisp.errors import BudgetExceeded
from world.lisp.types import Keyword
from world.peer import message
from world.peer.endpoint import REFUSALS_LOGGED, Endpoint, Grant
from world.peer.store import find

from endpoint_kit import (BOB_KEY, EVE, SERVER, SERVER_KEY, frame, get, kind, make_signer,
                          raw_frame, reply, served)


@pytest.fixture
def peer(tmp_path):
    yield from served(tmp_path / "w.fs")


def test_a_program_from_a_trusted_key_is_answered_with_its_value(peer) -> None:
    _, ep = peer
    f = frame("(* 6 7)")
    body, header = reply(ep.answer(f))
    assert get(body, "value") == 42 and get(body, "steps") > 0
    assert header.re == message.verify(message.decode(f))[1].nonce
    assert header.to == BOB_KEY             # the reply is bound to its requester
    body, _ = reply(ep.answer(frame('(begin (display "hi") (list 1 "two" :three [4]))')))
    assert get(body, "output") == "hi"
    assert message.canonical(get(body, "value")) == '(1 "two" :three [4])'


def test_a_program_runs_in_a_fresh_sandbox_granted_only_what_was_asked(peer) -> None:
    w, ep = peer
    w.eval("(define secret 42)")
    assert "unbound" in get(reply(ep.answer(frame("secret")))[0], "error")
    body, _ = reply(ep.answer(frame("(world/info)")))
    assert get(body, "kind") == Keyword("error")
    body, _ = reply(ep.answer(frame('(display "x")', caps=["core"])))    # asked without output
    assert get(body, "kind") == Keyword("error") and "display" in get(body, "error")
    body, _ = reply(ep.answer(frame("(define x 1)")))
    assert Keyword("value") in dict(body.items())
    assert "unbound" in get(reply(ep.answer(frame("x")))[0], "error")   # nothing persists


def test_a_value_that_is_not_data_is_an_error_reply(peer) -> None:
    _, ep = peer
    for src in ("(lambda (x) x)", "(list car)", "(make-parameter 1)"):
        body, _ = reply(ep.answer(frame(src)))
        assert get(body, "kind") == Keyword("error")
        assert "not data" in get(body, "error")


def test_running_out_of_the_grant_is_a_budget_reply(peer) -> None:
    _, ep = peer
    body, _ = reply(ep.answer(frame("(let loop ((i 0)) (loop (+ i 1)))")))
    assert get(body, "kind") == Keyword("budget") and get(body, "steps") >= 100_000
    body, _ = reply(ep.answer(frame("(let loop ((i 0)) (loop (+ i 1)))", steps=500)))
    assert get(body, "kind") == Keyword("budget") and "500" in get(body, "error")
    # a value whose text would be huge (a DAG) runs out while being written, not the host
    body, _ = reply(ep.answer(frame(
        "(let loop ((x '(1)) (n 0)) (if (= n 60) x (loop (list x x) (+ n 1))))")))
    assert get(body, "kind") == Keyword("budget")


def test_a_request_asking_beyond_its_grant_is_refused(peer) -> None:
    _, ep = peer
    for header, word in (({"caps": ["image"]}, ":image"), ({"caps": ["core", "host"]}, ":host"),
                         ({"steps": 100_001}, "100001"), ({"caps": ["nonsense"]}, ":nonsense")):
        body, _ = reply(ep.answer(frame("1", **header)))
        assert get(body, "kind") == Keyword("refused") and word in get(body, "error")
    assert kind(ep.answer(frame("1", caps=["core"], steps=100_000))) == "ok"


def test_bad_signatures_unknown_keys_and_foreign_recipients_are_refused(peer) -> None:
    _, ep = peer
    good = frame("(+ 1 2)")
    tampered = good.replace("(+ 1 2)", "(+ 1 3)")
    body, header = reply(ep.answer(tampered))
    assert get(body, "kind") == Keyword("refused") and "signature" in get(body, "error")
    assert header.re is not None           # the nonce was readable: the reply names it
    body, _ = reply(ep.answer(frame("(+ 1 2)", EVE)))
    assert get(body, "kind") == Keyword("refused") and "unknown key" in get(body, "error")
    body, _ = reply(ep.answer(frame("1", to=BOB_KEY)))
    assert "another peer" in get(body, "error")
    assert kind(ep.answer(frame("1", to=SERVER_KEY))) == "ok"


def test_a_replayed_nonce_is_refused_even_after_the_world_is_reopened(tmp_path) -> None:
    path = tmp_path / "w.fs"
    f = frame("(+ 1 2)")
    for w, ep in served(path):
        assert kind(ep.answer(f)) == "ok"
        assert "replayed" in get(reply(ep.answer(f))[0], "error")
    w = session.open(str(path))
    ep = Endpoint(w, SERVER)
    try:
        assert "replayed" in get(reply(ep.answer(f))[0], "error")
        assert kind(ep.answer(frame("(+ 1 2)"))) == "ok"
    finally:
        ep.close()
        w.close()


def test_stale_and_future_nonces_are_refused(peer) -> None:
    _, ep = peer
    now = time.time_ns() // 1000
    body, _ = reply(ep.answer(frame("1", nonce=now - int((message.WINDOW + 60) * 1e6))))
    assert "stale" in get(body, "error")
    body, _ = reply(ep.answer(frame("1", nonce=now + int((message.WINDOW + 60) * 1e6))))
    assert "future" in get(body, "error")
    assert kind(ep.answer(frame("1", nonce=now - int((message.WINDOW - 60) * 1e6)))) == "ok"


def test_oversized_and_unreadable_frames_are_refused(peer) -> None:
    _, ep = peer
    huge = '{:body "' + "x" * (message.MAX_FRAME + 2048) + '"}'
    body, header = reply(ep.answer(huge))
    assert get(body, "kind") == Keyword("refused") and header.re is None
    body, _ = reply(ep.answer(huge.encode()))
    assert get(body, "kind") == Keyword("refused")
    nonce = message.new_nonce()
    for text, word in (("(+ 1", "does not read"), ("1 2", "2 forms"), ("", "0 forms")):
        body, header = reply(ep.answer(raw_frame({"body": text, "nonce": nonce})))
        assert get(body, "kind") == Keyword("refused") and word in get(body, "error")
        assert header.re == nonce
    body, header = reply(ep.refuse("the transport's own refusal", 7))
    assert header.re == 7 and get(body, "kind") == Keyword("refused")


def test_the_rate_limit_of_a_key_refuses_the_messages_past_it(tmp_path) -> None:
    for _, ep in served(tmp_path / "w.fs", options=":per-minute 3"):
        kinds = [kind(ep.answer(frame("1"))) for _ in range(5)]
        assert kinds == ["ok", "ok", "ok", "refused", "refused"]
        assert "rate limit" in get(reply(ep.answer(frame("1")))[0], "error")


def test_the_concurrency_limit_of_a_key_refuses_a_program_past_it(tmp_path) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(form: Any, grant: Grant) -> Any:
        started.set()
        release.wait(10)
        return form
    for _, ep in served(tmp_path / "w.fs", options=":concurrent 1", program=slow):
        first: list[str] = []
        t = threading.Thread(target=lambda: first.append(ep.answer(frame("1"))))
        t.start()
        try:
            assert started.wait(10)
            body, _ = reply(ep.answer(frame("2")))
            assert get(body, "kind") == Keyword("refused") and "concurrency" in get(body, "error")
        finally:
            release.set()
            t.join(10)
        assert kind(first[0]) == "ok"
        assert kind(ep.answer(frame("3"))) == "ok"      # the slot is free again


def test_a_custom_program_gets_the_grant_and_its_failures_are_replies(tmp_path) -> None:
    seen: list[Grant] = []

    def program(form: Any, grant: Grant) -> Any:
        seen.append(grant)
        if form == 1:
            raise BudgetExceeded("steps", "out of steps")
        if form == 2:
            raise RuntimeError("a bug of the host program")
        grant.usage.steps = 7
        return form
    for _, ep in served(tmp_path / "w.fs", program=program):
        body, _ = reply(ep.answer(frame("5", caps=["core"], steps=99)))
        assert get(body, "value") == 5 and get(body, "steps") >= 7
        g = seen[-1]
        assert g.key == BOB_KEY and g.name == "bob" and g.caps == frozenset({"core"})
        assert g.limits.steps == 99 and g.header.steps == 99
        assert kind(ep.answer(frame("1"))) == "budget"
        assert "internal error" in get(reply(ep.answer(frame("2")))[0], "error")
        assert seen[-1].caps == frozenset({"core", "output"})   # not asked: the record's


def test_every_exchange_is_recorded_with_its_outcome(peer) -> None:
    w, ep = peer
    ep.answer(frame("(+ 1 2)"))
    ep.answer(frame("(car 1)"))
    ep.answer(frame("(let loop () (loop))", steps=100))
    ep.answer(frame("1", caps=["image"]))
    ep.answer(frame("1", EVE))
    ep.close()
    store = find(w.image.root)
    log = [e.as_dict() for e in store.recent(10)][::-1]
    assert [e["outcome"] for e in log] == ["ok", "error", "budget", "refused", "refused"]
    assert log[0]["program"] == "(+ 1 2)" and log[0]["name"] == "bob" and log[0]["steps"] > 0
    assert log[4]["name"] == "unknown"
    assert store.total() == {"ok": 1, "error": 1, "budget": 1, "refused": 1, "unknown": 1}
    view = w.eval("(inspect :peers)")
    recent = view.get(Keyword("recent"))
    assert recent.car.get(Keyword("outcome")) == Keyword("refused")     # newest first
    assert view.get(Keyword("totals")).get(Keyword("ok")) == 1


def test_a_flood_of_garbage_is_counted_not_logged_one_by_one(peer) -> None:
    w, ep = peer
    for i in range(3 * REFUSALS_LOGGED):
        kind(ep.answer(f"garbage {i}"))
        kind(ep.answer(frame("1", EVE)))
        minted = make_signer()[1]      # a new key each time, signing a body that does not read
        kind(ep.answer(raw_frame({"body": "(", "nonce": message.new_nonce()}, minted)))
    ep.close()
    store = find(w.image.root)
    assert len(store.log) == REFUSALS_LOGGED
    assert store.total()["unknown"] == 9 * REFUSALS_LOGGED


def test_an_untrusted_key_is_refused_and_a_closed_endpoint_refuses(peer) -> None:
    w, ep = peer
    assert kind(ep.answer(frame("1"))) == "ok"
    w.eval(f'(peer/untrust "{BOB_KEY}")')
    assert "unknown key" in get(reply(ep.answer(frame("1")))[0], "error")
    ep.close()
    assert "closing" in get(reply(ep.answer(frame("1")))[0], "error")


def test_answering_is_cheap_enough_for_a_hundred_messages(peer) -> None:
    _, ep = peer
    frames = [frame(f"(+ {i} 1)") for i in range(100)]
    assert [get(reply(ep.answer(f))[0], "value") for f in frames] == list(range(1, 101))


KILLED_SERVER = r'''
import sys, time
sys.path.insert(0, sys.argv[3])
import world.session as session
from world.peer.endpoint import Endpoint
from endpoint_kit import SERVER

def stuck(form, grant):
    print("running", flush=True)
    time.sleep(60)

w = session.open(sys.argv[1])
Endpoint(w, SERVER, program=stuck).answer(sys.argv[2])
'''


def test_a_nonce_is_stored_before_its_program_runs_so_a_killed_server_refuses_its_replay(
        tmp_path) -> None:
    import os
    import subprocess
    import sys
    path = tmp_path / "w.fs"
    for _ in served(path):
        pass                                    # a world that trusts bob
    f = frame("(+ 1 2)")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SERVER, str(path), f,
                             os.path.dirname(__file__)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "running"
    finally:
        proc.kill()                             # SIGKILL: no close, no flush
        proc.wait(10)
    for w, ep in served(path):
        assert "replayed" in get(reply(ep.answer(f))[0], "error")
        # the log shows what the killed server was doing when it died, then the replay
        assert [e.outcome for e in find(w.image.root).recent(5)] == ["refused", "running"]
        assert kind(ep.answer(frame("(+ 1 2)"))) == "ok"


def test_a_read_only_world_refuses_in_one_line_and_logs_no_traceback(tmp_path, caplog) -> None:
    path = tmp_path / "w.fs"
    for _ in served(path):
        pass
    w = session.open(str(path), read_only=True)
    ep = Endpoint(w, SERVER)
    try:
        body, _ = reply(ep.answer(frame("(+ 1 2)")))
        assert get(body, "kind") == Keyword("refused") and "read-only" in get(body, "error")
        assert kind(ep.answer("junk")) == "refused"
    finally:
        ep.close()
        w.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("read-only" in r.getMessage() for r in caplog.records)


def test_a_peer_granted_simulate_may_simulate(tmp_path) -> None:
    sim = ('(simulate :name "t" :initial-state 0 :frame (lambda (s i) (+ s i)) '
           ':inputs (list 1 2 3) :return-after-frames 3)')
    for _, ep in served(tmp_path / "w.fs", options=":caps [:core :simulate] :steps 100000"):
        body, _ = reply(ep.answer(frame(sim)))
        assert get(body, "value").get(Keyword("state")) == 6
        assert "unbound" in get(reply(ep.answer(frame(sim, caps=["core"])))[0], "error")
