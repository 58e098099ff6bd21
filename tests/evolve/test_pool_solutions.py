"""Every problem is solved by its reference solution on the ground evaluator,
in a real world, within the round-1 budget; wrong solutions (a hard-coded
answer, a constant, an off-by-one) are rejected by the hidden cases."""
from __future__ import annotations

import pytest

import world
from world.evolve.pool import HIDDEN_STEPS, Problem, load_pool
from world.lisp.types import Pair, Symbol

POOL = load_pool()
ROUND_ONE = 1500
PROBLEMS = list(POOL)
ids = [f"{p.id}-{p.name}" for p in PROBLEMS]


def solve(w: world.World, problem: Problem) -> tuple[object, int]:
    """Evaluate the reference solution and the call in `w`; the call's value and the total steps."""
    steps = 0
    for form in problem.solution:
        steps += w.eval_form(form, steps=ROUND_ONE).steps
    result = w.eval_form(problem.call, steps=ROUND_ONE)
    return result.value, steps + result.steps


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_reference_solution_solves_it_on_the_ground(problem: Problem) -> None:
    w = world.open()
    value, steps = solve(w, problem)
    assert world.write(value) == problem.expect_text
    assert steps <= ROUND_ONE
    result = problem.check(w, value)
    assert result.solved, result.message(reveal=True)
    assert result.failures == ()


def test_reference_solutions_survive_a_reopened_image(tmp_path) -> None:
    """Definitions committed to an image are what the checker sees after reopening it."""
    path = tmp_path / "pool.fs"
    chosen = [POOL.get(i) for i in (4, 104, 205, 604, 803)]
    with world.open(path) as w:
        for p in chosen:
            w.eval(p.solution_text())
    with world.open(path) as w:
        for p in chosen:
            value = w.eval(p.call_text)
            assert p.check(w, value).solved, p.name


# ---------------------------------------------------------------- wrong solutions

def entry_call(problem: Problem) -> tuple[Symbol, Pair]:
    """The first call in the problem's call whose operator the solution defines, and its operands."""
    defined = set(problem.defines())
    stack = [problem.call]
    while stack:
        x = stack.pop(0)
        if type(x) is Pair:
            if x.car in defined:
                return x.car, x.cdr
            stack.extend(x)
    raise AssertionError(f"problem {problem.id}: no defined procedure is called")


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_claiming_the_answer_without_definitions_is_rejected(problem: Problem) -> None:
    w = world.open()
    result = problem.check(w, problem.expect)
    assert not result.solved
    assert all(f.hidden and "unbound variable" in f.error for f in result.failures)
    assert len(result.failures) == len(problem.hidden)


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_a_constant_answer_is_rejected(problem: Problem) -> None:
    w = world.open()
    w.eval(problem.solution_text())
    name, _ = entry_call(problem)
    w.eval(f"(define ({name.name} . args) '{problem.expect_text})")
    result = problem.check(w, problem.expect)
    assert not result.solved
    assert result.failures and all(f.hidden for f in result.failures)


@pytest.mark.parametrize("problem", PROBLEMS, ids=ids)
def test_an_answer_hard_coded_for_the_visible_call_is_rejected(problem: Problem) -> None:
    """Right for exactly the operands of the visible call and wrong for any other: the hidden
    cases must notice."""
    w = world.open()
    w.eval(problem.solution_text())
    name, operands = entry_call(problem)
    args = " ".join(world.write(a) for a in operands or ())
    w.eval(f"(define ({name.name} . args) (if (equal? args (list {args})) '{problem.expect_text} 'wrong))")
    result = problem.check(w, problem.expect)
    assert not result.solved, problem.name


OFF_BY_ONE = {
    1: "(define (factorial n) (if (= n 1) 1 (* n (factorial (- n 1)))))",
    2: "(define (rev lst) (if (null? (cdr lst)) lst (append (rev (cdr lst)) (list (car lst)))))",
    3: "(define (flatten x) (cond ((null? x) '(())) ((pair? x) (append (flatten (car x)) (flatten (cdr x)))) (else (list x))))",
    5: "(define (sum-list lst) (if (null? (cdr lst)) (car lst) (+ (car lst) (sum-list (cdr lst)))))",
    8: "(define (range a b) (if (> a b) '() (cons a (range (+ a 1) b))))",
    9: "(define (fib-iter a b n) (if (= n 1) a (fib-iter b (+ a b) (- n 1)))) (define (fib n) (fib-iter 1 1 (- n 1)))",
    14: "(define (index-from x lst i) (cond ((null? lst) -1) ((equal? x (car lst)) i) (else (index-from x (cdr lst) (+ i 1))))) (define (index-of x lst) (index-from x lst 1))",
    116: "(define (pascal n) (if (= n 4) '(1 4 6 4 1) (list 1 n 1)))",
    119: "(define (to-roman n) (cond ((= n 0) \"\") ((>= n 1000) (string-append \"M\" (to-roman (- n 1000)))) ((>= n 900) (string-append \"CM\" (to-roman (- n 900)))) ((>= n 100) (string-append \"C\" (to-roman (- n 100)))) ((>= n 90) (string-append \"XC\" (to-roman (- n 90)))) ((>= n 10) (string-append \"X\" (to-roman (- n 10)))) ((>= n 4) (string-append \"IV\" (to-roman (- n 4)))) (else (string-append \"I\" (to-roman (- n 1))))))",
    300: "(define (palindrome? s) (char=? (string-ref s 0) (string-ref s (- (string-length s) 1))))",
    301: "(define (caesar s k) (list->string (map (lambda (c) (if (char-alphabetic? c) (integer->char (+ (char->integer c) k)) c)) (string->list s))))",
    501: "(define (prime? n) (if (< n 4) #t (not (= 0 (remainder n 2)))))",
    502: "(define (collatz-steps n) (if (= n 1) 1 (+ 1 (collatz-steps (if (even? n) (quotient n 2) (+ (* 3 n) 1))))))",
    503: "(define (modpow b e m) (remainder (expt b e) m))",
    504: "(define (totient n) (- n (quotient n 3)))",
    506: "(define (digits n) (if (< n 10) (list n) (cons (remainder n 10) (digits (quotient n 10)))))",
    600: "(define (bsearch lst x) (let ((tail (member x lst))) (if tail (- (length lst) (length tail) -1) -1)))",
    601: "(define (merge-sort lst) (delete-duplicates (sort lst <)))",
    604: "(define (queens n) (if (= n 4) 2 (- n 1)))",
    607: "(define (ackermann m n) (+ m n 2))",
    705: "(define (nnf e) (if (pair? e) (if (eq? (car e) 'not) (if (pair? (cadr e)) (cons (if (eq? (car (cadr e)) 'and) 'or 'and) (map (lambda (x) (list 'not x)) (cdr (cadr e)))) e) e) e))",
    801: "(define (Y g) (lambda (n) 120))",
    802: "(define (church-succ n) (lambda (f) (lambda (x) (f ((n f) x))))) (define (int->church k) (if (= k 0) (lambda (f) (lambda (x) x)) (church-succ (int->church (- k 1))))) (define (church->int n) ((n (lambda (x) (+ x 1))) 0)) (define (church-pred n) (lambda (f) (lambda (x) ((n f) x)))) (define (church-sub m n) (int->church (- (church->int m) (church->int n))))",
    803: "(define (make-stack) (lambda (msg) (if (eq? msg 'push) (lambda (x) x) 2)))",
}


@pytest.mark.parametrize("pid,source", sorted(OFF_BY_ONE.items()), ids=[str(i) for i in sorted(OFF_BY_ONE)])
def test_plausible_but_wrong_solutions_are_rejected(pid: int, source: str) -> None:
    problem = POOL.get(pid)
    w = world.open()
    w.eval(source)
    try:
        value = w.eval(problem.call_text, steps=ROUND_ONE)
    except world.LispError:
        value = problem.expect          # an agent could still claim the answer with (done 120)
    result = problem.check(w, value, steps=HIDDEN_STEPS)
    assert not result.solved, pid
    assert any(f.hidden for f in result.failures)


def test_a_runaway_hidden_case_is_stopped_by_the_budget() -> None:
    problem = POOL.get(1)
    w = world.open()
    w.eval(OFF_BY_ONE[1])
    result = problem.check(w, 120)
    assert [f.expr for f in result.failures if f.error] == ["(factorial 0)"]
    assert "budget" in result.failures[0].error
