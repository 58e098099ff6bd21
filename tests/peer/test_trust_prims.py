"""peer/trust, peer/trusted, peer/untrust and (inspect :peers) (world/peer/prims.py)."""
from __future__ import annotations

import pytest

import world.session as session
from world.lisp.errors import LispError
from world.lisp.types import Keyword
from world.peer.endpoint import Endpoint
from world.peer.store import LOG_KEEP, Exchange, PeerStore

from endpoint_kit import BOB_KEY, EVE_KEY, SERVER, frame, get, kind, reply

K = Keyword


@pytest.fixture
def w(tmp_path):
    world = session.open(str(tmp_path / "w.fs"))
    yield world
    world.close()


def test_trusting_a_key_returns_its_record_and_lists_it(w) -> None:
    r = w.eval(f'(peer/trust "{BOB_KEY}" :name "bob" :caps [:core :simulate] :steps 5000 '
               f':memory 1000000 :seconds 2.5 :per-minute 30 :concurrent 2)')
    assert r.get(K("name")) == "bob" and r.get(K("caps")) == (K("core"), K("simulate"))
    assert (r.get(K("steps")), r.get(K("memory")), r.get(K("seconds")), r.get(K("per-minute")),
            r.get(K("concurrent"))) == (5000, 1_000_000, 2.5, 30, 2)
    d = w.eval(f'(peer/trust "{EVE_KEY.upper()}")')          # defaults; the key normalised
    assert d.get(K("key")) == EVE_KEY and d.get(K("caps")) == (K("core"),)
    assert d.get(K("name")) == EVE_KEY[:12] and d.get(K("concurrent")) == 4
    names = w.eval("(map (lambda (r) (get r :name)) (peer/trusted))")
    assert sorted([names.car, names.cdr.car]) == sorted(["bob", EVE_KEY[:12]])
    w.eval(f'(peer/trust "{BOB_KEY}" :name "robert")')      # trusting again replaces
    assert w.eval("(length (peer/trusted))") == 2
    assert w.eval(f'(peer/untrust "{BOB_KEY}")') is True
    assert w.eval(f'(peer/untrust "{BOB_KEY}")') is False
    assert w.eval("(length (peer/trusted))") == 1


def test_trust_records_survive_reopening_the_world(tmp_path) -> None:
    path = str(tmp_path / "w.fs")
    with session.open(path) as w:
        w.eval(f'(peer/trust "{BOB_KEY}" :name "bob" :steps 77)')
    with session.open(path) as w:
        assert w.eval("(get (car (peer/trusted)) :steps)") == 77


@pytest.mark.parametrize("src, words", [
    ('(peer/trust "abc")', "64 hex digits"),
    ("(peer/trust 42)", "64 hex digits"),
    ('(peer/trust "KEY" :caps [:image :host])', ":host, :image cannot be granted"),
    ('(peer/trust "KEY" :caps [:core :net])', ":net cannot be granted"),
    ('(peer/trust "KEY" :caps 5)', "vector of capability names"),
    ('(peer/trust "KEY" :caps [1])', "vector of capability names"),
    ('(peer/trust "KEY" :steps 0)', ":steps expects a whole number"),
    ('(peer/trust "KEY" :steps 1.5)', ":steps expects a whole number"),
    ('(peer/trust "KEY" :memory -1)', ":memory expects a whole number"),
    ('(peer/trust "KEY" :seconds 0)', ":seconds expects a number"),
    ('(peer/trust "KEY" :seconds +nan.0)', ":seconds expects a number"),
    ('(peer/trust "KEY" :per-minute "x")', ":per-minute expects a whole number"),
    ('(peer/trust "KEY" :concurrent 100000)', ":concurrent expects a whole number"),
    ('(peer/trust "KEY" :name "")', ":name expects a one-line string"),
    ('(peer/trust "KEY" :name "a\\nb")', ":name expects a one-line string"),
    ('(peer/trust "KEY" :bogus 1)', "unknown option"),
    ('(peer/trust "KEY" :name)', "options come in pairs"),
    ('(peer/untrust "nope")', "64 hex digits"),
])
def test_trust_primitives_refuse_bad_arguments_in_one_line(w, src, words) -> None:
    with pytest.raises(LispError) as e:
        w.eval(src.replace("KEY", BOB_KEY))
    assert words in str(e.value) and "\n" not in str(e.value)
    assert w.eval("(peer/trusted)") is None       # nothing was trusted


def test_a_sandbox_cannot_trust_a_key(w) -> None:
    with pytest.raises(LispError):
        w.eval(f"(sandbox '(peer/trust \"{BOB_KEY}\") :caps [:core])")
    with pytest.raises(LispError):
        w.eval("(sandbox '(peer/trusted) :caps [:core])")
    assert w.eval("(peer/trusted)") is None


def test_inspect_peers_shows_grants_recent_exchanges_and_totals(w) -> None:
    empty = w.eval("(inspect :peers)")
    assert empty.get(K("count")) == 0 and empty.get(K("recent")) is None
    w.eval(f'(peer/trust "{BOB_KEY}" :name "bob" :caps [:core :output])')
    ep = Endpoint(w, SERVER)
    try:
        ep.answer(frame("(+ 1 2)"))
        ep.answer(frame("(car 1)"))
        ep.answer("junk")
    finally:
        ep.close()
    view = w.eval("(inspect :peers)")
    assert view.get(K("count")) == 1 and view.get(K("exchanges")) == 3
    assert view.get(K("trusted")).car.get(K("caps")) == (K("core"), K("output"))
    recent = view.get(K("recent"))
    outcomes = [recent.car, recent.cdr.car, recent.cdr.cdr.car]
    assert [e.get(K("outcome")) for e in outcomes] == [K("refused"), K("error"), K("ok")]
    assert outcomes[2].get(K("program")) == "(+ 1 2)" and outcomes[0].get(K("name")) == "unknown"
    totals = view.get(K("totals"))
    assert (totals.get(K("ok")), totals.get(K("error")), totals.get(K("unknown"))) == (1, 1, 1)
    from repl import inspect_view, render
    text = render.plain(inspect_view.tree(view))
    assert ":recent" in text and "(+ 1 2)" in text


def test_the_log_keeps_the_newest_exchanges_and_nonces_are_pruned(w) -> None:
    import time
    from world.peer.message import WINDOW
    store = PeerStore()
    for i in range(LOG_KEEP + 150):
        store.append(Exchange("k", "n", i, "(x)", "ok"))
    assert store.log.maxKey() == LOG_KEEP + 150
    assert store.log.maxKey() - store.log.minKey() + 1 <= LOG_KEEP + 100
    assert [e.seq for e in store.recent(3)] == [LOG_KEEP + 150, LOG_KEEP + 149, LOG_KEEP + 148]
    now = time.time()
    old = int((now - WINDOW - 10) * 1e6)
    store.see("k", [old, old + 1], now - WINDOW)
    store.see("k", [int(now * 1e6)], now)
    assert list(store.seen["k"]) == [int(now * 1e6)]
    assert store.stale("k", int(now * 1e6), now).startswith("replayed")
    assert "x" * 3000 not in Exchange("k", "n", 1, "x" * 3000).program


@pytest.fixture
def image(tmp_path) -> str:
    """A path for the image a ZEO server (the `zeo` fixture) serves."""
    return str(tmp_path / "zeo" / "world.fs")


def test_trust_changed_by_another_session_over_zeo_takes_effect_at_once(zeo) -> None:
    owner, server = session.open(zeo=zeo), session.open(zeo=zeo)
    ep = Endpoint(server, SERVER)
    try:
        assert "unknown key" in get(reply(ep.answer(frame("1")))[0], "error")
        owner.eval(f'(peer/trust "{BOB_KEY}" :name "bob")')
        assert kind(ep.answer(frame("(+ 1 2)"))) == "ok"
        owner.eval(f'(peer/untrust "{BOB_KEY}")')
        assert "unknown key" in get(reply(ep.answer(frame("1")))[0], "error")
        ep.close()
        view = owner.eval("(inspect :peers)")       # the log the server wrote, seen by the owner
        assert view.get(K("totals")).get(K("ok")) >= 1
        assert view.get(K("totals")).get(K("unknown")) == 2
    finally:
        server.close()
        owner.close()


def test_the_cli_inspects_peers_as_a_tree_and_as_json(tmp_path, capsys) -> None:
    import json
    from repl.cli import main
    path = str(tmp_path / "w.fs")
    with session.open(path) as w:
        w.eval(f'(peer/trust "{BOB_KEY}" :name "bob")')
        ep = Endpoint(w, SERVER)
        ep.answer(frame("(+ 1 2)"))
        ep.close()
    assert main(["inspect", "--world", path, "peers"]) == 0
    tree = capsys.readouterr().out
    assert ":recent" in tree and '"(+ 1 2)"' in tree and ":ok" in tree
    assert main(["inspect", "--world", path, "--json", ":peers"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["ok"] == 1 and data["recent"][0]["program"] == "(+ 1 2)"
    assert data["trusted"][0]["name"] == "bob"


def test_two_servers_sharing_a_world_run_one_message_once(zeo) -> None:
    import threading
    owner = session.open(zeo=zeo)
    owner.eval(f'(peer/trust "{BOB_KEY}" :name "bob")')
    servers = [session.open(zeo=zeo) for _ in range(2)]
    endpoints = [Endpoint(s, SERVER) for s in servers]
    try:
        for _ in range(5):
            f = frame("(+ 1 2)")
            kinds: list[str] = []
            threads = [threading.Thread(target=lambda ep=ep: kinds.append(kind(ep.answer(f))))
                       for ep in endpoints]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(kinds) == ["ok", "refused"]
    finally:
        for ep in endpoints:
            ep.close()
        for s in servers + [owner]:
            s.close()
