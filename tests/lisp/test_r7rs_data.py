"""R7RS-small data (report 6.1-6.9) as the world reads, prints, stores and meters it.

Each row runs in a fresh world; the expected value is its canonical text.
Where the world chose differently (immutable pairs, vectors, strings and
bytevectors), the R7RS mutator must fail with one line saying what to write.
"""
from __future__ import annotations

import pytest

import world
from world.lisp.errors import BudgetExceeded, EvalError, LispError, LispTypeError, ReadError
from world.lisp.reader import read
from world.lisp.printer import write
from world.lisp.types import equal


def ev(source: str) -> str:
    return world.write(world.open(out=lambda t: None).eval(source))


def err(source: str) -> LispError:
    with pytest.raises(LispError) as info:
        world.open(out=lambda t: None).eval(source)
    assert "\n" not in str(info.value)
    return info.value


VALUES = [
    # vectors: #(...) is the same vector as [...]
    ("#(1 2 3)", "[1 2 3]"), ("'#(a #(b) \"c\")", "[a [b] \"c\"]"), ("(equal? #(1 2) [1 2])", "#t"),
    ("(vector? #())", "#t"), ("(vector->list #(1 2 3 4) 1 3)", "(2 3)"),
    ("(vector-copy #(1 2 3) 1)", "[2 3]"), ("(vector-append #(1) #(2 3))", "[1 2 3]"),
    ("(list->vector '(1 2))", "[1 2]"), ("(vector->string #(#\\a #\\b #\\c) 1)", '"bc"'),
    ("(string->vector \"abc\" 0 2)", "[#\\a #\\b]"), ("(make-vector 2 'x)", "[x x]"),
    ("(vector-set #(1 2 3) 1 'b)", "[1 b 3]"),
    # numbers: prefixes in any order, exactness
    ("#x1F", "31"), ("#X-ff", "-255"), ("#b101", "5"), ("#o17", "15"), ("#d10", "10"),
    ("#e1.25", "5/4"), ("#i3/4", "0.75"), ("#x#e10", "16"), ("#e#x10", "16"), ("#i#b1", "1.0"),
    ("(exact 2.5)", "5/2"), ("(inexact 1/4)", "0.25"), ("(exact->inexact 1/2)", "0.5"),
    ("(exact-integer? 5)", "#t"), ("(exact-rational? 1/3)", "#t"), ("(exact-rational? 0.5)", "#f"),
    ("(nan? +nan.0)", "#t"), ("(infinite? -inf.0)", "#t"), ("(finite? 1.0)", "#t"),
    ("(floor-quotient -7 2)", "-4"), ("(floor-remainder -7 2)", "1"),
    ("(truncate-quotient -7 2)", "-3"), ("(truncate-remainder -7 2)", "-1"),
    ("(floor-remainder 7.0 -2)", "-1.0"),
    ("(numerator 6/4)", "3"), ("(denominator 6/4)", "2"),
    ("(rationalize 1/3 1/100)", "1/3"), ("(rationalize (exact .3) 1/10)", "1/3"),
    ("(rationalize .3 1/10)", "0.3333333333333333"), ("(rationalize -5/7 1/1000)", "-5/7"),
    ("(rationalize 1/2 1)", "0"), ("(rationalize 3 +inf.0)", "0.0"),
    ("(number->string 255 16)", '"ff"'), ("(string->number \"#b101\")", "5"),
    ("(string->number \"ff\" 16)", "255"),
    # characters
    ("#\\x41", "#\\A"), ("#\\space", "#\\space"), ("#\\newline", "#\\newline"),
    ("(char->integer #\\A)", "65"), ("(integer->char 955)", "#\\λ"),
    ("(char-upcase #\\a)", "#\\A"), ("(char-foldcase #\\A)", "#\\a"),
    ("(char-ci=? #\\a #\\A)", "#t"), ("(char-ci<? #\\a #\\B)", "#t"), ("(char-ci>? #\\a #\\B)", "#f"),
    ("(char-ci<=? #\\a #\\A #\\b)", "#t"), ("(char-ci>=? #\\b #\\B #\\a)", "#t"),
    ("(char-alphabetic? #\\a)", "#t"), ("(digit-value #\\7)", "7"), ("(digit-value #\\a)", "#f"),
    # strings
    ("(string-foldcase \"Straße\")", '"strasse"'), ("(string-upcase \"abc\")", '"ABC"'),
    ("(string-ci<? \"abc\" \"ABD\")", "#t"), ("(string-ci>? \"b\" \"A\")", "#t"),
    ("(string-ci<=? \"a\" \"A\")", "#t"), ("(string-ci>=? \"a\" \"B\")", "#f"),
    ("(string->list \"abcd\" 1 3)", "(#\\b #\\c)"), ("(string-copy \"abcd\" 2)", '"cd"'),
    ("(substring \"hello\" 1 3)", '"el"'),
    # bytevectors
    ("#u8(1 2 255)", "#u8(1 2 255)"), ("#U8()", "#u8()"), ("(bytevector 1 2)", "#u8(1 2)"),
    ("(bytevector? #u8())", "#t"), ("(bytevector? #(1))", "#f"), ("(make-bytevector 2 9)", "#u8(9 9)"),
    ("(bytevector-length #u8(1 2 3))", "3"), ("(bytevector-u8-ref #u8(5 6) 1)", "6"),
    ("(bytevector-u8-set #u8(5 6) 0 7)", "#u8(7 6)"), ("(bytevector-copy #u8(1 2 3) 1)", "#u8(2 3)"),
    ("(bytevector-append #u8(1) #u8() #u8(2))", "#u8(1 2)"),
    ("(utf8->string #u8(65 206 187))", '"Aλ"'), ("(string->utf8 \"Aλ\")", "#u8(65 206 187)"),
    ("(utf8->string #u8(65 66 67) 1 2)", '"B"'), ("(equal? #u8(1) (bytevector 1))", "#t"),
    ("(get {#u8(1) 'one} (bytevector 1))", "one"),
    # symbols
    ("(symbol=? 'a 'a 'a)", "#t"), ("(symbol=? 'a 'b)", "#f"),
    ("(string->symbol \"odd name\")", "|odd name|"), ("'|odd name|", "|odd name|"),
    ("(symbol->string '|a b|)", '"a b"'),
]


@pytest.mark.parametrize("source,expected", VALUES)
def test_value(source: str, expected: str) -> None:
    assert ev(source) == expected


def test_floor_and_truncate_return_two_values() -> None:
    assert ev("(call-with-values (lambda () (floor/ -7 2)) list)") == "(-4 1)"
    assert ev("(call-with-values (lambda () (truncate/ -7 2)) list)") == "(-3 -1)"
    assert ev("(call-with-values (lambda () (exact-integer-sqrt 17)) list)") == "(4 1)"


REFUSED = ["(vector-set! (vector 1 2) 0 9)", "(vector-fill! (vector 1) 0)",
           "(vector-copy! (vector 1 2) 0 #(3))", "(set-car! (list 1) 2)", "(set-cdr! (list 1) 2)",
           "(string-set! (string #\\a) 0 #\\b)", "(string-fill! \"a\" #\\b)", "(string-copy! \"ab\" 0 \"c\")",
           "(bytevector-u8-set! (bytevector 1) 0 2)", "(bytevector-copy! #u8(1) 0 #u8(2))",
           "(list-set! (list 1) 0 2)"]


@pytest.mark.parametrize("source", REFUSED)
def test_mutators_of_immutable_values_say_what_to_write(source: str) -> None:
    e = err(source)
    assert isinstance(e, EvalError)
    assert "immutable in this world" in str(e) and "(" in str(e).split("world;")[1]


def test_refused_mutation_leaves_the_value() -> None:
    w = world.open(out=lambda t: None)
    w.eval("(define v #(1 2 3))")
    with pytest.raises(EvalError):
        w.eval("(vector-set! v 0 9)")
    assert w.eval("(set! v (vector-set v 0 9)) v") == (9, 2, 3)


ROUND_TRIPS = ["#(1 #(2) [3])", "#u8(0 127 255)", "#u8()", "#\\x7f", "#\\alarm", "#\\x0",
               "(#u8(1) . #u8(2))", "{#u8(1) #u8(2)}", "#\\λ", "|a b|"]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_read_write_read_is_equal(text: str) -> None:
    x = read(text)
    assert equal(read(write(x)), x)
    assert write(read(write(x))) == write(x)


BAD_SYNTAX = [("#(1 2", 1, 1), ("(a\n  #u8(1 256))", 2, 9), ("#\\bogus", 1, 1), ("(x #xZZ)", 1, 4),
              ("#u8(1 2", 1, 1), ("#u8(a)", 1, 5), ("  #e#e1", 1, 3), ("#(1 . 2)", 1, 5),
              ("#u8[1]", 1, 1)]


@pytest.mark.parametrize("text,line,col", BAD_SYNTAX)
def test_bad_syntax_names_line_and_column(text: str, line: int, col: int) -> None:
    with pytest.raises(ReadError) as info:
        read(text)
    assert (info.value.line, info.value.col) == (line, col)


HUGE = ["(make-vector 1000000000)", "(make-bytevector 1000000000 0)",
        "(string->vector (make-string 20000000 #\\a))", "(read \"#x1\" )",
        "(let loop ((b #u8(1)) (i 0)) (if (< i 40) (loop (bytevector-append b b) (+ i 1)) b))"]


@pytest.mark.parametrize("source", HUGE[:3] + HUGE[4:])
def test_huge_inputs_refused_within_budget(source: str) -> None:
    assert isinstance(err(source), BudgetExceeded)


def test_huge_prefixed_literal_is_a_read_error() -> None:
    with pytest.raises(ReadError):
        read("#x" + "f" * 300_000)
    assert isinstance(err('(string->number (string-append "#x" (make-string 300000 #\\f)))'),
                      BudgetExceeded)


def test_type_errors_name_the_procedure() -> None:
    assert "bytevector-u8-ref" in str(err("(bytevector-u8-ref #(1) 0)"))
    assert isinstance(err("(bytevector 256)"), LispTypeError)
    assert "not UTF-8" in str(err("(utf8->string #u8(255))"))
    assert isinstance(err("(vector->string #(1))"), LispTypeError)
    assert isinstance(err("(symbol=? 'a \"a\")"), LispTypeError)


def test_bytevectors_and_vectors_persist_across_reopen(tmp_path) -> None:
    path = tmp_path / "w.fs"
    w = world.open(path, out=lambda t: None)
    w.eval("(define bv #u8(1 2 255))")
    w.eval("(define v #(1 #u8(3) #\\x41))")
    w.eval("(define (f) #u8(7 8))")
    w.close()
    w = world.open(path, out=lambda t: None)
    assert w.eval("bv") == bytes([1, 2, 255])
    assert world.write(w.eval("v")) == "[1 #u8(3) #\\A]"
    assert w.eval("(f)") == bytes([7, 8])
    assert w.eval("(history/verify)") is not False
    w.close()


def test_fingerprint_tells_bytevectors_apart() -> None:
    from world.history.fingerprint import fingerprint
    assert fingerprint(bytes([1, 2])) != fingerprint(bytes([1, 3]))
    assert fingerprint(bytes([1, 2])) != fingerprint((1, 2))
    assert fingerprint(bytes([1, 2])) == fingerprint(bytes([1, 2]))
