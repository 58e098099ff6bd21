"""Rebuilding reproduces the world: history replays in the order it happened, one form at a
time, and each replayed definition must have the state its commit recorded."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import world
from world.build import build_prod, rebuild
from world.history.rebuild import atomic_plan
from world.history.views import findings

ROOT = Path(__file__).resolve().parents[2]
MODES = (("atomic", False), ("human", False), ("human", True))


def rebuilt(w: world.World, tmp_path: Path, exprs: list[str]) -> dict[str, list[Any]]:
    """Rebuild `w` every way; the written values of `exprs` live and in each rebuilt image."""
    out = {"live": [world.write(w.eval(e)) for e in exprs]}
    for mode, prod in MODES:
        name = f"{mode}-prod" if prod else mode
        dest = str(tmp_path / f"{name}.fs")
        r = build_prod(w, dest) if prod else rebuild(w, dest, mode)
        assert r.ok, (name, r.mismatches, r.errors, r.failed_checks)
        with world.open(dest) as d:
            out[name] = [world.write(d.eval(e)) for e in exprs]
            assert findings(d.image.root) == [], name
    return out


def same(values: dict[str, list[Any]]) -> None:
    live = values["live"]
    for name, got in values.items():
        assert got == live, (name, got, live)


def test_a_value_computed_before_a_redefinition_stays_what_it_was(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval("(define x 1) (define y (+ x 1)) (define x 5)")
        w.eval('(commit "x and y")')
        values = rebuilt(w, tmp_path, ["(list x y)"])
    assert values["live"] == ["(5 2)"]
    same(values)


def test_global_set_and_a_form_that_made_several_commits_replay_once(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval("(define n 1) (define (inc!) (set! n (+ n 1)))")
        w.eval("(inc!) (inc!) (set! n (* n 10))")
        w.eval("(define z (begin (inc!) 7))")          # one form: a define and a set of n
        w.eval('(defrule no-z :category :style :severity :info :when (lambda (m) #f) :message "z")')
        w.eval('(commit "counting")')
        hist = w.image.root.history
        assert [c.kind for c in hist.versions("n")][:2] == ["set", "set"]
        forms = [f for f in atomic_plan(hist) if f.source == "(define z (begin (inc!) 7))"]
        assert len(forms) == 1 and forms[0].symbols == ["z", "n"]
        values = rebuilt(w, tmp_path, ["n", "z"])
    assert values["live"] == ["31", "7"]
    same(values)


def test_records_and_their_migration_are_reproduced(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval("(define-record point x y) (define p (make-point 1 2))")
        w.eval("(define-record point x y (z 9))")         # migrates p in place
        w.eval('(define (norm p) "Sum." (+ (point-x p) (point-y p) (point-z p)))')
        w.eval('(commit "points")')
        values = rebuilt(w, tmp_path, ["p", "(norm p)", "(norm (make-point 1 1 1))"])
    assert values["live"][:2] == ["#<point x=1 y=2 z=9>", "12"]
    same(values)


def test_uncheck_replays_and_a_wrong_check_does_not_block(image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval('(define (sq x) "Square." (* x x))')
        w.eval("(check 10 (sq 3)) (check 4 (sq 2))")
        w.eval("(uncheck 'sq)")
        w.eval("(check 9 (sq 3))")
        w.eval('(commit "squares")')
        values = rebuilt(w, tmp_path, ["(sq 3)"])
        same(values)
        r = rebuild(w, str(tmp_path / "again.fs"), "human")
        assert [o.passed for o in r.checks] == [True]
    with world.open(str(tmp_path / "atomic.fs")) as a:
        assert [c.kind for c in a.image.root.history.versions("sq")] == ["uncheck", "define"]


def make_unreproducible(image: str) -> None:
    """A value that depends on what was pending when it was made: a replay, which groups
    human commits only at the end, sees a different count."""
    with world.open(image) as w:
        w.eval('(define a 1) (commit "a")')
        w.eval("(define seen (length (history/pending)))")
        w.eval("(define (after) seen)")
        w.eval('(commit "seen")')
        assert w.eval("seen") == 0


def test_a_replay_that_cannot_reproduce_a_value_names_it(image: str, tmp_path: Path) -> None:
    make_unreproducible(image)
    with world.open(image) as w:
        r = rebuild(w, str(tmp_path / "r.fs"), "atomic")
    assert not r.ok and [m[0] for m in r.mismatches] == ["seen"]
    assert r.mismatches[0][2] == "a different definition" and r.mismatches[0][1].startswith("commit ")


def test_the_command_exits_non_zero_on_a_mismatch(image: str, tmp_path: Path) -> None:
    make_unreproducible(image)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "repl.cli", "rebuild", "--from", "human", image,
                        str(tmp_path / "r.fs")], capture_output=True, text=True, env=env,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "mismatch: seen: replay made a different definition, not what commit" in r.stdout


@pytest.mark.parametrize("prod", [False, True])
def test_an_undefined_name_stays_undefined(prod: bool, image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval("(define gone 1) (define kept (+ gone 1)) (undefine 'gone)")
        w.eval('(defrule r1 :category :style :severity :info :when (lambda (m) #f) :message "r")')
        w.eval("(undefine 'r1)")
        w.eval('(commit "gone")')
        dest = str(tmp_path / "d.fs")
        r = build_prod(w, dest) if prod else rebuild(w, dest, "human")
    assert r.ok, (r.mismatches, r.errors)
    with world.open(dest) as d:
        assert d.eval("kept") == 2 and "gone" not in d.image.root.definitions


def test_a_form_that_fails_on_replay_is_an_error_and_the_rest_keeps_its_milestones(
        image: str, tmp_path: Path) -> None:
    with world.open(image) as w:
        w.eval('(define a 1) (world/save "s") (commit "a")')
        w.eval('(define b 2) (define v (if (world/open-snapshot "s") 1 2)) (define c 3)')
        w.eval('(commit "b v c")')
        r = rebuild(w, str(tmp_path / "r.fs"), "human")
    assert [e[0] for e in r.errors] == ["v"], r.errors
    assert not r.ok and not r.mismatches
    with world.open(str(tmp_path / "r.fs")) as d:
        hist = d.image.root.history
        groups = {h.message: sorted(hist.commits[s].symbol for s in h.seqs)
                  for h in hist.humans.values()}
        assert groups["a"] == ["a"] and groups["b v c"] == ["b", "c"]
        assert findings(d.image.root) == [] and d.eval("(+ a b c)") == 6


def test_a_form_over_the_rebuilds_time_budget_fails_alone(image: str, tmp_path: Path) -> None:
    from world.lisp.budget import Limits
    with world.open(image) as w:
        w.eval("(define before 1)")
        w.eval("(define slow (let loop ((i 0)) (if (< i 3000000) (loop (+ i 1)) i)))")   # ~0.15 s
        w.eval("(define after (+ before 1))")
        w.eval('(commit "three")')
    with world.open(image, limits=Limits(seconds=0.01)) as w:
        r = rebuild(w, str(tmp_path / "r.fs"), "atomic")
    assert [e[0] for e in r.errors] == ["slow"] and "time" in r.errors[0][1]
    with world.open(str(tmp_path / "r.fs")) as d:
        assert d.eval("after") == 2 and "slow" not in d.image.root.definitions
