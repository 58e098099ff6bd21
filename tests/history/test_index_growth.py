"""The history's indexes grow linearly: the head and count in a small Tip, pending as a
watermark, a much-redefined name's versions linked through its commits."""
from __future__ import annotations

import os
from typing import Any

import pytest

import world
from world.history.commits import SMALL, History, Tip, Versions
from world.history.views import findings
from world.lisp.types import to_pylist


def test_a_name_redefined_many_times_keeps_every_version_in_order(image: str) -> None:
    with world.open(image) as w:
        for i in range(3 * SMALL):
            w.eval(f"(define x {i})")
        hist = w.image.root.history
        assert type(hist.by_symbol["x"]) is Versions
        assert [c.source for c in hist.versions("x")] == [f"(define x {i})" for i in reversed(range(3 * SMALL))]
        assert hist.latest("x").source == f"(define x {3 * SMALL - 1})"
    with world.open(image) as w:
        hist = w.image.root.history
        assert len(hist.versions("x")) == 3 * SMALL and findings(w.image.root) == []
        assert len(to_pylist(w.eval("(history/log 'x)"))) == 3 * SMALL


def test_pending_is_a_watermark_with_exceptions(image: str) -> None:
    with world.open(image) as w:
        hist = w.image.root.history
        base = hist.count
        w.eval("(define a 1) (define b 2) (define c 3)")
        assert list(hist.pending) == [base + 1, base + 2, base + 3] and len(hist.pending) == 3
        w.eval("(commit \"only b\" '(b))")
        assert list(hist.pending) == [base + 1, base + 3] and base + 2 not in hist.pending
        w.eval("(define d 4)")
        assert len(hist.pending) == 3 and hist.grouped_to < hist.count
        w.eval('(commit "the rest")')
        assert not hist.pending and hist.grouped_to == hist.count and not len(hist.ahead)
        assert findings(w.image.root) == []
        w.eval("(define e 5)")
        assert list(hist.pending) == [hist.count]


def test_redefinitions_write_little_each(tmp_path: Any) -> None:
    path = str(tmp_path / "grow.fs")
    with world.open(path) as w:
        w.eval("(define (f n) n)")
        start = os.path.getsize(path)
        n = 400
        for i in range(n):
            w.eval(f"(define (f n) (+ n {i}))")
        per = (os.path.getsize(path) - start) / n
    # everything a redefinition writes: the definition, its commit, the tip, two small buckets
    assert per < 3000, per


def _v2(self: History) -> dict[str, Any]:
    """The state a format-2 History had: head and count inline, one pending set."""
    from persistent import Persistent
    state = dict(Persistent.__getstate__(self))
    tip = state.pop("tip")
    state["head"], state["count"] = tip.head, tip.count
    behind, ahead = state.pop("behind"), state.pop("ahead")
    from BTrees.IIBTree import IITreeSet
    state["pending"] = IITreeSet([s for s in range(1, tip.count + 1)
                                  if (s <= self.grouped_to and s in behind)
                                  or (s > self.grouped_to and s not in ahead)])
    state.pop("grouped_to", None)
    state["format_version"] = 2
    return state


def test_a_format_2_history_migrates(image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2)")
        w.eval("(commit \"a\" '(a))")
        hist = w.image.root.history
        head, count, pending = hist.head, hist.count, list(hist.pending)
        with monkeypatch.context() as m:
            m.setattr(History, "__getstate__", _v2)
            w.image.begin()
            hist._p_changed = True
            w.image.commit("rewrite the history as format 2")
    with world.open(image) as w:
        hist = w.image.root.history
        assert type(hist.tip) is Tip and (hist.head, hist.count) == (head, count)
        assert list(hist.pending) == pending and findings(w.image.root) == []
        w.eval("(define c 3)")
        w.eval('(commit "rest")')
        assert not hist.pending and findings(w.image.root) == []
