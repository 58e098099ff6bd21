"""The pool behind `(done expr)` in a real scratchpad: the reference solution,
typed as cells and run through the seed my-eval, solves every problem within
the round-1 budget; a hard-coded answer is recorded as a failed DONE."""
from __future__ import annotations

import pytest

import world
from world.evolve.meta import run_in_world
from world.evolve.pool import Problem, load_pool
from world.evolve.scratchpad import Scratchpad

POOL = load_pool()
ROUND_ONE = 1500


@pytest.mark.parametrize("problem", list(POOL), ids=[f"{p.id}-{p.name}" for p in POOL])
def test_reference_cells_then_done_solve_it_within_1500_steps(problem: Problem) -> None:
    w = world.open()
    pad = Scratchpad.from_problem(problem)
    cells = run_in_world(w, pad, f"{problem.solution_text()}\n(done {problem.call_text})",
                         steps=ROUND_ONE, task=problem)
    assert [c.kind for c in cells] == ["CODE"] * len(problem.solution) + ["DONE"]
    assert pad.status == "solved", pad.text()
    assert pad.steps() <= ROUND_ONE


def test_done_with_the_bare_answer_fails_and_says_why_without_revealing() -> None:
    problem = POOL.get(1)
    w = world.open()
    pad = Scratchpad.from_problem(problem)
    cells = run_in_world(w, pad, "(define (factorial n) 120) (done (factorial 5))",
                         steps=ROUND_ONE, task=problem)
    assert cells[-1].kind == "DONE" and pad.status == "open"
    assert "a hidden case gave the wrong value" in cells[-1].result
    assert "(factorial 0)" not in cells[-1].result
    cells = run_in_world(w, pad, "(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))"
                                 " (done (factorial 5))", steps=ROUND_ONE, task=problem)
    assert pad.status == "solved"


def test_done_with_the_wrong_value_fails() -> None:
    problem = POOL.get(9)
    w = world.open()
    pad = Scratchpad.from_problem(problem)
    run_in_world(w, pad, problem.solution_text() + " (done (fib 11))", steps=ROUND_ONE, task=problem)
    assert pad.status == "open"
    assert "got 89, expected 55 for (fib 10)" in pad.all()[-1].result
