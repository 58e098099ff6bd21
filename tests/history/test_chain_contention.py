"""Sessions defining distinct names at once never fail on the history's one head: under
contention changes wait in the inbox (history/commits.py) and are linked right after, and
the chain verifies. Real ZEO server, real client processes."""
from __future__ import annotations

import math
import multiprocessing
import os
import sys

import transaction
import ZODB
from ZODB.FileStorage import FileStorage

import world
from world.history import record as history_record
from world.history.commits import Inbox
from world.history.views import findings

CLIENTS, EACH = 6, 30


def _client(address: str, me: int, out: "multiprocessing.Queue[tuple[int, int, str]]") -> None:
    sys.path.insert(0, os.getcwd())
    import world as w_
    failures, last = 0, ""
    with w_.open(zeo=address) as w:
        for i in range(EACH):
            try:
                w.eval(f"(define (c{me}-{i} x) (+ x {i}))")
            except Exception as e:          # counted: the test wants none
                failures += 1
                last = f"{type(e).__name__}: {e}"
    out.put((me, failures, last))


def test_many_clients_defining_distinct_names_never_fail(zeo: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_client, args=(zeo, me, out)) for me in range(CLIENTS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(60)
    assert [r[1] for r in results] == [0] * CLIENTS, results
    with world.open(zeo=zeo) as w:
        hist = w.image.root.history
        assert findings(w.image.root) == []
        assert not hist.drafts()
        names = {c.symbol for c in hist.atomic() if c.kind == "define"}
        assert names >= {f"c{me}-{i}" for me in range(CLIENTS) for i in range(EACH)}
        assert w.eval(f"(c{CLIENTS - 1}-{EACH - 1} 1)") == EACH


def test_inbox_merges_appends_and_removals_of_different_sessions() -> None:
    box = Inbox()
    old = {"drafts": (("1", ("a",)), ("2", ("b",)))}
    committed = {"drafts": ()}                                  # one session linked both
    new = {"drafts": old["drafts"] + (("3", ("c",)),)}          # another drafted a third
    assert box._p_resolveConflict(old, committed, new)["drafts"] == (("3", ("c",)),)
    both = box._p_resolveConflict(old, {"drafts": old["drafts"] + (("4", ("d",)),)}, new)
    assert [k for k, _ in both["drafts"]] == ["1", "2", "3", "4"]


def test_a_session_that_died_before_linking_is_linked_at_the_next_opening(
        image: str, monkeypatch) -> None:
    with world.open(image) as w:
        w.defer_until = math.inf                    # as after a conflict: draft, link later
        monkeypatch.setattr(history_record, "link_later", lambda world: None)   # ... never
        w.eval("(define (late x) (* x 2))")
        hist = w.image.root.history
        assert [d.symbol for d in hist.drafts()] == ["late"]
        assert hist.latest("late").kind == "define" and findings(w.image.root) == []
    monkeypatch.undo()
    db = ZODB.DB(FileStorage(image, read_only=True))        # the drafts are on disk
    try:
        assert len(db.open(transaction.TransactionManager()).root()["world"].history.inbox.drafts) == 1
    finally:
        db.close()
    with world.open(image) as w:
        hist = w.image.root.history
        assert not hist.drafts() and hist.latest("late").seq == hist.count
        assert findings(w.image.root) == [] and w.eval("(late 4)") == 8


def test_a_human_commit_takes_waiting_drafts(image: str, monkeypatch) -> None:
    with world.open(image) as w:
        w.defer_until = math.inf
        monkeypatch.setattr(history_record, "link_later", lambda world: None)
        w.eval("(define a 1)")
        w.eval('(commit "with a")')
        hist = w.image.root.history
        h = hist.humans[hist.humans_count]
        assert [hist.commits[s].symbol for s in h.seqs] == ["a"] and not hist.drafts()
        assert findings(w.image.root) == []
