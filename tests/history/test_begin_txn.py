"""A top-level `begin` (and a macro expanding to several definitions) is one transaction."""
from __future__ import annotations

import pytest

import world
from world.history.record import history_of
from world.lisp.errors import BudgetExceeded, LispError
from world.lisp.types import to_pylist

from history_helpers import kw, user_log


def _unbound(w: world.World, name: str) -> bool:
    try:
        w.eval(name)
    except LispError as e:
        return "unbound" in str(e)
    return False


def test_failing_begin_leaves_nothing_even_after_reopen(image: str) -> None:
    with world.open(image) as w:
        with pytest.raises(LispError):
            w.eval("(begin (define a 1) (define (f) a) (car '()))")
        assert _unbound(w, "a") and _unbound(w, "f")
        assert user_log(w) == []
        assert to_pylist(w.eval("(history/pending)")) == []
    with world.open(image) as w:
        assert _unbound(w, "a") and _unbound(w, "f")
        assert user_log(w) == []


def test_begin_parts_are_top_level_forms(image: str) -> None:
    with world.open(image) as w:
        assert w.eval("(begin (defmacro m () 1) (define b (m)) (+ b 1))") == 2
        log = user_log(w)
        assert [world.write(kw(m, "symbol")) for m in reversed(log)] == ["m", "b"]
        hist = history_of(w)
        assert [hist.latest(n).source for n in ("m", "b")] == ["(defmacro m () 1)", "(define b (m))"]
    with world.open(image) as w:
        assert w.eval("b") == 1


def test_begin_is_one_transaction_with_one_note(image: str) -> None:
    with world.open(image) as w:
        w.eval("(begin (define p 1) (begin (define q 2)))")
        notes = [t["description"] for t in w.image.db.undoLog(0, 5)]
        assert notes[0] == "(begin (define p 1) (begin (define q 2)))"
        assert "(define p 1)" not in notes and "(define q 2)" not in notes


def test_macro_expanding_to_several_definitions_is_one_transaction(image: str) -> None:
    with world.open(image) as w:
        w.eval("(defmacro two () '(begin (define c 1) (define d (car '()))))")
        with pytest.raises(LispError):
            w.eval("(two)")
        assert _unbound(w, "c") and _unbound(w, "d")
    with world.open(image) as w:
        assert _unbound(w, "c")


def test_begin_parts_share_one_budget(image: str) -> None:
    with world.open(image) as w:
        loop = "(let loop ((i 0)) (if (< i 3000) (loop (+ i 1)) i))"
        w.eval(loop, steps=5000)                      # one loop fits the budget
        with pytest.raises(BudgetExceeded):
            w.eval(f"(begin (define e 1) {loop} {loop})", steps=5000)
        assert _unbound(w, "e")


def test_begin_output_and_value(image: str) -> None:
    with world.open(image) as w:
        r = w.eval_form(world.read("(begin (display 1) (display 2) 3)"), show=world.write)
        assert (r.value, r.output, r.text) == (3, "12", "3")
