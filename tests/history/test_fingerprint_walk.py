"""The fast fingerprint walk makes exactly the reference walk's text: every state hash
recorded before it still verifies. Values past the cap, and cycles, go to the reference."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import world
from world.history import fingerprint as fp
from world.lisp.types import Pair, Symbol, make_list

VALUES = [
    "(define x '(1 2 . 3))",
    "(define x '(a (b c) [1 \"two\" #\\c 3.5] {:k (1) \"s\" 2} () #t #f))",
    "(define x '(|odd name| |a b| quote 1/3 -7 123456789012345678901234567890))",
    "(define x \"tab\\tquote\\\"back\\\\ \\xe9;\")",
    "(define x (expt 10 400))",
    "(define (f n) \"Doc.\" (let loop ((k 0)) (if (> k n) k (loop (+ k 1)))))",
    "(define x (let ((b (box 1))) (list (lambda () (unbox b)) (lambda () (set-box! b 2)))))",
    "(define x (letrec ((ev? (lambda (n) (if (= n 0) #t (od? (- n 1)))))"
    " (od? (lambda (n) (if (= n 0) #f (ev? (- n 1)))))) ev?))",
    "(define-record point x y) (define x (list (make-point 1 2) point car))",
    "(define x (list (list 1 2) (vector) {} '|.|))",
    "(define x '" + "(" * 30 + "1 \"s\" #t ()" + ")" * 30 + ")",
    "(define x (list 1 (list 2 (list car (lambda () 1) '(a . b)))))",
]


def test_the_fast_walk_gives_the_reference_text_for_every_kind_of_value() -> None:
    w = world.open()
    for text in VALUES:
        w.eval(text)
        value = w.eval("x") if "(define x" in text else w.eval("f")
        assert fp._walk(value) == fp._capped(value), text


def test_a_value_past_the_cap_and_a_cycle_are_fingerprinted_by_the_reference() -> None:
    long = make_list(range(fp.CAP // 2))
    assert fp._walk(long) is None
    assert fp.fingerprint(long) == fp._capped(long)
    cyc = Pair(Symbol("a"), None)
    cyc.cdr = cyc
    assert fp.fingerprint(cyc) == fp._capped(cyc)
    deep = None
    for _ in range(fp.CAP):
        deep = Pair(deep, None)
    assert fp.fingerprint(deep) == fp._capped(deep)


atoms = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(),
                  st.floats(allow_nan=False), st.sampled_from([Symbol("a"), Symbol("b c"),
                                                               Symbol("|"), Symbol("1")]))
values = st.recursive(atoms, lambda inner: st.one_of(
    st.lists(inner, max_size=5).map(make_list),
    st.tuples(inner, inner).map(lambda ab: Pair(ab[0], ab[1])),
    st.lists(inner, max_size=4).map(tuple)), max_leaves=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_generated_data_walks_the_same_both_ways(value: object) -> None:
    assert fp._walk(value) == fp._capped(value)


def test_the_cap_is_counted_as_the_reference_counts_it() -> None:
    for n in range(fp.CAP // 4 - 3, fp.CAP // 4 + 3):      # a list of atoms near the cap
        value = make_list(range(n))
        assert fp.fingerprint(value) == fp._capped(value), n
        nested = make_list([make_list(range(n - 2))])
        assert fp.fingerprint(nested) == fp._capped(nested), n
