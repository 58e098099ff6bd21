"""Printer tests: tables of (value, text), the round-trip data file, and a
property test that `read` inverts `write`."""
from __future__ import annotations

import math
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from world.lisp.printer import display, write
from world.lisp.reader import read
from world.lisp.types import (VOID, Box, Char, Closure, Continuation, ErrorObject,
                              Keyword, LispMap, Pair, Primitive, Record, RecordType,
                              Symbol, Template, equal, make_list)

S = Symbol
K = Keyword
ROUNDTRIP = Path(__file__).parent / "data" / "roundtrip.txt"


def L(*items):
    return make_list(items)


WRITES = [
    # numbers
    (0, "0"), (-12, "-12"), (10 ** 30, "1" + "0" * 30), (Fraction(1, 2), "1/2"),
    (Fraction(-3, 4), "-3/4"), (Fraction(4, 1), "4"), (1.0, "1.0"), (-0.5, "-0.5"),
    (1e100, "1e+100"), (1e-5, "1e-05"), (math.inf, "+inf.0"), (-math.inf, "-inf.0"),
    (math.nan, "+nan.0"),
    # booleans, empty list
    (True, "#t"), (False, "#f"), (None, "()"),
    # strings
    ("", '""'), ("abc", '"abc"'), ("a\nb", '"a\\nb"'), ("\t\r", '"\\t\\r"'),
    ('say "hi"', '"say \\"hi\\""'), ("back\\slash", '"back\\\\slash"'),
    ("\a\0\x7f", '"\\x07;\\x00;\\x7f;"'), ("λ", '"λ"'), ("\u200b", '"\\x200b;"'),
    ("\xa0", '"\\xa0;"'),
    # characters
    (Char("a"), "#\\a"), (Char(" "), "#\\space"), (Char("\n"), "#\\newline"),
    (Char("\t"), "#\\tab"), (Char("\0"), "#\\nul"), (Char("\r"), "#\\return"),
    (Char("\a"), "#\\x07"), (Char("\x7f"), "#\\x7f"), (Char("("), "#\\("), (Char("x"), "#\\x"),
    (Char("λ"), "#\\λ"),
    # symbols and keywords
    (S("a"), "a"), (S("world/save"), "world/save"), (S("+"), "+"), (S("..."), "..."),
    (S("1+"), "1+"), (S("a b"), "|a b|"), (S(""), "||"), (S("a|b"), "|a\\|b|"),
    (S("a|\\"), "|a\\|\\\\|"), (S("12"), "|12|"), (S("-1.5"), "|-1.5|"), (S("1/2"), "|1/2|"),
    (S("1/0"), "|1/0|"), (S("+nan.0"), "|+nan.0|"), (S("#t"), "|#t|"), (S(":a"), "|:a|"),
    (S("."), "|.|"), (S("a(b"), "|a(b|"), (S("a;b"), "|a;b|"), (S("a'b"), "|a'b|"),
    (S('a"b'), '|a"b|'), (S("a,b"), "|a,b|"), (S("[x]"), "|[x]|"), (S("{x}"), "|{x}|"),
    (S("tab\t"), "|tab\\t|"), (S("\x01"), "|\\x01;|"),
    (K("temp"), ":temp"), (K("a b"), ":|a b|"), (K(""), ":||"), (K("1"), ":1"),
    # lists
    (L(1, 2, 3), "(1 2 3)"), (Pair(1, 2), "(1 . 2)"), (Pair(1, Pair(2, 3)), "(1 2 . 3)"),
    (L(None), "(())"), (Pair(1, (2,)), "(1 . [2])"), (L(L(1), L(2, L(3))), "((1) (2 (3)))"),
    (L(S("quote"), S("x")), "'x"), (L(S("quasiquote"), S("x")), "`x"),
    (L(S("unquote"), S("x")), ",x"), (L(S("unquote-splicing"), S("x")), ",@x"),
    (L(S("quote"), L(S("quote"), L(1, 2))), "''(1 2)"),
    (L(S("quote")), "(quote)"), (L(S("quote"), 1, 2), "(quote 1 2)"),
    (Pair(S("quote"), S("x")), "(quote . x)"), (L(S("unquote"), S("@x")), "(unquote @x)"),
    (L(S("a"), L(S("quote"), S("b"))), "(a 'b)"),
    # vectors and maps
    ((), "[]"), ((1, "a", S("b")), '[1 "a" b]'), (((1,), L(2)), "[[1] (2)]"),
    (LispMap(), "{}"), (LispMap([(K("b"), 2), (K("a"), 1)]), "{:a 1 :b 2}"),
    (LispMap([(1, "int"), (1.0, "float"), (True, "bool")]), '{#t "bool" 1 "int" 1.0 "float"}'),
    (LispMap([(K("m"), LispMap([(K("z"), 1), (K("y"), (2,))]))]), "{:m {:y [2] :z 1}}"),
]


@pytest.mark.parametrize("value, text", WRITES)
def test_write(value, text):
    assert write(value) == text


def _reads_back_equal(v):
    """False for NaN (never equal to itself) and for a Fraction that is whole."""
    return not (type(v) is float and math.isnan(v)
                or type(v) is Fraction and v.denominator == 1)


@pytest.mark.parametrize("value, text", [vt for vt in WRITES if _reads_back_equal(vt[0])])
def test_written_text_reads_back(value, text):
    assert equal(read(text), value)


DISPLAYS = [
    ("a\nb", "a\nb"), (Char("a"), "a"), (Char(" "), " "), (S("a b"), "a b"),
    (K("a b"), ":a b"), (L("x", Char("y"), S("z")), "(x y z)"), (("s",), "[s]"),
    (LispMap([("k", "v")]), "{k v}"), (42, "42"), (L(S("quote"), "q"), "'q"),
    (ErrorObject("boom", L("x", 1)), '#<error "boom" x 1>'),
]


@pytest.mark.parametrize("value, text", DISPLAYS)
def test_display(value, text):
    assert display(value) == text


def _point(x, y):
    return Record(RecordType("point", ("x", "y")), [x, y])


UNREADABLE = [
    (VOID, "#<void>"),
    (Closure(lambda: 1, Template(L(S("lambda"), None, 1), "square", ())), "#<procedure square>"),
    (Closure(lambda: 1, Template(None, "", ())), "#<procedure>"),
    (Primitive("car", lambda x: x), "#<primitive car>"),
    (Continuation(lambda x: x), "#<continuation>"),
    (ErrorObject("bad \"x\"", L(1, "a", S("b"))), '#<error "bad \\"x\\"" 1 "a" b>'),
    (ErrorObject("plain"), '#<error "plain">'),
    (_point(1, L(2, 3)), "#<point x=1 y=(2 3)>"),
    (Record(RecordType("empty", ()), []), "#<empty>"),
    (RecordType("point", ("x", "y")), "#<record-type point>"),
    (Box(42), "#<box 42>"),
    (Box(Box("s")), '#<box #<box "s">>'),
    (L(Box(1), VOID), "(#<box 1> #<void>)"),
    (object(), "#<object>"),
    ([1, 2], "#<list>"),
    ({"a": 1}, "#<dict>"),
    (1j, "#<complex>"),
]


@pytest.mark.parametrize("value, text", UNREADABLE)
def test_write_unreadable(value, text):
    assert write(value) == text
    assert "0x" not in write(value)


# ---------------------------------------------------------------- round trip

def _roundtrip_lines():
    return [line for line in ROUNDTRIP.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize("text", _roundtrip_lines())
def test_roundtrip_file(text):
    assert write(read(text)) == text


def _names():
    return st.text(max_size=6) | st.sampled_from(["a", "quote", "unquote", "@x", "1", ".", "#t", "a|b"])


_fractions = st.fractions().map(lambda q: q.numerator if q.denominator == 1 else q)
_atoms = (st.integers() | st.integers(min_value=-10 ** 40, max_value=10 ** 40) | _fractions
          | st.floats(allow_nan=False) | st.booleans() | st.none() | st.text()
          | st.characters(exclude_categories=("Cs",)).map(Char) | _names().map(Symbol)
          | _names().map(Keyword))   # a character is a Unicode scalar value: no lone surrogates
_keys = (st.integers() | st.text(max_size=4) | _names().map(Keyword) | st.booleans()
         | st.floats(allow_nan=False))


def _compound(children):
    return (st.lists(children, max_size=5).map(make_list)
            | st.tuples(st.lists(children, min_size=1, max_size=4), children)
                .map(lambda t: make_list(t[0], t[1]))
            | st.lists(children, max_size=5).map(tuple)
            | st.lists(st.tuples(_keys, children), max_size=4).map(LispMap)
            | st.tuples(st.sampled_from(["quote", "quasiquote", "unquote", "unquote-splicing"]),
                        children).map(lambda t: make_list([Symbol(t[0]), t[1]])))


_values = st.recursive(_atoms, _compound, max_leaves=30)


@settings(max_examples=400, deadline=None, database=None)
@given(_values)
def test_read_inverts_write(v):
    text = write(v)
    back = read(text)
    assert equal(back, v), f"{text} read as {write(back)}"
    assert write(back) == text


# ---------------------------------------------------------------- maps, cycles, size

def test_equal_maps_print_identically():
    pairs = [(K("b"), 2), ("s", 1), (3, (4,)), (K("a"), L(1)), (True, False)]
    one, two = LispMap(pairs), LispMap(reversed(pairs))
    assert write(one) == write(two) == '{"s" 1 #t #f 3 [4] :a (1) :b 2}'
    grown = LispMap().assoc(K("z"), 1).assoc(K("a"), 2)
    assert write(grown) == write(LispMap([(K("a"), 2), (K("z"), 1)])) == "{:a 2 :z 1}"


def test_box_cycle():
    b = Box()
    b.v = b
    assert write(b) == "#<box #<cycle>>"
    c = Box()
    c.v = L(1, c)
    assert write(c) == "#<box (1 #<cycle>)>"


def test_record_cycle():
    r = _point(1, None)
    r.set_field(1, (r,))
    assert write(r) == "#<point x=1 y=[#<cycle>]>"


def test_cycle_through_map_key():
    b = Box()
    m = LispMap([(b, 1)])
    b.v = m
    assert write(m) == "{#<box {#<cycle> 1}> 1}"


def test_shared_box_is_not_a_cycle():
    b = Box(7)
    assert write(L(b, b, Box(b))) == "(#<box 7> #<box 7> #<box #<box 7>>)"


def test_long_list_without_recursion():
    n = 1_000_000
    v = make_list(list(range(n)))
    text = write(v)
    assert text.startswith("(0 1 2 ") and text.endswith(f" {n - 1})")
    nested = make_list([L(i) for i in range(100_000)])
    assert write(nested).startswith("((0) (1) ")


def test_deep_nesting_without_recursion():
    v = None
    for _ in range(200_000):
        v = Pair(v, None)
    text = write(v)
    assert text == "(" * 200_000 + "()" + ")" * 200_000
    v = 1
    for _ in range(100_000):
        v = (Box(v),)
    assert write(v) == "[#<box " * 100_000 + "1" + ">]" * 100_000


def test_big_integers_past_python_digit_limit():
    n = 7 ** 20_000
    assert read(write(n)) == n
    assert read(write(-n)) == -n
    assert write(Fraction(n, 2)).endswith("/2")


def test_write_is_fast():
    v = make_list(list(range(100_000)))
    # CPU time, loosely bounded: this catches quadratic printing (seconds), not load on the machine.
    best = min(_timed(write, v) for _ in range(3))
    assert best < 0.5


def _timed(f, v):
    t = time.process_time()
    f(v)
    return time.process_time() - t
