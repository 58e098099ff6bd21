"""Rules written in the world's Lisp: stored and committed, run sandboxed,
broken rules reported and never blocking, violations stored per commit."""
from __future__ import annotations

import time

import pytest

import world
from world.lisp.types import to_pylist

from history_helpers import kw


def rules_of(w: world.World, name: str) -> set[str]:
    return {world.write(kw(v, "rule")) for v in to_pylist(w.eval(f"(audit/violations '{name})"))}


def test_default_rules_are_loaded_and_committed(image: str) -> None:
    with world.open(image) as w:
        names = {world.write(kw(r, "name")) for r in to_pylist(w.eval("(audit/rules)"))}
        assert names >= {"long-body", "complex", "magic-number", "unused-parameter",
                         "missing-docstring", "redefines-core", "unsafe-capability",
                         "allocation-in-loop", "non-portable"}
        assert w.eval("(history/pending)") is None
        assert w.image.root.history.latest("complex").kind == "defrule"


def test_violations_are_stored_on_each_commit(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (f x y) (* x 60))")
        c = w.image.root.history.latest("f")
        assert {v[0] for v in c.violations} == {"magic-number", "unused-parameter", "missing-docstring"}
        w.eval('(define (f x) "Doc." x)')
        assert w.image.root.history.latest("f").violations == ()
    with world.open(image) as w:
        assert rules_of(w, "f") == set()
        assert {v[0] for v in w.image.root.history.versions("f")[1].violations} >= {"magic-number"}


def test_a_user_rule_is_a_committed_definition(image: str) -> None:
    with world.open(image) as w:
        w.eval('(defrule too-many-params :category :design :severity :warning '
               ':when (lambda (m) (> (length (get m :unused-parameters)) 1)) '
               ':message "two or more unused parameters")')
        c = w.image.root.history.latest("too-many-params")
        assert c.kind == "defrule" and c.source.startswith("(defrule too-many-params")
        w.eval('(define (g a b) "Doc." 0)')
        assert "too-many-params" in rules_of(w, "g")
    with world.open(image) as w:                  # the rule survives reopening
        w.eval('(define (h a b) "Doc." 0)')
        assert "too-many-params" in rules_of(w, "h")
        w.eval("(undefine 'too-many-params)")
        w.eval('(define (k a b) "Doc." 0)')
        assert "too-many-params" not in rules_of(w, "k")


def test_broken_rules_are_reported_and_never_block(image: str) -> None:
    with world.open(image) as w:
        w.eval("(defrule loops :category :x :severity :error "
               ":when (lambda (m) (let loop () (loop))) :message \"never ends\")")
        w.eval("(defrule errs :category :x :severity :error "
               ":when (lambda (m) (car (get m :name))) :message \"bad\")")
        w.eval("(defrule conses :category :x :severity :error "
               ":when (lambda (m) (let loop ((l '())) (loop (cons 1 l)))) :message \"memory\")")
        w.eval("(defrule escapes :category :x :severity :error "
               ":when (lambda (m) (world/pack)) :message \"capability\")")
        t = time.perf_counter()
        w.eval('(define (ok) "Doc." 1)')
        assert time.perf_counter() - t < 10
        assert w.eval("(ok)") == 1
        vs = {v[0]: v for v in w.image.root.history.latest("ok").violations}
        for name in ("loops", "errs", "conses", "escapes"):
            assert vs[name][1] == "rule-error" and f"rule {name} is broken" in vs[name][3]
        assert "step budget" in vs["loops"][3]
        assert "unbound variable: world/pack" in vs["escapes"][3]


def test_defrule_refusals(image: str) -> None:
    with world.open(image) as w:
        with pytest.raises(world.LispError, match="severity"):
            w.eval("(defrule r :severity :fatal :when (lambda (m) #f))")
        with pytest.raises(world.LispError, match=":when must be a procedure"):
            w.eval("(defrule r :when 3)")
        with pytest.raises(world.LispError, match="unknown option"):
            w.eval("(defrule r :colour :red)")
        with pytest.raises(world.LispError, match="only allowed at top level"):
            w.eval("(define (mk) (defrule inner :when (lambda (m) #f)))  (mk)")
        assert w.image.root.audit.rules.get("r") is None


def test_tolerance_refuses_definitions_when_set(image: str) -> None:
    with world.open(image) as w:
        assert w.eval("(audit/tolerance)") is False
        w.eval("(define (f x y) 1)")                 # off by default: accepted
        w.eval("(audit/set-tolerance! 0)")
        with pytest.raises(world.LispError, match="exceed the tolerance of 0"):
            w.eval("(define (g x y) 1)")
        with pytest.raises(world.LispError, match="unbound variable: g"):
            w.eval("(g 1 2)")
        assert w.image.root.history.latest("g") is None
        w.eval('(define (g x) "Doc." x)')               # info-level findings only
        w.eval("(audit/set-tolerance! #f)")
        w.eval("(define (h x y) 1)")


def test_report_summarizes_latest_versions(image: str) -> None:
    with world.open(image) as w:
        w.eval("(define (f x y) (* x 60))")
        w.eval("(define (g) (car '(1)))")
        w.eval('(define (g) "Doc." 1)')               # the old g's findings no longer count
        r = w.eval("(audit/report)")
        by_sev = kw(r, "by-severity")
        assert by_sev.get(world.read(":warning")) >= 1
        worst = to_pylist(kw(r, "worst"))
        assert world.write(worst[0]) == "(f 3)"
        assert kw(r, "by-category").get(world.read(":correctness")) >= 1
