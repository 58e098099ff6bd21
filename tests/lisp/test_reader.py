"""Reader tests: tables of (source, expected value or error class)."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest

from world.lisp.errors import IncompleteInput, ReadError
from world.lisp.printer import write
from world.lisp.reader import is_complete, read, read_all, read_spans
from world.lisp.types import Char, Keyword, LispMap, Pair, Symbol, equal, make_list

S = Symbol
K = Keyword


def L(*items):
    return make_list(items)


def Q(name, x):
    return L(S(name), x)


# ---------------------------------------------------------------- values

READS = [
    # integers
    ("42", 42), ("-12", -12), ("+5", 5), ("0", 0), ("-0", 0), ("007", 7),
    ("123456789012345678901234567890", 123456789012345678901234567890),
    # rationals, normalized
    ("1/2", Fraction(1, 2)), ("-3/6", Fraction(-1, 2)), ("+2/4", Fraction(1, 2)),
    ("4/2", 2), ("0/5", 0), ("1/0", ReadError),
    # floats
    ("1.5", 1.5), ("-0.5", -0.5), ("1e10", 1e10), ("1E3", 1000.0), (".5", 0.5),
    ("-.5", -0.5), ("1.", 1.0), ("2.5e-3", 0.0025), ("1e+100", 1e100),
    ("+inf.0", math.inf), ("-inf.0", -math.inf),
    # things that look like numbers but are symbols
    ("1+", S("1+")), ("-", S("-")), ("+", S("+")), ("...", S("...")), ("1/2/3", S("1/2/3")),
    ("1e", S("1e")), ("1.2.3", S("1.2.3")), ("inf", S("inf")), ("+inf", S("+inf")),
    ("1/-2", S("1/-2")), ("-a", S("-a")), (".a", S(".a")), ("١٢", S("١٢")),
    # strings
    ('"abc"', "abc"), ('""', ""), ('"a\\nb"', "a\nb"), ('"\\t\\r\\\\\\""', '\t\r\\"'),
    ('"\\a\\0"', "\a\0"), ('"\\x41;\\x3bb;"', "A\u03bb"), ('"\\x41"', ReadError),
    ('"a\\qb"', ReadError), ('"a\\\n    b"', "ab"), ('"line\nbreak"', "line\nbreak"),
    ('"λ ok"', "λ ok"), ('"(;)"', "(;)"),
    # characters
    ("#\\a", Char("a")), ("#\\space", Char(" ")), ("#\\newline", Char("\n")),
    ("#\\tab", Char("\t")), ("#\\nul", Char("\0")), ("#\\return", Char("\r")),
    ("#\\x41", Char("A")), ("#\\x", Char("x")), ("#\\X", Char("X")), ("#\\(", Char("(")),
    ("#\\)", Char(")")), ("#\\;", Char(";")), ("#\\\"", Char('"')), ("#\\λ", Char("λ")),
    ("#\\alarm", Char("\a")), ("#\\delete", Char("\x7f")), ("#\\x3bb", Char("λ")),
    ("#\\foo", ReadError), ("#\\xyz", ReadError), ("#\\x110000", ReadError),
    # booleans
    ("#t", True), ("#f", False), ("#true", True), ("#false", False),
    ("#nope", ReadError), ("#", ReadError), ("#(1 2)", (1, 2)), ("#(1 2", ReadError),
    # symbols
    ("world/save", S("world/save")), ("extend-eval!", S("extend-eval!")),
    ("->x", S("->x")), ("a.b", S("a.b")), ("set-car!", S("set-car!")), ("<=?", S("<=?")),
    ("λ", S("λ")), ("a#b", S("a#b")), ("|symbol with spaces|", S("symbol with spaces")),
    ("||", S("")), ("|a\\|b|", S("a|b")), ("|1|", S("1")), ("|.|", S(".")),
    ("|\\x41;|", S("A")), (":", S(":")),
    # keywords
    (":temp", K("temp")), (":a/b", K("a/b")), ("::x", K(":x")), (":|a b|", K("a b")),
    (":||", K("")), (":1", K("1")),
    # quote abbreviations
    ("'x", Q("quote", S("x"))), ("`x", Q("quasiquote", S("x"))),
    (",x", Q("unquote", S("x"))), (",@x", Q("unquote-splicing", S("x"))),
    ("''x", Q("quote", Q("quote", S("x")))), ("' x", Q("quote", S("x"))),
    ("'(1 . 2)", Q("quote", Pair(1, 2))), ("`(a ,b ,@c)",
     Q("quasiquote", L(S("a"), Q("unquote", S("b")), Q("unquote-splicing", S("c"))))),
    # lists and dotted pairs
    ("()", None), ("( )", None), ("(1 2 3)", L(1, 2, 3)), ("(a . b)", Pair(S("a"), S("b"))),
    ("(a b . c)", Pair(S("a"), Pair(S("b"), S("c")))), ("(1 . (2 3))", L(1, 2, 3)),
    ("(1 . ())", L(1)), ("((()))", L(L(None))), ("(a .b)", L(S("a"), S(".b"))),
    ("(a ... b)", L(S("a"), S("..."), S("b"))), ("(a'b)", L(S("a"), Q("quote", S("b")))),
    # vectors
    ("[1 2 3]", (1, 2, 3)), ("[]", ()), ("[[1] (2)]", ((1,), L(2))), ("[a . b]", ReadError),
    # maps
    ("{:a 1 :b 2}", LispMap([(K("a"), 1), (K("b"), 2)])), ("{}", LispMap()),
    ('{"k" [1] (x) {}}', LispMap([("k", (1,)), (L(S("x")), LispMap())])),
    ("{:a}", ReadError), ("{:a 1 :b}", ReadError),
    # comments
    ("; hello\n42", 42), ("42 ; hello", 42), ("#| block |# 7", 7), ("#| a #| nested |# b |# 7", 7),
    ("#|x|#8", 8), ("#;1 2", 2), ("#; (a (b)) c", S("c")), ("#;#;1 2 3", 3),
    ("(1 #;2 3)", L(1, 3)), ("(1 #| 2 |# 3)", L(1, 3)), ("(1 ; 2\n 3)", L(1, 3)),
    ("[1 #;[2] 3]", (1, 3)), ("{:a #;:b 1}", LispMap([(K("a"), 1)])),
    ("(a . #;b c)", Pair(S("a"), S("c"))), ("'#;a b", Q("quote", S("b"))),
    # read ignores what follows the first form
    ("a b", S("a")), ("(a) )", L(S("a"))), ("1 (", 1),
]


@pytest.mark.parametrize("source, expected", READS)
def test_read(source, expected):
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            read(source)
    else:
        got = read(source)
        assert equal(got, expected), f"{source!r} read as {write(got)}"


def test_nan():
    assert math.isnan(read("+nan.0"))
    assert math.isnan(read("-nan.0"))


def test_big_integers_past_python_digit_limit():
    digits = "9" * 5000 + "1234567"
    assert read(digits) == int(digits[:4000]) * 10 ** 1007 + int(digits[4000:])
    assert read("-" + digits) == -read(digits)
    assert read(f"{digits}/3") == Fraction(read(digits), 3)


def test_symbols_and_keywords_are_interned():
    assert read("a") is Symbol("a")
    assert read("|a b|") is Symbol("a b")
    assert read(":temp") is Keyword("temp")
    assert read("#\\a") is Char("a")
    a, b = read("(x x)")
    assert a is b


# ---------------------------------------------------------------- errors

ERRORS = [
    # (source, error class, line, column)
    (")", ReadError, 1, 1),
    ("  ]", ReadError, 1, 3),
    ("(a\n  }", ReadError, 2, 3),
    ("(a]", ReadError, 1, 3),
    ("[a)", ReadError, 1, 3),
    ("{a 1)", ReadError, 1, 5),
    ("(. a)", ReadError, 1, 2),
    ("(a . )", ReadError, 1, 6),
    ("(a . b c)", ReadError, 1, 8),
    ("(a . b (c))", ReadError, 1, 8),
    ("(a . . b)", ReadError, 1, 6),
    (".", ReadError, 1, 1),
    ("'.", ReadError, 1, 2),
    ("[1 . 2]", ReadError, 1, 4),
    ("\n  #foo", ReadError, 2, 3),
    ("(x #u8(1 x))", ReadError, 1, 10),
    ("(#\\bogus)", ReadError, 1, 2),
    ('(display\n "a\\qb")', ReadError, 2, 4),
    ('"\\x110000;"', ReadError, 1, 2),
    ("(1/0)", ReadError, 1, 2),
    ("{:a 1 :b}", ReadError, 1, 1),
    ("(f {:a})", ReadError, 1, 4),
    ("(a ')", ReadError, 1, 5),
    ("(a #;)", ReadError, 1, 6),
    # incomplete input names the unclosed opener
    ("", IncompleteInput, 1, 1),
    ("  ; only a comment", IncompleteInput, 1, 19),
    ("(a", IncompleteInput, 1, 1),
    ("(a\n (b c)\n  [d", IncompleteInput, 3, 3),
    ("{:a (1 2)", IncompleteInput, 1, 1),
    ('(f "abc', IncompleteInput, 1, 4),
    ('"abc\\"', IncompleteInput, 1, 1),
    ("x #| abc", IncompleteInput, 1, 3),
    ("#| a #| b |# c", IncompleteInput, 1, 1),
    ("'", IncompleteInput, 1, 1),
    ("(a '", IncompleteInput, 1, 4),
    ("#;", IncompleteInput, 1, 1),
    ("|abc", IncompleteInput, 1, 1),
    ("#\\", IncompleteInput, 1, 1),
]


@pytest.mark.parametrize("source, cls, line, col", ERRORS)
def test_read_error_position(source, cls, line, col):
    with pytest.raises(ReadError) as info:
        read_all(source) or read(source)
    err = info.value
    assert type(err) is cls
    assert (err.line, err.col) == (line, col)
    assert err.loc == (line, col)


def test_error_names_source():
    with pytest.raises(ReadError) as info:
        read_all("(a b))", source="boot.lisp")
    assert info.value.source == "boot.lisp"
    assert str(info.value) == "boot.lisp:1:6: read error: unexpected )"


def test_incomplete_input_is_a_read_error():
    assert issubclass(IncompleteInput, ReadError)


def test_mismatch_message_names_the_opener():
    with pytest.raises(ReadError, match=r"\] does not match \( at 1:1"):
        read("(a]")


COMPLETE = [
    ("", True), ("   ", True), ("; c", True), ("42", True), ("(a b)", True), ("(a b) (c", False),
    ("(a (b)", False), ('"abc', False), ('"a\\"', False), ("#| x", False), ("'", False),
    ("#;", False), ("(a))", True), ("(a]", True), ("[1 2", False), ("{:a 1", False),
    ("#| #| |#", False), ("#| #| |# |#", True),
]


@pytest.mark.parametrize("source, expected", COMPLETE)
def test_is_complete(source, expected):
    assert is_complete(source) is expected


# ---------------------------------------------------------------- depth and size

def test_depth_limit_default():
    ok = "(" * 1000 + ")" * 1000
    assert read(ok) is not None
    with pytest.raises(ReadError, match="nesting deeper than 1000") as info:
        read("(" * 1001 + ")" * 1001)
    assert (info.value.line, info.value.col) == (1, 1001)
    assert type(info.value) is ReadError


@pytest.mark.parametrize("source", ["[" * 11 + "]" * 11, "'" * 11 + "x", "{:a " * 11 + "1" + "}" * 11])
def test_depth_limit_counts_every_opener(source):
    read(source, max_depth=11)
    with pytest.raises(ReadError, match="nesting deeper than 10"):
        read(source, max_depth=10)


def test_deep_nesting_is_iterative():
    n = 200_000
    v = read("(" * n + "x" + ")" * n, max_depth=n)
    depth = 0
    while type(v) is Pair:
        v = v.car
        depth += 1
    assert depth == n and v is Symbol("x")


def test_long_list():
    n = 1_000_000
    text = "(" + " ".join(map(str, range(n))) + ")"
    v = read(text)
    count = 0
    for i, x in enumerate(v):
        assert x == i
        count += 1
    assert count == n
    assert write(v) == text


# ---------------------------------------------------------------- many forms, spans, locations

def test_read_all():
    assert read_all("1 (2) ; c\n #;x [3]") == [1, L(2), (3,)]
    assert read_all("") == []
    assert read_all(" ; only a comment\n #| and a block |#") == []


def test_read_spans_keep_the_text_as_typed():
    text = " 'a ; one\n(define (f x) ; doc\n  x)  #;skip [1 2]"
    spans = read_spans(text)
    assert [text[s:e] for _, s, e in spans] == ["'a", "(define (f x) ; doc\n  x)", "[1 2]"]
    assert equal(spans[1][0], read("(define (f x) x)"))


def test_locations_on_pairs():
    v = read("(a\n  (b c)\n 'd\n   [(e)])")
    assert v.loc == (1, 1)
    # the first cell carries the list's location, each later cell its element's
    assert [v.cdr.loc, v.cdr.cdr.loc, v.cdr.cdr.cdr.loc] == [(2, 3), (3, 2), (4, 4)]
    inner = v.cdr.car
    assert inner.loc == (2, 3) and inner.cdr.loc == (2, 6)
    quoted = v.cdr.cdr.car
    assert quoted.loc == (3, 2) and quoted.car is Symbol("quote")
    in_vector = v.cdr.cdr.cdr.car[0]
    assert in_vector.loc == (4, 5)


def test_locations_count_from_the_text_start():
    forms = read_all("(a)\n\n  (b\n (c))")
    assert [f.loc for f in forms] == [(1, 1), (3, 3)]
    assert forms[1].cdr.car.loc == (4, 2)
