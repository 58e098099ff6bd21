"""A hypothesis fuzz of every primitive a session can be granted: random and deep
arguments, called through the evaluator under small budgets. Each call ends as a
value or a `LispError` (never an InternalError or another Python exception) in
bounded time, and the world still answers afterwards.

Deterministic (a fixed seed per primitive): the same examples run on every machine. The
`image` and `host` groups (files, the clock) and `internal` are left out; the
primitives that need a world get a fresh one each.
"""
from __future__ import annotations

import inspect
import os
import time
import zlib
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import world
from world.lisp.budget import Limits
from world.lisp.errors import LispError
from world.lisp.primitives import GROUPS, load
from world.lisp.types import VOID, Box, Char, Keyword, LispMap, Pair, Symbol, make_list

LIMITS = Limits(steps=200_000, seconds=2.0, memory=64 * 1024 * 1024)
FUZZED = ("core", "output", "reflect", "evaluator", "eval", "audit")
EXAMPLES = int(os.environ.get("WORLD_FUZZ_EXAMPLES", 20))   # per primitive; CI: under a minute
WALL = 10.0             # seconds one call may take, watchdog included (its limit is 2 s)
QUOTE = Symbol("quote")

load()
import world.session  # noqa: E402,F401  (registers the world's own primitives)

NAMES = sorted(n for g in FUZZED for n in GROUPS.get(g, ()))


# ---------------------------------------------------------------- Lisp values

def deep_list(n: int) -> Any:
    x = None
    for _ in range(n):
        x = Pair(x, None)
    return x


def deep_vector(n: int) -> Any:
    x: Any = ()
    for _ in range(n):
        x = (x,)
    return x


def dag(n: int) -> Any:
    """A list whose 2^n paths share n cells."""
    x = make_list([1])
    for _ in range(n):
        x = Pair(x, Pair(x, None))
    return x


ints = st.one_of(st.integers(-1000, 1000), st.integers(),
                 st.sampled_from([2 ** 64, -(2 ** 64), 10 ** 400, 2 ** 90_000 + 1, -(3 ** 40_000)]))
floats = st.floats(allow_nan=True, allow_infinity=True)
fractions = st.fractions(max_denominator=10 ** 30).filter(lambda f: f.denominator != 1)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
atoms = st.one_of(
    ints, floats, fractions, text,
    text.map(Symbol), text.map(Keyword), st.characters(blacklist_categories=("Cs",)).map(Char),
    st.booleans(), st.just(VOID), st.none(),
    st.sampled_from(["car", "+", "list", "<", "display"]).map(lambda n: ("prim", n)),
    st.sampled_from(["(lambda (x) x)", "(lambda args args)", "(lambda (a b) (< a b))",
                     "(lambda (x) (car x))"]).map(lambda s: ("lambda", s)),
)
values = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(lambda xs: ("list", xs)),
        st.lists(inner, max_size=5).map(lambda xs: ("vector", xs)),
        st.lists(st.tuples(inner, inner), max_size=4).map(lambda kv: ("map", kv)),
        st.tuples(inner, inner).map(lambda p: ("cons", p)),
        inner.map(lambda x: ("box", x)),
    ),
    max_leaves=12,
)
big = st.one_of(
    st.integers(0, 3000).map(lambda n: ("deep-list", n)),
    st.integers(0, 3000).map(lambda n: ("deep-vector", n)),
    st.integers(0, 60).map(lambda n: ("dag", n)),
    st.integers(0, 100_000).map(lambda n: ("long", n)),
)
shapes = st.one_of(atoms, values, big)


def build(w: Any, shape: Any) -> Any:
    """The Lisp value a generated shape describes (procedures made in world `w`)."""
    if type(shape) is not tuple:
        return shape
    tag, x = shape
    if tag == "prim":
        return load()[x]
    if tag == "lambda":
        return w.eval(x)
    if tag == "list":
        return make_list([build(w, v) for v in x])
    if tag == "vector":
        return tuple(build(w, v) for v in x)
    if tag == "map":
        return LispMap((build(w, k), build(w, v)) for k, v in x)
    if tag == "cons":
        return Pair(build(w, x[0]), build(w, x[1]))
    if tag == "box":
        return Box(build(w, x))
    if tag == "deep-list":
        return deep_list(x)
    if tag == "deep-vector":
        return deep_vector(x)
    if tag == "dag":
        return dag(x)
    if tag == "long":
        return make_list(range(x))
    raise AssertionError(tag)


def arity(name: str) -> tuple[int, int]:
    """How many arguments the primitive takes (at most 4 asked for)."""
    try:
        params = inspect.signature(load()[name].fn).parameters.values()
    except (TypeError, ValueError):
        return 0, 4
    lo = sum(1 for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD)
    rest = any(p.kind is p.VAR_POSITIONAL for p in params)
    return min(lo, 4), 4 if rest else min(len(params), 4)


def call(name: str, args: list[Any]) -> Any:
    """The form `(name 'arg ...)`."""
    return make_list([Symbol(name), *(make_list([QUOTE, a]) for a in args)])


# ---------------------------------------------------------------- the fuzz

@pytest.mark.parametrize("name", NAMES)
def test_every_primitive_ends_in_a_value_or_a_lisp_error(name: str) -> None:
    w = world.open(limits=LIMITS, out=lambda text: None)
    try:
        fuzz(w, name)
    finally:
        w.close()


def fuzz(w: Any, name: str) -> None:
    lo, hi = arity(name)

    @seed(zlib.crc32(name.encode()))        # deterministic, and different for each primitive
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.lists(shapes, max_size=4), st.lists(shapes, min_size=lo, max_size=hi)))
    def one(shapes: list[Any]) -> None:
        args = [build(w, s) for s in shapes]
        t = time.monotonic()
        try:
            w.eval_form(call(name, args))
        except LispError as e:
            assert "\n" not in str(e), str(e)[:300]
        took = time.monotonic() - t
        assert took < WALL, f"({name} ...) took {took:.1f} s"
        assert w.eval("(+ 1 2)") == 3       # the world still answers

    one()


def test_the_fuzz_covers_every_fuzzed_group() -> None:
    assert len(NAMES) > 200 and "car" in NAMES and "eval" in NAMES and "history/log" in NAMES
    assert not {"world/save-dev", "world/info", "%record-make"} & set(NAMES)


def test_deep_and_shared_arguments_are_built_as_described() -> None:
    assert world.write(deep_list(3)) == "(((())))"
    assert world.write(dag(2)) == "(((1) (1)) ((1) (1)))"
    assert build(None, ("map", [(1, Fraction(1, 2))])) == LispMap([(1, Fraction(1, 2))])
