"""Every problem is solved by its reference solution through the seed my-eval
within the round-1 budget of 1500 steps (definitions and the call together),
with the hidden cases also run through my-eval; a wrong solution made
through my-eval is rejected."""
from __future__ import annotations

import pytest

import world
from world.evolve import evaluator as ev
from world.evolve.pool import HIDDEN_STEPS, Problem, load_pool, through
from world.lisp.errors import BudgetExceeded

POOL = load_pool()
ROUND_ONE = 1500
HOST = 100_000          # room for the host's recording of each definition
PROBLEMS = list(POOL)
ids = [f"{p.id}-{p.name}" for p in PROBLEMS]


def my_eval_world() -> world.World:
    """A fresh world whose top-level forms go through its (seed) my-eval."""
    w = world.open()
    w.eval("(set-eval-mode! 'my-eval)")
    return w


def solve(w: world.World, problem: Problem, budget: int = ROUND_ONE) -> tuple[object, int]:
    """The reference solution then the call, all within one budget of `budget` steps of
    their own work (as a lineage's cells are scored: the host's recording of each
    definition is not the program's work)."""
    used = 0
    for form in [*problem.solution, problem.call]:
        r = w.eval_form(form, steps=budget - used + HOST)
        used += r.steps - r.host
        if used > budget:
            raise BudgetExceeded("steps", f"step budget of {budget} exhausted")
    return r.value, used


def test_the_world_runs_forms_through_the_seed() -> None:
    w = my_eval_world()
    assert world.write(w.eval("(show-eval)")) == world.write(ev.seed_forms()[0])
    w.eval("(define (sq x) (* x x))")
    assert w.eval("(sq 5)") == 25
    assert w.last.steps > 1          # interpreted: my-eval's own calls are counted


def test_the_seed_names_are_never_redefined_by_a_solution() -> None:
    seed = {ev.defined_name(f) for f in ev.seed_forms()}
    w = world.open()
    for p in PROBLEMS:
        for name in p.defines():
            assert name not in seed, (p.id, name.name)
            assert not w.env.is_bound(name), (p.id, name.name)


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_reference_solution_solves_it_through_the_seed_within_1500_steps(problem: Problem) -> None:
    w = my_eval_world()
    value, steps = solve(w, problem)
    assert world.write(value) == problem.expect_text
    assert steps <= ROUND_ONE
    result = problem.check(through(w), value, steps=HIDDEN_STEPS)
    assert result.solved, result.message(reveal=True)


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_a_constant_solution_made_through_the_seed_is_rejected(problem: Problem) -> None:
    w = my_eval_world()
    solve(w, problem)
    name = next(n for n in problem.defines() if n in _called(problem.call))
    w.eval(f"(define ({name.name} . args) '{problem.expect_text})")
    result = problem.check(through(w), problem.expect)
    assert not result.solved
    assert all(f.hidden for f in result.failures)


def _called(form: object) -> set:
    out, stack = set(), [form]
    while stack:
        x = stack.pop()
        if isinstance(x, world.lisp.types.Pair):
            out.add(x.car)
            stack.extend(x)
    return out


def test_a_budget_too_small_for_the_reference_stops_it() -> None:
    problem = POOL.get(604)
    w = my_eval_world()
    with pytest.raises(BudgetExceeded, match=r"step budget of \d+ exhausted"):
        solve(w, problem, budget=300)


def test_hidden_cases_through_my_eval_use_the_lineages_evaluator() -> None:
    """After the evaluator learns a new form, hidden cases run through the new version."""
    problem = POOL.get(1)
    w = my_eval_world()
    w.eval("(extend-eval! 'twice '(lambda (expr env) (* 2 (my-eval (cadr expr) env))))")
    w.eval("(define (factorial n) (if (= n 0) 1 (* n (factorial (- n 1)))))")
    assert problem.check(through(w), 120).solved
    evaluate = through(w)
    assert evaluate(world.read("(twice (factorial 3))"), 500) == 12
    with pytest.raises(world.LispError):
        through(world.open())(world.read("(twice 1)"), 500)     # the ground has no twice


def test_through_needs_an_environment() -> None:
    with pytest.raises(TypeError):
        through(42)
