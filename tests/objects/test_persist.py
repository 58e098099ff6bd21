"""State survives closing the world and opening it again in another process."""
from __future__ import annotations

from typing import Callable

import pytest

import world
from world.lisp.errors import BudgetExceeded, EvalError, LispError

COUNTER = """
(define (make-counter)
  "A counter and a peek at the same state."
  (let ((n 0))
    (cons (lambda () (set! n (+ n 1)) n)
          (lambda () n))))
(define pair (make-counter))
(define tick (car pair))
(define peek (cdr pair))
"""


def test_definitions_survive_a_fresh_process(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval('(define (sq x) "Square." (* x x)) (define limit 12) '
               "(defmacro twice (e) `(begin ,e ,e)) (define-record point x y)")
    out = run_py("""
        import sys, world
        from world.lisp.types import Symbol
        w = world.open(sys.argv[1])
        print(w.eval("(sq limit)"), w.eval("(point-x (make-point 3 4))"))
        print(w.env.docs[Symbol("sq")])
        print(world.write(w.eval("(let ((n 0)) (twice (set! n (+ n 1))) n)")))
        """, image)
    assert out.split("\n")[:3] == ["144 3", "Square.", "2"]


def test_counter_keeps_counting_and_closures_keep_sharing(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval(COUNTER + "(tick) (tick)")
    code = """
        import sys, world
        w = world.open(sys.argv[1])
        print(w.eval("(tick)"), w.eval("(peek)"))
        """
    assert run_py(code, image).split() == ["3", "3"]
    assert run_py(code, image).split() == ["4", "4"]


def test_an_object_two_definitions_share_comes_back_as_one(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define-record cell v) (define a (make-cell 1)) (define b a) "
               "(define bx (box 0)) (define holder (list bx bx))")
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        w.eval("(set-cell-v! a 42) (set-box! bx 7)")
        print(world.write(w.eval("(list (eq? a b) (cell-v b) (eq? (car holder) (cadr holder)) "
                                 "(unbox (cadr holder)) (eq? bx (car holder)))")))
        """, image)
    assert out.strip() == "(#t 42 #t 7 #t)"
    with world.open(image) as w:    # and the mutations were committed
        assert world.write(w.eval("(list (cell-v a) (unbox bx))")) == "(42 7)"


def test_a_million_element_list_persists_and_loads(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define big (iota 1000000))")
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        print(w.eval("(length big)"), w.eval("(list-ref big 999999)"))
        """, image)
    assert out.split() == ["1000000", "999999"]


def test_a_failing_form_leaves_nothing_behind(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define n 0) (define b (box 0)) (define (f) 1)")
        with pytest.raises(EvalError):
            w.eval("(let () (set! n 5) (set-box! b 5) (car 1))")
        with pytest.raises(BudgetExceeded):
            w.eval("(let loop () (set! n (+ n 1)) (set-box! b n) (loop))", steps=10_000)
        with pytest.raises(LispError):
            w.eval("(define (f) 2) (define g (car '()))")  # f committed, g failed
        assert world.write(w.eval("(list n (unbox b) (f))")) == "(0 0 2)"
        assert not w.env.is_bound(world.read("g"))
        assert "g" not in w.image.root.definitions
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        print(world.write(w.eval("(list n (unbox b) (f))")), "g" in w.image.root.definitions)
        """, image)
    assert out.split() == ["(0", "0", "2)", "False"]


def test_a_failed_define_restores_what_it_replaced(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define car 5)")
        with pytest.raises(EvalError):
            w.eval("(let () (set! car 6) (error \"no\"))")
        assert w.eval("car") == 5
        w.eval("(define (first x) \"Old.\" 1)")
        with pytest.raises(EvalError):
            w.eval("(eval '(begin (define (first x) \"New.\" 2) (cdr 1)))")
        assert w.eval("(first 0)") == 1
        assert w.env.docs[world.read("first")] == "Old."


def test_transaction_notes_name_each_form(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define a 1)\n(define  (long-name-procedure x)\n  " + "(+ x 1) " * 20 + ")")
        with pytest.raises(EvalError):
            w.eval("(define c (car 1))")
        w.eval("(+ 1 2)")                    # changes nothing: no transaction
    from ZODB.FileStorage import FileStorage
    st = FileStorage(image, read_only=True)
    try:
        txns = [(t.description.decode(), t.extension.get("names")) for t in st.iterator()]
    finally:
        st.close()
    assert txns[-2] == ("(define a 1)", ["a"])
    note, names = txns[-1]
    assert note.startswith("(define (long-name-procedure x) (+ x 1) (+ x 1)")
    assert note.endswith("...") and len(note) == 80 and names == ["long-name-procedure"]


def test_closures_loaded_but_never_called_store_again(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval(COUNTER + "(tick)")
    run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        w.eval("(define both (list tick peek)) (world/save \\"s\\")")   # stored before compiled
        """, image)
    out = run_py("""
        import sys, world
        w = world.open(sys.argv[1])
        print(w.eval("((car both))"), w.eval("(peek)"), w.eval("((cadr both))"))
        """, image)
    assert out.split() == ["2", "2", "2"]


def test_continuations_cannot_be_stored() -> None:
    w = world.open()
    with pytest.raises(EvalError, match="cannot store k: continuations cannot be stored"):
        w.eval("(define k #f) (+ 1 (call/cc (lambda (c) (set! k c) 1)))")
    assert w.eval("k") is False


def test_in_memory_worlds_are_separate_and_transactional() -> None:
    a, b = world.open(), world.open()
    a.eval("(define x 1)")
    with pytest.raises(LispError):
        b.eval("x")
    with pytest.raises(EvalError):
        a.eval("(let () (set! x 2) (car 1))")
    assert a.eval("x") == 1
    assert a.info()["path"] == "<memory>"


def test_output_is_delivered_once_even_when_the_form_fails() -> None:
    got: list[str] = []
    w = world.open(out=got.append)
    w.eval('(display "a")')
    with pytest.raises(EvalError):
        w.eval('(let () (display "b") (car 1))')
    assert got == ["a", "b"]


def test_read_only_world_evaluates_but_refuses_changes(image: str, run_py: Callable[..., str]) -> None:
    with world.open(image) as w:
        w.eval("(define x 41)")
    with world.open(image, read_only=True) as r:
        assert r.eval("(+ x 1)") == 42
        with pytest.raises(world.objects.ReadOnlyWorld, match="read-only"):
            r.eval("(define y 1)")
        with pytest.raises(LispError):
            r.eval("y")
