"""Checks: recorded against the definitions they exercise, re-run on demand."""
from __future__ import annotations

import world
from world.lisp.types import to_pylist

from history_helpers import kw


def test_check_records_against_every_definition_it_calls(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (sq x) (* x x)) (define (sum-sq a b) (+ (sq a) (sq b))) (define (other) 0)")
        r = w.eval("(check 25 (sum-sq 3 4))")
        assert kw(r, "pass") is True
        assert world.write(kw(r, "definitions")) == "(sq sum-sq)"
        assert kw(w.eval("(check 1 (sq 2))"), "pass") is False
    with world.open(image) as w:
        report = w.eval("(audit/run)")
        assert kw(report, "passed") == 1 and kw(report, "failed") == 1
        per = {world.write(kw(d, "definition")): (kw(d, "passed"), kw(d, "failed"))
               for d in to_pylist(kw(report, "definitions"))}
        assert per == {"sq": (1, 1), "sum-sq": (1, 0)}
        w.eval("(define (sq x) (+ x x))")           # now sum-sq's example breaks
        report = w.eval("(audit/run)")
        assert kw(report, "failed") == 2 and kw(report, "passed") == 0
        failure = to_pylist(kw(report, "failures"))[0]
        assert kw(failure, "expr") == "(sum-sq 3 4)" and kw(failure, "actual") == 14


def test_check_that_errors_fails_and_a_nested_check_is_not_recorded(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (boom) (car '()))")
        r = w.eval("(check 1 (boom))")
        assert kw(r, "pass") is False and "car" in kw(r, "error")
        w.eval("(define (t) (check 2 (+ 1 1)))")
        assert kw(w.eval("(t)"), "pass") is True
        assert len(w.image.root.audit.checks) == 1
        w.eval("(check 1 (boom))")                  # the same example again: one record
        assert len(w.image.root.audit.checks) == 1
