"""Budget tests: every resource a program can spend stops it cleanly, naming the budget.

Each case gives a program, the limits it runs under and the budget that must
stop it; the world must keep working afterwards.
"""
from __future__ import annotations

import time

import pytest

import world
from world.lisp.errors import BudgetExceeded, LispError, ReadError


def bug(reason: str) -> pytest.MarkDecorator:
    """Mark a case that fails because of a known bug in the language."""
    return pytest.mark.xfail(reason="BUG: " + reason, strict=True)


INFINITE = "(let loop ((i 0)) (loop (+ i 1)))"
BIG = 10**12


def exceeded(source: str, limits: world.Limits | None = None, steps: int | None = None,
             setup: str = "") -> tuple[BudgetExceeded, float, world.World]:
    """Run `source` expecting a BudgetExceeded; return it, the CPU seconds taken (a loaded
    machine's waiting does not count, so the bounds below cannot flake) and the world."""
    w = world.open(limits=limits or world.Limits(), out=lambda text: None)
    if setup:
        w.eval(setup)
    t0 = time.process_time()
    with pytest.raises(BudgetExceeded) as info:
        w.eval(source, steps=steps)
    return info.value, time.process_time() - t0, w


# ---------------------------------------------------------------- steps

def test_step_budget_names_itself() -> None:
    e, _, w = exceeded(INFINITE, steps=1000)
    assert e.budget == "steps"
    assert "1000" in str(e)
    assert w.eval("(+ 1 2)") == 3


def test_step_budget_from_limits() -> None:
    e, _, _ = exceeded(INFINITE, limits=world.Limits(steps=5000))
    assert e.budget == "steps"


def test_guard_cannot_swallow_a_budget() -> None:
    e, _, _ = exceeded("(guard (e (#t 'caught)) (let loop () (loop)))", steps=1000)
    assert e.budget == "steps"


EXACT = [
    ("(let loop ((i 0)) (if (= i 10) i (loop (+ i 1))))", 11),
    ("(let loop ((i 0)) (if (= i 12345) i (loop (+ i 1))))", 12346),
    ("(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) (fib 15)", 1973),
]


@pytest.mark.parametrize("source, cost", EXACT)
def test_exact_step_boundary(source: str, cost: int) -> None:
    w = world.open()
    w.eval(source)
    assert w.last.steps == cost
    w = world.open()
    w.eval(source, steps=cost)
    assert w.last.steps == cost
    w = world.open()
    with pytest.raises(BudgetExceeded) as info:
        w.eval(source, steps=cost - 1)
    assert info.value.budget == "steps"


# Primitives charge work proportional to their input: a big list already built
# (under the default budget) cannot be processed under a tiny one.
PROPORTIONAL = [
    "(sort big <)", "(append big big)", "(length big)", "(reverse big)", "(map car big)",
    "(list->vector big)", "(apply + big)", "(list-copy big)", "(vector->list (list->vector big))",
    "(iota 100000)", "(string-append (make-string 100000 #\\a) \"b\")",
]


@pytest.mark.parametrize("source", PROPORTIONAL)
def test_primitives_charge_proportional_work(source: str) -> None:
    e, _, _ = exceeded(source, steps=100, setup="(define big (iota 100000))")
    assert e.budget == "steps"


def test_sort_cost_grows_with_input() -> None:
    w = world.open()
    w.eval("(define small (iota 100)) (define big (iota 10000))")
    w.eval("(sort small <)")
    small = w.last.steps
    w.eval("(sort big <)")
    assert w.last.steps > 50 * small


# ---------------------------------------------------------------- memory and sizes

SIZES = [
    # (source, limits, acceptable budget names)
    ("(let loop ((l '())) (loop (cons 1 l)))",
     world.Limits(steps=BIG, memory=10 * 2**20), {"memory"}),
    ("(let loop ((l '())) (loop (list 1 2 3 l)))",
     world.Limits(steps=BIG, memory=10 * 2**20), {"memory"}),
    ('(let loop ((s "a")) (loop (string-append s s)))',
     world.Limits(steps=BIG, memory=10 * 2**20), {"string", "memory"}),
    ('(let loop ((s "a")) (loop (string-append s s)))',
     world.Limits(steps=BIG), {"string", "memory"}),
    ("(let loop ((v [1])) (loop (vector-append v v)))",
     world.Limits(steps=BIG, memory=10 * 2**20), {"list", "memory"}),
    ("(expt 10 1000000000)", world.Limits(), {"integer"}),
    ("(expt 2 2000000)", world.Limits(), {"integer"}),
    ("(* (expt 2 900000) (expt 2 900000))", world.Limits(), {"integer"}),
    ("(let loop ((n 2)) (loop (* n n)))", world.Limits(steps=BIG), {"integer"}),
    ("(make-string 2000000000 #\\a)", world.Limits(), {"string"}),
    ("(make-list 2000000000 0)", world.Limits(), {"list"}),
    ("(iota 2000000000)", world.Limits(), {"list"}),
    ("(make-vector 2000000000 0)", world.Limits(), {"list"}),
]


@pytest.mark.parametrize("source, limits, budgets", SIZES)
def test_size_budgets(source: str, limits: world.Limits, budgets: set[str]) -> None:
    e, seconds, w = exceeded(source, limits=limits)
    assert e.budget in budgets, f"{e.budget}: {e}"
    assert seconds < 5
    assert w.eval("(+ 1 2)") == 3


REFUSED_AT_ONCE = [
    ("(expt 10 1000000000)", "integer"),
    ("(make-string 2000000000 #\\a)", "string"),
    ("(make-list 2000000000 0)", "list"),
]


@pytest.mark.parametrize("source, budget", REFUSED_AT_ONCE)
def test_huge_requests_are_refused_at_once(source: str, budget: str) -> None:
    e, seconds, _ = exceeded(source)
    assert e.budget == budget
    assert seconds < 1


def test_memory_is_accounted_deterministically() -> None:
    """The same cons loop stops at the same step every time."""
    from world.lisp.env import Environment
    from world.lisp.primitives import OWNER
    from world.lisp.reader import read
    from world.lisp.runtime import run
    limits = world.Limits(steps=BIG, memory=2**20)
    counts = []
    for _ in range(2):
        env = Environment(OWNER)     # a bare environment: no transaction puts n back
        run(env, read("(define n 0)"))
        with pytest.raises(BudgetExceeded) as info:
            run(env, read("(let loop ((l '())) (set! n (+ n 1)) (loop (cons 1 l)))"), limits)
        assert info.value.budget == "memory"
        counts.append(run(env, read("n")).value)
    assert counts[0] == counts[1] > 0


# ---------------------------------------------------------------- output

def test_output_budget() -> None:
    e, _, _ = exceeded('(let loop ((i 0)) (display "hello") (loop (+ i 1)))',
                       limits=world.Limits(output=1000))
    assert e.budget == "output"


def test_output_budget_keeps_what_fits() -> None:
    buf: list[str] = []
    w = world.open(limits=world.Limits(output=100), out=buf.append)
    with pytest.raises(BudgetExceeded):
        w.eval('(let loop () (display "0123456789") (loop))')
    assert 0 < len("".join(buf)) <= 100


def test_one_huge_display_is_refused() -> None:
    e, _, _ = exceeded("(display (make-string 5000 #\\x))", limits=world.Limits(output=1000))
    assert e.budget == "output"


# ---------------------------------------------------------------- time

def test_wall_clock_deadline() -> None:
    e, seconds, w = exceeded(INFINITE, limits=world.Limits(steps=BIG, seconds=0.5))
    assert e.budget == "time"
    assert seconds < 5
    assert w.eval("(+ 1 2)") == 3


def test_wall_clock_deadline_in_non_tail_loop() -> None:
    e, seconds, _ = exceeded("(define (f) (f)) (f)", limits=world.Limits(steps=BIG, seconds=0.5))
    assert e.budget == "time"
    assert seconds < 5


# ---------------------------------------------------------------- depth

def test_depth_budget() -> None:
    e, _, w = exceeded("(sum 100000)", limits=world.Limits(depth=1000),
                       setup="(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))")
    assert e.budget == "depth"
    assert w.eval("(sum 100)") == 5050


def test_guard_cannot_swallow_depth() -> None:
    e, _, _ = exceeded("(guard (e (#t 'caught)) (sum 100000))", limits=world.Limits(depth=1000),
                       setup="(define (sum n) (if (= n 0) 0 (+ n (sum (- n 1)))))")
    assert e.budget == "depth"


def test_runaway_macro_expansion() -> None:
    e, _, _ = exceeded("(loopm)", limits=world.Limits(depth=2000),
                       setup="(defmacro loopm () (list 'loopm))")
    assert e.budget in ("depth", "steps")


# ---------------------------------------------------------------- reading

READ_DEPTH = [
    '(read "' + "(" * 5000 + '")',
    '(read "' + "(" * 5000 + ")" * 5000 + '")',
    '(read "' + "[" * 5000 + "]" * 5000 + '")',
    '(read "' + "{:a " * 5000 + "}" * 5000 + '")',
    '(read "' + "'" * 5000 + 'a")',
    '(read "' + "`," * 2500 + 'a")',
]


@pytest.mark.parametrize("source", READ_DEPTH, ids=lambda s: s[:12])
def test_read_nesting_depth(source: str) -> None:
    w = world.open()
    with pytest.raises(ReadError):
        w.eval(source)
    assert w.eval("(+ 1 2)") == 3


def test_program_nesting_depth() -> None:
    w = world.open()
    with pytest.raises(ReadError):
        w.eval("(" * 5000 + ")" * 5000)
    assert w.eval("(+ 1 2)") == 3


def test_huge_integer_literal_is_refused() -> None:
    w = world.open()
    t0 = time.process_time()
    with pytest.raises((BudgetExceeded, ReadError)):
        w.eval("(quote " + "9" * 2_000_000 + ")")
    assert time.process_time() - t0 < 1       # CPU time: load cannot flake it


def test_budget_errors_are_lisp_errors() -> None:
    e, _, _ = exceeded(INFINITE, steps=10)
    assert isinstance(e, LispError)
    assert str(e).count("\n") == 0
