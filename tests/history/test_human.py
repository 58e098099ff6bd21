"""Human commits, milestones, and development images that refuse while
atomic commits are pending."""
from __future__ import annotations

import getpass
import os

import pytest

import world
from world.lisp.types import to_pylist

from history_helpers import kw


def names(lst) -> list[str]:
    return [world.write(kw(m, "symbol")) for m in to_pylist(lst)]


def test_commit_groups_every_pending_commit(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2) (define a 3)")
        assert names(w.eval("(history/pending)")) == ["a", "b", "a"]
        h = w.eval('(commit "first steps")')
        assert kw(h, "message") == "first steps" and kw(h, "author") == getpass.getuser()
        assert len(to_pylist(kw(h, "atomic"))) == 3
        assert w.eval("(history/pending)") is None
    with world.open(image) as w:
        ms = to_pylist(w.eval("(history/milestones)"))
        assert [kw(m, "message") for m in ms] == ["world: default audit rules", "first steps"]
        assert to_pylist(kw(ms[1], "atomic"))[0] == w.image.root.history.versions("a")[1].id


def test_commit_of_some_symbols_takes_their_latest_pending(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2) (define a 3) (define c 4)")
        h = w.eval("(commit \"only a and c\" '(a c))")
        hist = w.image.root.history
        grouped = to_pylist(kw(h, "atomic"))
        assert grouped == [hist.latest("a").id, hist.latest("c").id]
        assert names(w.eval("(history/pending)")) == ["a", "b"]    # the older a stays pending


def test_commit_refusals(image: str) -> None:
    with world.open(image) as w:
        with pytest.raises(world.LispError, match="nothing is pending"):
            w.eval('(commit "empty")')
        w.eval("(define a 1)")
        with pytest.raises(world.LispError, match="nothing pending for zz"):
            w.eval("(commit \"x\" '(zz))")
        with pytest.raises(world.LispError, match="must be a string"):
            w.eval("(commit 'oops)")
        assert names(w.eval("(history/pending)")) == ["a"]


def test_save_dev_refuses_while_pending_and_copies_everything(image: str, tmp_path) -> None:
    dev = str(tmp_path / "dev.fs")
    with world.open(image) as w:
        w.eval("(define (f) 1) (define g 2)")
        with pytest.raises(world.LispError, match="pending for f, g"):
            w.eval(f'(world/save-dev "{dev}")')
        assert not os.path.exists(dev) or os.path.getsize(dev) == 0
        w.eval('(commit "f and g")')
        saved = w.eval(f'(world/save-dev "{dev}")')
        assert kw(saved, "size") > 0
        with pytest.raises(world.LispError, match="already exists"):
            w.eval(f'(world/save-dev "{dev}")')
    with world.open(dev) as d:
        assert d.eval("(f)") == 1
        assert d.eval("(history/verify)") is True
        assert [kw(m, "message") for m in to_pylist(d.eval("(history/milestones)"))][-1] == "f and g"
        assert d.image.root.history.latest("g").source == "(define g 2)"


def test_save_dev_of_a_memory_world(tmp_path) -> None:
    dev = str(tmp_path / "dev.fs")
    w = world.open()
    w.eval('(define x 41) (commit "x")')
    w.eval(f'(world/save-dev "{dev}")')
    w.close()
    with world.open(dev) as d:
        assert d.eval("(+ x 1)") == 42
