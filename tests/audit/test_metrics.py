"""Metrics over defining forms: a table of source, metric, expected value."""
from __future__ import annotations

from typing import Any

import pytest

import world
from world.audit.metrics import measure

CASES: list[tuple[str, str, Any]] = [
    ("(define (f x) (+ x 1))", "body-length", 4),
    ("(define (f x) (if (> x 0) (cond ((= x 1) 'a) ((= x 2) 'b) (else 'c)) 'd))",
     "cyclomatic-complexity", 4),
    ("(define (f x) (and (> x 0) (< x 9) (odd? x)))", "cyclomatic-complexity", 3),
    ("(define (f x) (when x 1) (unless x 0) (case x ((1) 'a) ((2) 'b) (else 'c)))",
     "cyclomatic-complexity", 5),
    ("(define (f x) (* x 60 1 0 2.5 '(7 8)))", "magic-numbers", (60, 2.5)),
    ("(define seconds-per-minute 60)", "magic-numbers", ()),
    ("(define (f x y _z) (let ((y 2)) y))", "unused-parameters", ("x",)),
    ("(define (f x) (lambda (y) (+ x y)))", "unused-parameters", ()),
    ("(define (f x) x)", "missing-docstring", True),
    ('(define (f x) "Doc." x)', "missing-docstring", False),
    ("(define f (lambda (x) \"Doc.\" x))", "missing-docstring", False),
    ("(define (f) \"just a string\")", "missing-docstring", True),
    ("(define limit 5)", "missing-docstring", False),
    ("(defmacro m (x) x)", "missing-docstring", True),
    ("(define (car x) x)", "redefines-core", True),
    ("(define (my-car x) x)", "redefines-core", False),
    ("(define (f e) (eval e))", "unsafe-names", ("eval",)),
    ("(define (f eval) (eval 1))", "unsafe-names", ()),
    ("(define (f n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (cons i acc)))))",
     "allocations-in-loops", 1),
    ("(define (f n) (if (= n 0) '() (cons n (f (- n 1)))))", "allocations-in-loops", 1),
    ("(define (f n) (list n n))", "allocations-in-loops", 0),
    ("(define (f v) (do ((i 0 (+ i 1))) ((= i 3) v) (vector-set v i (list i))))",
     "allocations-in-loops", 1),
    ("(define (f m) (get m :a))", "non-portable-names", ("get",)),
    ("(define (f s) (string-join (map symbol->string s) \" \"))", "non-portable-names",
     ("string-join",)),
    ("(define (f x) (car (reverse (list x))))", "non-portable-names", ()),
]


@pytest.mark.parametrize("source,metric,expected", CASES)
def test_metric(source: str, metric: str, expected: Any) -> None:
    form = world.read(source)
    name = form.cdr.car.car.name if hasattr(form.cdr.car, "car") else form.cdr.car.name
    kind = form.car.name
    assert measure(form, name, kind)[metric] == expected


def test_a_name_the_user_defined_is_never_non_portable() -> None:
    form = world.read("(define (f m) (get m :a))")
    assert measure(form, "f", "define", defined={"get"})["non-portable-names"] == ()
    assert measure(world.read("(define (get m) m)"), "get", "define")["non-portable-names"] == ()


def test_user_definitions_in_the_world_are_not_reported(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (string-join a b) a)")
        w.eval("(define (f xs) \"Doc.\" (string-join xs \" \"))")
        kinds = {world.write(v.get(world.read(":rule"))) for v in
                 world.lisp.types.to_pylist(w.eval("(audit/violations 'f)") or None)}
        assert "non-portable" not in kinds
