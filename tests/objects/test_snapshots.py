"""Named snapshots: save, list, view, restore; they survive packing and restarts."""
from __future__ import annotations

from typing import Callable

import pytest

import world
from world.lisp.errors import EvalError
from world.objects.root import FORMAT_VERSION


def test_save_list_view_and_restore() -> None:
    w = world.open()
    w.eval("(define x 1) (define b (box 10)) (define (peek) (unbox b))")
    info = w.eval('(world/save "first" "before the change")')
    assert world.write(w.eval("(get (world/save \"first\" \"before the change\") :name)")) == '"first"'
    assert info.get(world.read(":definitions")) == 3
    w.eval("(set! x 2) (set-box! b 20) (define y 3)")
    view = w.eval('(world/open-snapshot "first")')
    assert world.write(w.eval('(get (world/open-snapshot "first") (quote x))')) == "1"
    assert w.eval('(unbox (get (world/open-snapshot "first") (quote b)))') == 10
    assert world.read("y") not in view
    w.eval('(world/restore "first")')
    assert world.write(w.eval("(list x (peek) (unbox b))")) == "(1 10 10)"
    with pytest.raises(EvalError, match="unbound variable: y"):
        w.eval("y")
    snaps = w.eval("(world/snapshots)")
    assert [s.get(world.read(":note")) for s in snaps] == ["before the change"]


def test_the_snapshot_does_not_change_with_the_live_world() -> None:
    w = world.open()
    w.eval('(define b (box 1)) (world/save "s")')
    w.eval("(set-box! b 2)")
    w.eval('(unbox (get (world/open-snapshot "s") (quote b)))')
    assert w.eval('(unbox (get (world/open-snapshot "s") (quote b)))') == 1
    w.eval('(set-box! (get (world/open-snapshot "s") (quote b)) 99)')   # a copy: no effect
    w.eval('(world/restore "s")')
    assert w.eval("(unbox b)") == 1
    w.eval("(set-box! b 5)")
    w.eval('(world/restore "s")')
    assert w.eval("(unbox b)") == 1


def test_restore_is_undone_by_restoring_a_later_snapshot() -> None:
    w = world.open()
    w.eval('(define x 1) (world/save "old") (define x 2) (define z 9) (world/save "new")')
    w.eval('(world/restore "old")')
    assert w.eval("x") == 1 and not w.env.is_bound(world.read("z"))
    w.eval('(world/restore "new")')
    assert (w.eval("x"), w.eval("z")) == (2, 9)


def test_a_failing_restore_changes_nothing() -> None:
    w = world.open()
    w.eval('(define x 1) (world/save "s") (define x 2) (define y 3)')
    with pytest.raises(EvalError):
        w.eval('(let () (world/restore "s") (car 1))')
    assert (w.eval("x"), w.eval("y")) == (2, 3)
    with pytest.raises(EvalError, match="no snapshot named 'nope'"):
        w.eval('(world/restore "nope")')


def test_snapshots_survive_pack_and_restart(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval('(define (make-counter) (let ((n 0)) (lambda () (set! n (+ n 1)) n))) '
               '(define c (make-counter)) (c) (c)')
        w.eval('(define-record pt x) (define p (make-pt 1)) (define q p)')
        w.eval('(world/save "two" "counter at two")')
        for i in range(20):
            w.eval(f"(define c (make-counter)) (define junk{i} (iota 100)) (set-pt-x! p {i})")
        w.eval('(world/pack)')
        assert w.eval("(c)") == 1
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        w.eval("(world/pack)")
        print(world.write(w.eval("(map (lambda (s) (get s :note)) (world/snapshots))")))
        w.eval('(world/restore "two")')
        print(w.eval("(c)"), w.eval("(pt-x q)"), w.eval("(eq? p q)"), w.env.is_bound(world.read("junk3")))
        """, image)
    assert out.splitlines() == ['("counter at two")', "3 1 True False"]
    with world.open(image) as w:
        assert w.eval("(c)") == 4


def test_info_describes_the_image(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define a 1) (define b 2)")
        info = w.eval("(world/info)")
        get = lambda k: info.get(world.read(":" + k))   # noqa: E731
        assert get("path") == image and get("definitions") == 2 and get("format-version") == FORMAT_VERSION
        assert get("size") > 0 and get("objects") > 3
        assert get("last-transaction").endswith("+00:00")
