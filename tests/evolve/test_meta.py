"""Metacognitive forms and the scratchpad: a table of cells and what they
record, deterministic step costs, the 25-cell cap, the problem interface,
lineage slots, and persistence on a reopened FileStorage image."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import world
from world.evolve.evaluator import EvalRefused
from world.evolve.meta import Meta, run_in_world
from world.evolve.scratchpad import MAX_CELLS, Scratchpad, ScratchpadFull
from world.evolve.slot import EvalSlot, bind
from world.lisp.env import Environment
from world.lisp.primitives import OWNER
from world.lisp.errors import LispError

FACT = "(define (fact n) (if (< n 1) 1 (* n (fact (- n 1)))))"

# (cells typed, [(type, result) of each cell recorded]); FACT is typed first in every row.
CELLS = [
    ('(goal "define fact")', [("GOAL", "define fact")]),
    ('(note "base case first")', [("NOTE", "base case first")]),
    ("(try (fact 3))", [("TRY", "6")]),
    ("(try (car 5))", [("TRY", "error: type error: car: expected a pair, got 5")]),
    ("(try (undefined-thing))", [("TRY", "error: unbound variable: undefined-thing")]),
    ("(check 6 (fact 3))", [("CHECK", "pass")]),
    ("(check (list 1 2) (list 1 (fact 2)))", [("CHECK", "pass")]),
    ("(check 7 (fact 3))", [("CHECK", "fail: expected 7, got 6")]),
    ("(check 1 (car 5))", [("ERROR", "type error: car: expected a pair, got 5")]),
    ("(fact 4)", [("CODE", "24")]),
    ("(car 5)", [("ERROR", "type error: car: expected a pair, got 5")]),
    ('(sub "base" (check 1 (fact 0)) (fact 1))', [("CHECK", "pass"), ("CODE", "1")]),
    ("(with-limit 10 (fact 20))", [("ERROR", "budget exceeded: step budget of 10 exhausted")]),
    ("(with-limit 1000 (check 2 (fact 2)))", [("CHECK", "pass")]),
    ("(with-limit 1000 (try (fact 30)))",
     [("TRY", "265252859812191058636308480000000")]),
    ("(with-limit 5 (try (fact 30)))", [("ERROR", "budget exceeded: step budget of 5 exhausted")]),
    ("(with-limit x (fact 1))", [("ERROR", "syntax error: with-limit: the limit must be a whole number of steps")]),
    ("(check 1)", [("ERROR", "syntax error: expected (check expected expr)")]),
    ("(defnative! sq (x) (* x x)) (sq 5)", [("CODE", "sq"), ("CODE", "25")]),
    ("(show-env)",
     [("NOTE", "{:defined (fact) :forms (if quote lambda let cond begin define) :natives () :version 1}")]),
    ("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env)))) (twice (fact 3))",
     [("CODE", "2"), ("CODE", "12")]),
    ("(extend-eval! 'if '(lambda (expr env) 0))",
     [("ERROR", "refused: extend-eval!: nothing changed: sanity test (if #t 1 2) failed: "
                "expected 1, got 0")]),
    ("(done (fact 5))", [("DONE", "solved: 120")]),
    ("(done 120)", [("DONE", "solved: 120")]),
    ("(done (fact 4))", [("DONE", "not solved: expected 120, got 24")]),
]


def _pad(**kw: Any) -> Scratchpad:
    kw.setdefault("expected", ("120",))
    kw.setdefault("hidden", (("(fact 0)", "1"), ("(fact 3)", "6")))
    return Scratchpad("fact", "factorial", **kw)


def _run(text: str, pad: Scratchpad | None = None) -> tuple[world.World, Scratchpad]:
    w = world.open()
    pad = pad if pad is not None else _pad()
    run_in_world(w, pad, FACT)
    run_in_world(w, pad, text)
    return w, pad


@pytest.mark.parametrize("text, cells", CELLS)
def test_cells(text: str, cells: list[tuple[str, str]]) -> None:
    _, pad = _run(text)
    got = [(c.kind, c.result) for c in pad.all()[1:]]
    assert got == cells
    assert all(c.steps >= 1 for c in pad.all())


@pytest.mark.parametrize("text, cells", CELLS)
def test_step_costs_are_deterministic(text: str, cells: list) -> None:
    first = [c.steps for c in _run(text)[1].all()]
    assert first == [c.steps for c in _run(text)[1].all()]


def test_a_budget_overrun_costs_its_whole_budget() -> None:
    _, pad = _run("(with-limit 10 (fact 20))")
    assert pad.all()[-1].steps == 10


def test_the_problem_budget_limits_every_cell() -> None:
    w = world.open()
    pad = _pad()
    cells = Meta(w.env, pad, steps=40).run(FACT + " (fact 10) (fact 1)")
    assert [c.kind for c in cells] == ["CODE", "ERROR", "ERROR"]
    assert pad.steps() == 40


def test_a_hard_coded_answer_fails_the_hidden_cases() -> None:
    _, pad = _run("(define (fact n) 120) (done (fact 5))")
    assert pad.all()[-1].result == "not solved: a hidden case gave the wrong value"
    assert pad.status == "open"
    _, pad = _run("(define (fact n) (car n)) (done 120)")
    assert pad.all()[-1].result.startswith("not solved: a hidden case raised type error")


def test_solving_marks_the_scratchpad() -> None:
    _, pad = _run('(note "go") (done (fact 5))')
    assert pad.status == "solved" and pad.solved_by == 2


def test_a_close_checker() -> None:
    _, pad = _run("(done (/ 1.0 3))", _pad(expected=("0.3334",), hidden=(), checker="close"))
    assert pad.status == "open"
    _, pad = _run("(done (/ 1.0 3))", _pad(expected=("0.33333333333333337",), hidden=(),
                                          checker="close"))
    assert pad.status == "solved"


@dataclass
class Verdict:
    solved: bool
    why: str

    def message(self) -> str:
        return self.why


class Task:
    """What the pool's Problem offers: check(evaluate, value, steps)."""

    def check(self, evaluate: Any, value: Any, steps: int) -> Verdict:
        ok = value == 120 and evaluate(world.read("(fact 6)"), steps) == 720
        return Verdict(ok, "solved" if ok else "not solved: wrong")


def test_a_task_supplies_the_check() -> None:
    w = world.open()
    pad = Scratchpad("fact")
    Meta(w.env, pad, task=Task()).run(FACT + " (done (fact 4)) (done (fact 5))")
    assert [c.result for c in pad.all()[1:]] == ["not solved: wrong", "solved: 120"]


def test_at_most_25_cells() -> None:
    w = world.open()
    pad = _pad()
    Meta(w.env, pad).run(" ".join(["(+ 1 2)"] * MAX_CELLS))
    assert len(pad) == MAX_CELLS
    with pytest.raises(ScratchpadFull, match="at most 25 cells"):
        Meta(w.env, pad).run('(note "one more")')
    assert len(pad) == MAX_CELLS


def test_metacognitive_names_are_not_bound_in_the_world() -> None:
    w, _ = _run('(goal "x") (check 1 1)')
    for name in ("goal", "note", "try", "done", "sub", "show-env", "with-limit"):
        with pytest.raises(LispError):
            w.eval(f"({name} 1)")


def test_the_scratchpad_and_its_definitions_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "w.fs"
    with world.open(path) as w:
        pad = _pad()
        w.image.begin()
        w.image.root.settings["test/pad"] = pad
        w.image.commit("a scratchpad")
        run_in_world(w, pad, FACT + ' (goal "g") (check 6 (fact 3)) (done (fact 5))')
        before = [(c.kind, c.expr, c.result, c.steps) for c in pad.all()]
    with world.open(path) as w:
        pad = w.image.root.settings["test/pad"]
        assert [(c.kind, c.expr, c.result, c.steps) for c in pad.all()] == before
        assert pad.status == "solved" and pad.defined == ("fact",)
        assert w.eval("(fact 6)") == 720


def test_a_lineage_has_its_own_evaluator() -> None:
    w = world.open()
    lineage = Environment(OWNER)
    slot = EvalSlot("lineage-a")
    bind(lineage, slot)
    pad = _pad()
    Meta(lineage, pad).run("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))"
                           " (twice 21)")
    assert [c.result for c in pad.all()] == ["2", "42"]
    assert slot.current == 2 and list(slot.constructs.keys()) == ["twice"]
    with pytest.raises(LispError):
        w.eval("(eval-in my-eval '(twice 1))")
    other = Environment(OWNER)
    bind(other, slot)
    assert Meta(other, _pad()).run("(twice 5)")[0].result == "10"


def test_refusals_inside_a_cell_change_nothing() -> None:
    w, pad = _run("(extend-eval! 'if '(lambda (expr env) (my-eval expr env))) (if #f 1 2)")
    assert [c.kind for c in pad.all()[1:]] == ["ERROR", "CODE"]
    assert pad.all()[-1].result == "2"
    with pytest.raises(EvalRefused):
        w.eval("(extend-eval! 'if 5)")


def test_helpers_and_evaluator_changes_carry_to_the_next_problem() -> None:
    w = world.open()
    first, second = _pad(), Scratchpad("next", expected=("12",))
    run_in_world(w, first, "(define (double x) (* 2 x)) "
                           "(extend-eval! 'twice '(lambda (expr env) (double (my-eval (cadr expr) env))))")
    cells = run_in_world(w, second, "(show-env) (done (twice (double 3)))")
    assert [c.kind for c in cells] == ["NOTE", "DONE"]
    assert second.status == "solved" and second.defined == ()
    assert ":forms (if quote lambda let cond begin define twice)" in cells[0].result
