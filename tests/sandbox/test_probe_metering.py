"""Probes: every primitive is metered in proportion to its work.

Each probe is a hostile program that used to run one primitive call without
limit (shared structure walked per path, bignums, huge strings, generated
code). Under a budget of a million steps, it must stop with a clean
`BudgetExceeded` (or return its value) in well under the time budget; the
budget's own clock is set far beyond the bound asserted, so only metering
can stop it in time.
"""
from __future__ import annotations

import gc
import time

import pytest

from world.lisp.budget import Limits
from world.lisp.env import Environment
from world.lisp.errors import BudgetExceeded, EvalError, InternalError, LispError
from world.lisp.printer import TRUNCATED, write
from world.lisp.reader import read, read_all
from world.lisp.runtime import run
from world.lisp.types import LispMap, Pair, make_list

STEPS = 1_000_000
BOUND = 3.0                 # CPU seconds; the probes take a fraction of it
LIMITS = Limits(steps=STEPS, seconds=120.0)

DAG = """
(define (dag n) (if (= n 0) '() (let ((x (dag (- n 1)))) (cons x x))))
(define (vdag n) (if (= n 0) [] (let ((x (vdag (- n 1)))) (vector x x))))
(define (mdag n) (if (= n 0) {} (let ((x (mdag (- n 1)))) (hash-map :a x :b x))))
(define (kdag n) (if (= n 0) {} (let ((x (kdag (- n 1)))) (hash-map x 1 (vector x) 2))))
(define (big-ratio k) (/ (+ (expt 3 (* 100000 k)) 1) (+ (expt 2 (* 150000 k)) 3)))
(define (times n f) (let loop ((i 0) (r #f)) (if (= i n) r (loop (+ i 1) (f i)))))
"""


def outcome(source: str, limits: Limits = LIMITS) -> tuple[object, float]:
    """The value of the last form of `source` (or the LispError it raised), and the CPU seconds
    taken: the steps stop these probes, so a loaded machine's waiting must not count."""
    env = Environment(["core", "output", "eval"])
    # The rest of the suite's heap is frozen out of the collector's walks: in a long pytest
    # process they cost the probe several times its own work. (No gc.collect() first: on
    # that heap one costs seconds.)
    gc.freeze()
    t = time.process_time()
    try:
        value: object = None
        for form in read_all(DAG + source):
            value = run(env, form, limits).value
    except LispError as e:
        assert "\n" not in str(e), str(e)
        value = e
    except InternalError as e:      # a bug, never a user's error
        pytest.fail(f"InternalError: {e}")
    finally:
        took = time.process_time() - t
        gc.unfreeze()
    return value, took


def spent(source: str, kind: str = "steps") -> None:
    """`source` stops with budget exceeded (of `kind`), within the bound."""
    value, took = outcome(source)
    assert isinstance(value, BudgetExceeded), value
    assert value.budget == kind, value
    assert took < BOUND, took


# ---------------------------------------------------------------- shared structure

SHARED = [
    # equal?, hashing and everything built on them: a step per node visited
    ("equal-dag", "(equal? (dag 60) (dag 60))"),
    ("equal-vector-dag", "(equal? (vdag 60) (vdag 60))"),
    ("equal-map-dag", "(equal? (mdag 60) (mdag 60))"),
    ("member-dag", "(member (dag 60) (list 1 2 (dag 60)))"),
    ("assoc-dag", "(assoc (dag 60) (list (cons (dag 60) 1)))"),
    ("delete-dag", "(delete (dag 60) (list (dag 60)))"),
    ("delete-duplicates-dag", "(delete-duplicates (list (dag 60) (dag 60)))"),
    ("map-key-dag", "(get (hash-map (dag 60) 1) (dag 60))"),
    ("map-literal-key-dag", "(let ((k (dag 60))) (get {k 1} (dag 60)))"),
    ("vector-key-dag", "(contains? (hash-map (vdag 60) 1) (vdag 60))"),
    ("map-key-map-dag", "(get (hash-map (mdag 60) 1) (mdag 60))"),
    ("map-equal-keys", "(equal? (hash-map (dag 60) 1) (hash-map (dag 60) 1))"),
    # printing: a step per node visited
    ("write-dag", "(write (dag 60))"),
    ("display-dag", "(display (dag 60))"),
    ("write-vector-dag", "(write (vdag 60))"),
    ("write-map-dag", "(write (mdag 60))"),
    ("write-map-key-dag", "(write (kdag 60))"),
    ("keys-of-dag-keys", "(keys (hash-map (dag 60) 1 (dag 59) 2))"),
]


@pytest.mark.parametrize("name, source", SHARED, ids=[n for n, _ in SHARED])
def test_shared_structure_is_charged_per_visit(name: str, source: str) -> None:
    spent(source)


ERRORS = [
    # error messages print at most a few nodes of a value, whatever its size
    ("error-irritant", "(error \"x\" (dag 60))"),
    ("error-many-irritants", "(apply error \"x\" (make-list 100000 (dag 60)))"),
    ("error-message-dag", "(error (dag 60))"),
    ("raise-dag", "(raise (dag 60))"),
    ("type-error-car", "(car (vdag 60))"),
    ("type-error-plus", "(+ 1 (dag 60))"),
    ("type-error-string", "(string-length (mdag 60))"),
    ("type-error-vector-ref", "(vector-ref (dag 60) 0)"),
    ("index-error-big", "(vector-ref [1 2] (expt 10 100000))"),
    ("huge-string-irritant", "(error \"x\" (make-string 10000000 #\\a))"),
]


@pytest.mark.parametrize("name, source", ERRORS, ids=[n for n, _ in ERRORS])
def test_error_messages_are_bounded(name: str, source: str) -> None:
    value, took = outcome(source)
    assert isinstance(value, EvalError), value
    assert len(str(value)) < 1000, len(str(value))
    assert took < BOUND, took


# ---------------------------------------------------------------- numbers

NUMBERS = [
    ("ratio-less", "(let ((a (big-ratio 1)) (b (big-ratio 1))) (times 1000000 (lambda (i) (< a b))))"),
    ("ratio-floor", "(let ((a (big-ratio 1))) (times 1000000 (lambda (i) (floor a))))"),
    ("ratio-round", "(let ((a (big-ratio 1))) (times 1000000 (lambda (i) (round a))))"),
    ("ratio-plus", "(let ((a (big-ratio 1))) (times 1000000 (lambda (i) (+ a a))))"),
    ("ratio-max", "(let ((a (big-ratio 1))) (times 1000000 (lambda (i) (max a a 1/3))))"),
    ("ratio-inexact", "(let ((a (big-ratio 1))) (times 1000000 (lambda (i) (exact->inexact a))))"),
    ("bignum-write", "(let ((n (expt 7 70000))) (times 1000000 (lambda (i) (write n))))"),
    ("bignum-number->string", "(let ((n (expt 7 70000))) (times 1000000 (lambda (i) (number->string n))))"),
    ("bignum-times", "(let ((n (expt 7 70000))) (times 1000000 (lambda (i) (* n n))))"),
    ("bignum-quotient", "(let ((n (expt 7 70000)) (d (expt 3 60000))) (times 1000000 (lambda (i) (quotient n d))))"),
    ("bignum-gcd", "(let ((n (- (expt 7 70000) 1)) (d (- (expt 3 100000) 1))) (times 1000000 (lambda (i) (gcd n d))))"),
    ("bignum-sqrt", "(let ((n (+ (expt 7 70000) 1))) (times 1000000 (lambda (i) (sqrt n))))"),
    ("bignum-expt", "(times 1000000 (lambda (i) (expt 7 (+ 70000 i))))"),
    ("bignum-string->number", "(let ((s (make-string 60000 #\\7))) (times 1000000 (lambda (i) (string->number s))))"),
    ("bignum-read", "(let ((s (make-string 60000 #\\7))) (times 1000000 (lambda (i) (read s))))"),
]


@pytest.mark.parametrize("name, source", NUMBERS, ids=[n for n, _ in NUMBERS])
def test_big_numbers_are_charged_by_size(name: str, source: str) -> None:
    spent(source)


def test_a_huge_decimal_string_is_refused_before_it_is_parsed() -> None:
    spent("(string->number (make-string 1000000 #\\7))", "integer")


def test_doubling_a_sum_of_two_variables_obeys_the_integer_limit() -> None:
    value, took = outcome("(let loop ((x 1)) (loop (+ x x)))",
                          Limits(steps=10**9, seconds=120.0, int_bits=20_000))
    assert isinstance(value, BudgetExceeded) and value.budget == "integer", value
    assert took < BOUND, took


def test_doubling_a_sum_of_two_variables_is_charged_by_size() -> None:
    spent("(let loop ((x 1)) (loop (+ x x)))")


def test_bignum_text_is_exact_past_pythons_digit_cap() -> None:
    import sys
    value, _ = outcome("(number->string (expt 7 100000))", Limits(steps=10_000_000, seconds=120.0))
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert value == str(7 ** 100000)
    finally:
        sys.set_int_max_str_digits(old)


# ---------------------------------------------------------------- strings, lists, sorting

TEXT = [
    ("string-append-doubling", "(let loop ((s \"ab\")) (loop (string-append s s)))", ("steps", "memory", "string")),
    ("string-join-doubling", "(let loop ((l (list \"ab\" \"cd\"))) (loop (list (string-join l \"\") (string-join l \"\"))))",
     ("steps", "memory", "string")),
    ("make-string-huge", "(make-string 100000000 #\\a)", ("string",)),
    ("string-split-loop", "(let ((s (make-string 1000000 #\\,))) (times 1000000 (lambda (i) (string-split s #\\,))))",
     ("steps", "memory", "list")),
    ("list->string-loop", "(let ((l (make-list 1000000 #\\a))) (times 1000000 (lambda (i) (list->string l))))",
     ("steps", "memory")),
    ("substring-loop", "(let ((s (make-string 10000000 #\\a))) (times 1000000 (lambda (i) (substring s 1))))",
     ("steps", "memory")),
    ("sort-comparator", "(sort (iota 300000) (lambda (a b) (< b a)))", ("steps",)),
    ("read-long-list", "(read (string-append \"(\" (make-string 3000000 #\\1) \" \" (string-join (make-list 400000 \"x\")) \")\"))",
     ("steps", "memory")),
]


@pytest.mark.parametrize("name, source, kinds", TEXT, ids=[n for n, _, _ in TEXT])
def test_text_and_lists_are_charged_by_size(name: str, source: str, kinds: tuple) -> None:
    value, took = outcome(source)
    assert isinstance(value, BudgetExceeded) and value.budget in kinds, value
    assert took < BOUND, took


# ---------------------------------------------------------------- code a program makes

CODE = [
    ("eval-deep-begin", "(eval (cons 'begin (make-list 1000000 1)))"),
    ("eval-dag-code", "(eval (let loop ((i 0) (x 1)) (if (= i 60) x (loop (+ i 1) (list '+ x x)))))"),
    ("eval-quasi-dag", "(eval (list 'quasiquote (let loop ((i 0) (x '(unquote 1))) (if (= i 60) x (loop (+ i 1) (list x x))))))"),
    ("macro-dag", "(defmacro grow (n) (let loop ((i 0) (x 1)) (if (= i n) x (loop (+ i 1) (list '+ x x))))) (grow 60)"),
]


@pytest.mark.parametrize("name, source", CODE, ids=[n for n, _ in CODE])
def test_compiling_made_code_is_charged_per_node(name: str, source: str) -> None:
    spent(source)


def test_rebinding_a_primitive_recompiles_under_the_budget() -> None:
    many = " ".join(f"(define (f{i} x) (car (cdr (car x))))" for i in range(300))
    env = Environment(["core", "output", "eval"])
    for form in read_all(many):
        run(env, form, LIMITS)
    t = time.process_time()
    with pytest.raises(BudgetExceeded):
        run(env, read("(define (car x) x)"), Limits(steps=2_000, seconds=120.0))
    assert time.process_time() - t < BOUND


# ---------------------------------------------------------------- deep values in the printer and equal?

def _nested(depth: int, wrap) -> object:
    v: object = None
    for _ in range(depth):
        v = wrap(v)
    return v


DEEP = [
    ("list", lambda v: Pair(v, None)),
    ("vector", lambda v: (v,)),
    ("map-value", lambda v: LispMap([(1, v)])),
    ("map-key", lambda v: LispMap([(v, 1)])),
]


@pytest.mark.parametrize("name, wrap", DEEP, ids=[n for n, _ in DEEP])
def test_deep_values_print_without_recursion(name: str, wrap) -> None:
    depth = {"map-key": 1_200, "map-value": 20_000}.get(name, 100_000)
    v = _nested(depth, wrap)
    text = write(v)
    assert len(text) > depth
    assert write(v, limit=50).endswith(TRUNCATED)


DEEP_LISP = [
    ("list", "(list x)"), ("vector", "(vector x)"), ("map-value", "(hash-map 1 x)"),
    ("map-key", "(hash-map x 1)"),
]


@pytest.mark.parametrize("name, wrap", DEEP_LISP, ids=[n for n, _ in DEEP_LISP])
def test_deep_values_compare_and_print_in_lisp(name: str, wrap: str) -> None:
    depth = {"map-key": 1_200, "map-value": 20_000}.get(name, 100_000)
    make = f"(let loop ((i 0) (x '())) (if (= i {depth}) x (loop (+ i 1) {wrap})))"
    value, took = outcome(f"(define a {make}) (define b {make}) "
                          "(list (equal? a b) (get (hash-map a 1) b) (begin (write a) 'ok))",
                          Limits(steps=10_000_000, seconds=120.0))
    assert write(value) == "(#t 1 ok)", value
    assert took < BOUND * 2, took


def test_the_printer_limit_bounds_a_dag() -> None:
    v: object = None
    for _ in range(60):
        v = Pair(v, v)
    t = time.process_time()
    text = write(v, limit=1000)
    assert text.endswith(TRUNCATED) and len(text) <= 1000 + len(TRUNCATED)
    assert time.process_time() - t < BOUND


def test_cyclic_boxes_compare_and_hash() -> None:
    value, took = outcome("(let ((a (box 0)) (b (box 0))) (set-box! a a) (set-box! b b) "
                          "(list (equal? a b) (get (hash-map a 1) a)))")
    assert write(value) == "(#t 1)"
    assert took < BOUND


def test_hash_of_a_deep_key_is_bounded() -> None:
    deep = _nested(100_000, lambda v: (v,))
    m = LispMap([(deep, 1)])
    assert m.get(_nested(100_000, lambda v: (v,))) == 1
    assert m.get(make_list([1])) is False
