"""Redefining a record migrates its instances; committing a record commits its names."""
from __future__ import annotations

from pathlib import Path

import pytest

import world
from world.build import rebuild
from world.lisp.errors import BudgetExceeded, LispError
from world.lisp.env import Environment
from world.lisp.runtime import run


def w_(x: object) -> str:
    return world.write(x)


MADE = """
(define-record point x y)
(define p (make-point 1 2))
(define shared (list p (box p) {:a p} [p]))
(define get-q (let ((q (make-point 3 4))) (lambda () q)))
"""


def test_redefinition_migrates_every_reachable_instance_in_place(image: str) -> None:
    with world.open(image) as w:
        w.eval(MADE)
        w.eval("(define-record point y (z (* 2 5)) w)")
        assert w_(w.eval("p")) == "#<point y=2 z=10 w=#f>"
        assert w_(w.eval("(get-q)")) == "#<point y=4 z=10 w=#f>"
        assert w.eval("(point-z (unbox (cadr shared)))") == 10
        assert w.eval("(and (eq? p (car shared)) (eq? p (get (caddr shared) :a)))") is True
        w.eval("(set-point-w! p 'moved)")
    with world.open(image) as w:           # stored, and still one shared object
        assert w_(w.eval("(vector-ref (list-ref shared 3) 0)")) == "#<point y=2 z=10 w=moved>"
        assert w.eval("(point? (get-q))") is True


def test_same_fields_or_new_type_leave_instances_alone(image: str) -> None:
    with world.open(image) as w:
        w.eval(MADE)
        w.eval("(define-record point x (y 99))")      # same fields: nothing to migrate
        assert w_(w.eval("p")) == "#<point x=1 y=2>"
        w.eval("(define-record other x)")
        assert w.eval("(point-y p)") == 2


def test_a_failing_form_leaves_instances_as_they_were(image: str) -> None:
    with world.open(image) as w:
        w.eval(MADE)
        with pytest.raises(LispError):
            w.eval("(begin (define-record point x) (car '()))")
        assert w_(w.eval("p")) == "#<point x=1 y=2>" and w.eval("(point-y p)") == 2
        with pytest.raises(LispError):
            w.eval("(define-record point x (z (car '())))")   # a default that fails
        assert w.eval("(point-y p)") == 2
    with world.open(image) as w:
        assert w_(w.eval("p")) == "#<point x=1 y=2>"


def test_migration_is_charged_to_the_form(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define-record cell v)")
        w.eval("(define big (let loop ((i 0) (acc '())) "
               "(if (= i 20000) acc (loop (+ i 1) (cons (make-cell i) acc)))))")
        with pytest.raises(BudgetExceeded):
            w.eval("(define-record cell v (w 0))", steps=5000)
        assert w.eval("(cell-v (car big))") == 19999
        r = w.eval_form(world.read("(define-record cell v (w 0))"))
        assert r.host > 20000 and w.eval("(cell-w (car big))") == 0


def test_bad_field_specs_are_refused() -> None:
    env = Environment()
    for bad in ("(define-record p (x))", "(define-record p (x 1 2))", "(define-record p x x)",
                "(define-record p 5)", "(define-record 5 x)"):
        with pytest.raises(LispError, match="define-record"):
            run(env, world.read(bad))


def test_plain_environment_migrates_its_globals() -> None:
    env = Environment()
    for src in ("(define-record pt a b)", "(define v (make-pt 1 2))", "(define-record pt (c 3) b)"):
        run(env, world.read(src))
    assert w_(run(env, world.read("v")).value) == "#<pt c=3 b=2>"


def test_rebuild_reproduces_the_migration(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval(MADE)
        w.eval("(define-record point y (z 0) w)")
        w.eval('(commit "points")')
        dest = str(tmp_path / "atomic.fs")
        report = rebuild(w, dest, "atomic")
        assert report.ok, (report.mismatches, report.errors)
    with world.open(dest) as d:
        assert w_(d.eval("shared")).startswith("(#<point y=2 z=0 w=#f> #<box #<point y=2 z=0 w=#f>>")
        assert d.eval("(eq? p (car shared))") is True


def test_commit_by_record_name_includes_its_generated_names(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define-record point x y) (define (unrelated) 1)")
        w.eval("(commit \"points\" '(point))")
        pending = {w_(m.get(world.read(":symbol"))) for m in
                   __import__("world.lisp.types", fromlist=["to_pylist"]).to_pylist(
                       w.eval("(history/pending)"))}
        assert pending == {"unrelated"}
        w.eval("(define-record point x y z)")
        w.eval("(commit \"z\" '(point-z))")    # a generated name commits its whole record
        assert w.eval("(length (history/pending))") == 1
